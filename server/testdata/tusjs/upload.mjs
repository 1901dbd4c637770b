// Uploads one photo to fieldsync's /v1/uploads with the official tus-js-client, unchanged
// (server/tusjs_test.go runs it). Settings come from the environment:
//
//   TUS_ENDPOINT    http://127.0.0.1:port/v1/uploads
//   TUS_TOKEN       bearer token of a logged-in inspector
//   TUS_FILE        path of the photo
//   TUS_PHOTO_ID    photo_id metadata (uuid)
//   TUS_SHA256      sha256 metadata (hex of the whole file)
//   TUS_CHUNK_SIZE  bytes per PATCH; empty = tus-js-client's default (the whole file in one PATCH)
//   TUS_MODE        "upload" (default): one upload start to finish;
//                   "resume": start, abort() once onProgress passes half the file (one byte
//                   into the chunk after it, so a PATCH is on the wire), then a new
//                   Upload finds the first one's URL (findPreviousUploads on a URL storage) and
//                   resumes it.
//
// It prints one JSON object on stdout: {"ok":true,...} or {"ok":false,"error":...}, and exits 0
// either way once it has printed (the Go test reads the JSON); 2 on bad settings.
import { readFileSync } from 'node:fs'
import { Upload } from 'tus-js-client'

function setting(name, required = true) {
  const v = process.env[name] ?? ''
  if (required && v === '') {
    console.error(`upload.mjs: ${name} is not set`)
    process.exit(2)
  }
  return v
}

const endpoint = setting('TUS_ENDPOINT')
const token = setting('TUS_TOKEN')
const file = readFileSync(setting('TUS_FILE'))
const photoId = setting('TUS_PHOTO_ID')
const sha256 = setting('TUS_SHA256')
const chunkSize = setting('TUS_CHUNK_SIZE', false)
const mode = setting('TUS_MODE', false) || 'upload'
const abortDelay = Number(process.env.TUS_ABORT_DELAY_MS || '0')

// An in-memory URL storage (tus-js-client's Node default stores nothing): what a phone keeps
// on disk to find an interrupted upload again.
class MemoryUrlStorage {
  constructor() {
    this.items = new Map()
    this.next = 0
  }
  async findAllUploads() {
    return [...this.items.values()]
  }
  async findUploadsByFingerprint(fp) {
    return [...this.items.values()].filter((u) => u.fingerprint === fp)
  }
  async removeUpload(key) {
    this.items.delete(key)
  }
  async addUpload(fp, upload) {
    const key = `tus::${fp}::${this.next++}`
    this.items.set(key, { ...upload, fingerprint: fp, urlStorageKey: key })
    return key
  }
}

const urlStorage = new MemoryUrlStorage()

// run performs one Upload and resolves with what it saw. abortAt (bytes) aborts it once
// onProgress reaches that many; it then resolves with aborted: true.
function run({ resume = false, abortAt = Infinity } = {}) {
  const seen = {
    requests: [], // [method, Upload-Offset sent, status, Upload-Offset answered]
    progress: 0,
    chunks: 0,
    accepted: 0, // bytes the server acknowledged in this run (sum of onChunkComplete sizes)
    acknowledgedAtAbort: null,
    sentAtAbort: null,
    resumedFrom: null, // the Upload-Offset of this run's first PATCH
  }
  return new Promise((resolve) => {
    const opts = {
      endpoint,
      metadata: { photo_id: photoId, sha256, filename: 'site.jpg', content_type: 'image/jpeg' },
      headers: { Authorization: `Bearer ${token}` },
      retryDelays: [0, 200, 1000, 3000],
      urlStorage,
      onBeforeRequest(req) {
        if (req.getMethod() === 'PATCH' && seen.resumedFrom === null) {
          seen.resumedFrom = Number(req.getHeader('Upload-Offset'))
        }
      },
      onAfterResponse(req, res) {
        seen.requests.push([req.getMethod(), req.getHeader('Upload-Offset') ?? null, res.getStatus(),
          res.getHeader('Upload-Offset') ?? null])
      },
      onProgress(sent) {
        seen.progress = sent
        if (sent >= abortAt && seen.sentAtAbort === null) {
          seen.sentAtAbort = sent
          // Abort on the next turn of the event loop (or TUS_ABORT_DELAY_MS later): the chunk
          // is then on the wire, and the server keeps what it received of it, possibly all of it
          // before the client reads the answer (HEAD tells the resume).
          setTimeout(() => {
            seen.acknowledgedAtAbort = seen.accepted
            seen.progressAtAbort = seen.progress
            upload.abort().then(() => resolve({ ...seen, aborted: true, url: upload.url }))
          }, abortDelay)
        }
      },
      onChunkComplete(size) {
        seen.chunks++
        seen.accepted += size
      },
      onSuccess() {
        resolve({ ...seen, aborted: false, url: upload.url })
      },
      onError(err) {
        resolve({ ...seen, aborted: false, url: upload.url, error: String(err) })
      },
    }
    if (chunkSize !== '') {
      opts.chunkSize = Number(chunkSize)
    }
    const upload = new Upload(file, opts)
    const go = async () => {
      if (resume) {
        const previous = await upload.findPreviousUploads()
        if (previous.length === 0) {
          resolve({ ...seen, error: 'no previous upload found in the URL storage' })
          return
        }
        upload.resumeFromPreviousUpload(previous[0])
      }
      upload.start()
    }
    go().catch((err) => resolve({ ...seen, error: String(err) }))
  })
}

const out = { ok: false, size: file.length, mode }
try {
  if (mode === 'upload') {
    const r = await run()
    Object.assign(out, { url: r.url, error: r.error, requests: r.requests, chunks: r.chunks })
    out.ok = !r.error
  } else if (mode === 'resume') {
    // Abort one byte past the first chunk boundary at or after half the file: onProgress then
    // fires while that chunk's PATCH is on the wire, so the abort cuts a request midway.
    const half = Math.ceil(file.length / 2)
    const step = chunkSize === '' ? 1 : Number(chunkSize)
    const first = await run({ abortAt: Math.ceil(half / step) * step + 1 })
    out.first = first
    if (first.error || !first.aborted) {
      out.error = first.error ?? 'the first upload finished before it could be aborted'
    } else {
      // A phone does not come back within the same millisecond; the server is meanwhile keeping
      // the bytes of the cut request.
      await new Promise((r) => setTimeout(r, 300))
      const second = await run({ resume: true })
      out.second = second
      out.url = second.url
      out.sameUrl = second.url === first.url
      out.error = second.error
      out.ok = !second.error
    }
  } else {
    out.error = `unknown TUS_MODE ${mode}`
  }
} catch (err) {
  out.error = String(err?.stack ?? err)
}
console.log(JSON.stringify(out))
