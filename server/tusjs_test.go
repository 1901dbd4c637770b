package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/phototest"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/sync/synctest"
	"github.com/google/uuid"
)

// The official tus-js-client (npm), run by Node, uploads to the real server: proof that a
// standard tus client works unchanged. The Node project is server/testdata/tusjs.
const (
	tusjsDir  = "testdata/tusjs"
	tusjsHint = "run `cd server/testdata/tusjs && npm ci` (needs Node >= 18 and npm; Debian: apt-get install -y nodejs npm)"
)

// tusjsResult is what upload.mjs prints.
type tusjsResult struct {
	OK       bool      `json:"ok"`
	Error    string    `json:"error"`
	Size     int64     `json:"size"`
	URL      string    `json:"url"`
	Chunks   int       `json:"chunks"`
	Requests [][]any   `json:"requests"`
	SameURL  bool      `json:"sameUrl"`
	First    *tusjsRun `json:"first"`
	Second   *tusjsRun `json:"second"`
}

// tusjsRun is one Upload of the resume mode.
type tusjsRun struct {
	Aborted             bool    `json:"aborted"`
	URL                 string  `json:"url"`
	Error               string  `json:"error"`
	Requests            [][]any `json:"requests"`
	Progress            int64   `json:"progress"`
	Chunks              int     `json:"chunks"`
	Accepted            int64   `json:"accepted"`
	AcknowledgedAtAbort *int64  `json:"acknowledgedAtAbort"`
	SentAtAbort         *int64  `json:"sentAtAbort"`
	ProgressAtAbort     *int64  `json:"progressAtAbort"`
	ResumedFrom         *int64  `json:"resumedFrom"`
}

// resumePoint returns the offset of the run's first accepted PATCH, and how many PATCHes the
// server refused before it (a 409 when the resume raced the server still keeping the bytes of
// the cut request; tus-js-client then asks HEAD again and goes on from there).
func (r *tusjsRun) resumePoint(t *testing.T) (int64, int) {
	t.Helper()
	failed := 0
	for _, q := range r.Requests {
		if len(q) != 4 || q[0] != "PATCH" {
			continue
		}
		if status, _ := q[2].(float64); status != 204 {
			failed++
			continue
		}
		off, err := strconv.ParseInt(q[1].(string), 10, 64)
		if err != nil {
			t.Fatalf("request %v: %v", q, err)
		}
		return off, failed
	}
	t.Fatalf("the resume sent no accepted PATCH: %v", r.Requests)
	return 0, 0
}

// tusjsContent reads a photo's bytes back (following MinIO's presigned redirect).
func tusjsContent(t *testing.T, h *harness, token string, photo uuid.UUID) []byte {
	t.Helper()
	r := h.do("GET", "/v1/photos/"+photo.String()+"/content", token, nil)
	switch r.Status {
	case 200:
		return r.Body
	case 302:
		res, err := http.Get(r.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("presigned URL: %d %v %s", res.StatusCode, err, b)
		}
		return b
	}
	t.Fatalf("content: %d %s", r.Status, r.Body)
	return nil
}

// tusjsNode returns the node binary, failing (never skipping) with the fix when Node or the
// installed tus-js-client is missing.
func tusjsNode(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("tus-js-client test: node is not installed; %s", tusjsHint)
	}
	if _, err := os.Stat(filepath.Join(tusjsDir, "node_modules", "tus-js-client", "package.json")); err != nil {
		t.Fatalf("tus-js-client test: %s/node_modules is missing; %s", tusjsDir, tusjsHint)
	}
	return node
}

// serveLoopback serves the harness's app on a real 127.0.0.1 listener until the test ends and
// returns its base URL.
func (h *harness) serveLoopback() string {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go h.app.Listener(ln)
	h.t.Cleanup(func() { h.app.Shutdown() })
	return "http://" + ln.Addr().String()
}

// runTusJS uploads data as photo with upload.mjs and returns what it printed.
func runTusJS(t *testing.T, node, base, token string, photo uuid.UUID, data []byte, chunkSize int, mode string) tusjsResult {
	t.Helper()
	file := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	chunk := ""
	if chunkSize > 0 {
		chunk = strconv.Itoa(chunkSize)
	}
	cmd := exec.Command(node, "upload.mjs")
	cmd.Dir = tusjsDir
	cmd.Env = append(os.Environ(), "TUS_ENDPOINT="+base+"/v1/uploads", "TUS_TOKEN="+token, "TUS_FILE="+file,
		"TUS_PHOTO_ID="+photo.String(), "TUS_SHA256="+sha256Hex(data), "TUS_CHUNK_SIZE="+chunk, "TUS_MODE="+mode)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node upload.mjs: %v\nstdout: %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
	}
	var res tusjsResult
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("upload.mjs printed no JSON: %v\nstdout: %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
	}
	if !res.OK {
		t.Fatalf("tus-js-client failed: %s\nstdout: %s\nstderr: %s", res.Error, stdout.Bytes(), stderr.Bytes())
	}
	return res
}

