package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models/phototest"
	"github.com/google/uuid"
)

// Helpers of the upload benchmarks (uploads_bench_test.go): distinct 8 MB photos without 8 MB
// of work each, and a plain tus client over real HTTP.

const (
	benchPhotoBytes = 8 << 20 // one phone photo
	benchChunk      = 1 << 20 // bytes per PATCH
)

var benchBase struct {
	once gosync.Once
	jpg  []byte
}

// benchJPEG is one 8 MB, 24-megapixel JPEG per test binary (it takes about a second to encode).
func benchJPEG(tb testing.TB) []byte {
	benchBase.once.Do(func() { benchBase.jpg = phototest.BigJPEG(tb, benchPhotoBytes) })
	return benchBase.jpg
}

// benchPhotos makes distinct photos from one JPEG: each is the JPEG with a comment segment of
// 16 random bytes before its end marker (still a valid JPEG, EXIF and pixels unchanged), so
// every file has its own sha256 and the server's dedup cannot skip any. All share the bytes
// before the comment; only the last chunk is each photo's own, and the hashes of the shared
// chunks and of the shared prefix are computed once.
type benchPhotos struct {
	head       []byte   // the JPEG without its end marker, shared
	chunkSums  [][]byte // sha256 of each whole chunk inside head
	lastStart  int      // where the last chunk (the one holding the comment) starts
	lastPrefix []byte   // sha256 state after head[:lastStart]
}

// benchPhoto is one distinct photo.
type benchPhoto struct {
	p       *benchPhotos
	tail    []byte // head[lastStart:] + comment + end marker: the last chunk (and maybe more)
	sha256  string
	size    int
	tailSum [][]byte // sha256 of the chunks of tail
}

func newBenchPhotos(tb testing.TB) *benchPhotos {
	jpg := benchJPEG(tb)
	if !bytes.HasSuffix(jpg, []byte{0xFF, 0xD9}) {
		tb.Fatal("the benchmark JPEG does not end with EOI")
	}
	p := &benchPhotos{head: jpg[:len(jpg)-2]}
	size := len(p.head) + 20
	p.lastStart = (size - 1) / benchChunk * benchChunk
	p.lastStart = min(p.lastStart, len(p.head)/benchChunk*benchChunk)
	for off := 0; off < p.lastStart; off += benchChunk {
		s := sha256.Sum256(p.head[off : off+benchChunk])
		p.chunkSums = append(p.chunkSums, s[:])
	}
	h := sha256.New()
	h.Write(p.head[:p.lastStart])
	p.lastPrefix, _ = h.(encoding.BinaryMarshaler).MarshalBinary()
	return p
}

// photo returns a new distinct photo.
func (p *benchPhotos) photo() *benchPhoto {
	com := []byte{0xFF, 0xFE, 0x00, 0x12}
	var r [16]byte
	_, _ = rand.Read(r[:])
	com = append(append(com, r[:]...), 0xFF, 0xD9)
	tail := append(append([]byte{}, p.head[p.lastStart:]...), com...)
	h := sha256.New()
	_ = h.(encoding.BinaryUnmarshaler).UnmarshalBinary(p.lastPrefix)
	h.Write(tail)
	ph := &benchPhoto{p: p, tail: tail, sha256: hex.EncodeToString(h.Sum(nil)), size: p.lastStart + len(tail)}
	for off := 0; off < len(tail); off += benchChunk {
		s := sha256.Sum256(tail[off:min(off+benchChunk, len(tail))])
		ph.tailSum = append(ph.tailSum, s[:])
	}
	return ph
}

// reader streams the whole photo, hiding everything but Read (as a request body would).
func (ph *benchPhoto) reader() io.Reader {
	return struct{ io.Reader }{io.MultiReader(bytes.NewReader(ph.p.head[:ph.p.lastStart]), bytes.NewReader(ph.tail))}
}

// chunk returns the i-th chunk of benchChunk bytes and its sha256; ok is false past the end.
func (ph *benchPhoto) chunk(i int) (data, sum []byte, ok bool) {
	off := i * benchChunk
	switch {
	case off < ph.p.lastStart:
		return ph.p.head[off : off+benchChunk], ph.p.chunkSums[i], true
	case off < ph.size:
		k := (off - ph.p.lastStart) / benchChunk
		t := off - ph.p.lastStart
		return ph.tail[t:min(t+benchChunk, len(ph.tail))], ph.tailSum[k], true
	}
	return nil, nil, false
}

// bytesOf returns the whole photo (for tests that need it in one piece).
func (ph *benchPhoto) bytesOf() []byte {
	return append(append([]byte{}, ph.p.head[:ph.p.lastStart]...), ph.tail...)
}

// tusClient uploads photos with tus 1.0 over real HTTP, one PATCH per chunk with its checksum.
type tusClient struct {
	base  string // http://127.0.0.1:port
	token string
	http  *http.Client
}

func newTusClient(base, token string) *tusClient {
	return &tusClient{base: base, token: token, http: &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{
		MaxIdleConns: 128, MaxIdleConnsPerHost: 128, DisableCompression: true}}}
}

func (c *tusClient) do(ctx context.Context, method, url string, body []byte, hdr ...string) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+c.token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, nil
}

// create starts an upload of ph as photo and returns its URL.
func (c *tusClient) create(ctx context.Context, photo uuid.UUID, ph *benchPhoto) (string, error) {
	res, err := c.do(ctx, "POST", c.base+"/v1/uploads", nil, "Upload-Length", strconv.Itoa(ph.size),
		"Upload-Metadata", tusMeta("photo_id", photo.String(), "sha256", ph.sha256, "filename", "bench.jpg",
			"content_type", "image/jpeg"))
	if err != nil {
		return "", err
	}
	if res.StatusCode != 201 {
		return "", fmt.Errorf("create: %s", res.Status)
	}
	return c.base + res.Header.Get("Location"), nil
}

// upload sends ph as a new photo, one PATCH per chunk, each with its Upload-Checksum.
func (c *tusClient) upload(ctx context.Context, ph *benchPhoto) error {
	url, err := c.create(ctx, uuid.New(), ph)
	if err != nil {
		return err
	}
	for i, off := 0, 0; ; i++ {
		data, sum, ok := ph.chunk(i)
		if !ok {
			return nil
		}
		res, err := c.do(ctx, "PATCH", url, data, "Content-Type", offsetStream, "Upload-Offset", strconv.Itoa(off),
			"Upload-Checksum", "sha256 "+base64.StdEncoding.EncodeToString(sum))
		if err != nil {
			return err
		}
		off += len(data)
		if res.StatusCode != 204 || res.Header.Get("Upload-Offset") != strconv.Itoa(off) {
			return fmt.Errorf("PATCH at %d: %s, offset %q", off-len(data), res.Status, res.Header.Get("Upload-Offset"))
		}
	}
}

// runConcurrently runs f(i) for i in [from, to) on as many goroutines and returns the first error.
func runConcurrently(from, to int, f func(i int) error) error {
	errs := make(chan error, to-from)
	var wg gosync.WaitGroup
	for i := from; i < to; i++ {
		wg.Go(func() { errs <- f(i) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