// TestTusJSClient: tus-js-client uploads in 256 KiB chunks, in one PATCH (its default), and
// resumes an upload it aborted past half (finding it in its URL storage), against the local
// store and a real MinIO. Each photo arrives whole, and the resume sends only what the server
// did not have.
func TestTusJSClient(t *testing.T) {
	node := tusjsNode(t)
	data := phototest.BigJPEG(t, 2<<20)
	for _, store := range []string{"local", "minio"} {
		t.Run(store, func(t *testing.T) {
			st, dsn := synctest.NewDemoStore(t)
			var h *harness
			if store == "minio" {
				h = newHarnessWith(t, st, dsn, miniotest.NewStore(t))
			} else {
				h = newHarnessOn(t, st, dsn)
			}
			p, _ := newTusPhone(h, "inspector", "phone-1")
			base := h.serveLoopback()

			check := func(photo uuid.UUID) {
				t.Helper()
				pd, r := h.photo(p.token, photo)
				expectStatus(t, r, 200)
				if pd.Blob == nil || pd.Blob.SHA256 != sha256Hex(data) || pd.Blob.Size != int64(len(data)) ||
					pd.Blob.ContentType != models.ContentJPEG {
					t.Fatalf("photo after tus-js-client: %s", r.Body)
				}
				if got := tusjsContent(t, h, p.token, photo); !bytes.Equal(got, data) {
					t.Fatalf("content: %d bytes differ from the %d uploaded", len(got), len(data))
				}
				if left := h.objects("uploads/"); len(left) != 0 {
					t.Fatalf("parts left behind: %v", left)
				}
			}

			{ // 256 KiB chunks: several PATCHes
				photo := uuid.New()
				res := runTusJS(t, node, base, p.token, photo, data, 256<<10, "upload")
				if want := (len(data) + 256<<10 - 1) / (256 << 10); res.Chunks != want {
					t.Fatalf("%d PATCHes, want %d: %v", res.Chunks, want, res.Requests)
				}
				check(photo)
			}
			{ // tus-js-client's default: the whole file in one PATCH
				photo := uuid.New()
				res := runTusJS(t, node, base, p.token, photo, data, 0, "upload")
				if res.Chunks != 1 {
					t.Fatalf("%d PATCHes, want 1: %v", res.Chunks, res.Requests)
				}
				check(photo)
			}
			{ // abort past half, find the upload again, resume
				photo := uuid.New()
				res := runTusJS(t, node, base, p.token, photo, data, 256<<10, "resume")
				first, second := res.First, res.Second
				if !res.SameURL || first.SentAtAbort == nil || second.ResumedFrom == nil {
					t.Fatalf("the second Upload did not resume the first: %+v", res)
				}
				size := int64(len(data))
				from, failed := second.resumePoint(t)
				// The server kept at least what it acknowledged before the abort (whole chunks)
				// and at most one chunk more: what it received of the PATCH on the wire (on
				// loopback usually all of it, its answer unread by the aborted client).
				if from < *first.AcknowledgedAtAbort || from > *first.AcknowledgedAtAbort+256<<10 || from < size/2 {
					t.Fatalf("resumed from %d: acknowledged %d, sent %d before the abort (size %d)",
						from, *first.AcknowledgedAtAbort, *first.SentAtAbort, size)
				}
				// Only the missing bytes travelled again.
				if second.Accepted != size-from {
					t.Fatalf("the resume sent %d bytes, want the missing %d", second.Accepted, size-from)
				}
				check(photo)
				t.Logf("%s: onProgress passed %d of %d bytes, aborted at %d (%d acknowledged); resumed from %d, sent %d (%.1f %% of the file; %d PATCHes refused on the way); requests: %v",
					store, *first.SentAtAbort, size, *first.ProgressAtAbort, *first.AcknowledgedAtAbort, from, second.Accepted,
					100*float64(second.Accepted)/float64(size), failed, second.Requests)
			}
		})
	}
}
