package device

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync/models/phototest"
)

// tusSpec is the server side of tus 1.0 core, creation and checksum as PHOTOS.md specifies it,
// for testing the client's protocol mechanics (the resume after a restart) on their own; the
// end-to-end tests use the real server.
type tusSpec struct {
	mu      sync.Mutex
	uploads map[string]*tusUpload
	calls   []string
}

type tusUpload struct {
	length int64
	meta   map[string]string
	data   []byte
}

func (s *tusSpec) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, r.Method)
	if r.Header.Get("Tus-Resumable") != "1.0.0" || r.Header.Get("Authorization") != "Bearer fs_test" {
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	w.Header().Set("Tus-Resumable", "1.0.0")
	if r.Method == http.MethodPost && r.URL.Path == "/v1/uploads" {
		n, _ := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64)
		u := &tusUpload{length: n, meta: map[string]string{}}
		for _, kv := range strings.Split(r.Header.Get("Upload-Metadata"), ",") {
			k, v, _ := strings.Cut(kv, " ")
			b, _ := base64.StdEncoding.DecodeString(v)
			u.meta[k] = string(b)
		}
		id := strconv.Itoa(len(s.uploads) + 1)
		s.uploads[id] = u
		w.Header().Set("Location", "/v1/uploads/"+id)
		w.WriteHeader(http.StatusCreated)
		return
	}
	u := s.uploads[strings.TrimPrefix(r.URL.Path, "/v1/uploads/")]
	if u == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodHead:
		w.Header().Set("Upload-Offset", strconv.Itoa(len(u.data)))
		w.Header().Set("Upload-Length", strconv.FormatInt(u.length, 10))
		w.WriteHeader(http.StatusOK)
	case http.MethodPatch:
		off, _ := strconv.Atoi(r.Header.Get("Upload-Offset"))
		if r.Header.Get("Content-Type") != "application/offset+octet-stream" || off != len(u.data) {
			w.WriteHeader(http.StatusConflict)
			return
		}
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		sum := sha256.Sum256(body.Bytes())
		if r.Header.Get("Upload-Checksum") != "sha256 "+base64.StdEncoding.EncodeToString(sum[:]) {
			w.WriteHeader(statusChecksum)
			return
		}
		u.data = append(u.data, body.Bytes()...)
		w.Header().Set("Upload-Offset", strconv.Itoa(len(u.data)))
		w.WriteHeader(http.StatusNoContent)
	}
}

// An upload cut after two chunks by the app's death resumes after a restart from the offset
// the server reports (HEAD), and the bytes arrive whole.
func TestTusUploadResumesAfterRestart(t *testing.T) {
	spec := &tusSpec{uploads: map[string]*tusUpload{}}
	ts := httptest.NewServer(spec)
	defer ts.Close()
	home := t.TempDir()
	ctx := context.Background()
	d, err := Open(home, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := setMeta(ctx, d.db, metaServer, ts.URL); err != nil || d.saveToken("fs_test") != nil {
		t.Fatal(err)
	}
	visit, err := d.NewVisit(ctx, VisitInput{Kind: "project_visit", SiteID: "5e7e0000-0000-4000-8000-000000000001"})
	if err != nil {
		t.Fatal(err)
	}
	jpg := phototest.BigJPEG(t, 4<<20)
	path := filepath.Join(t.TempDir(), "big.jpg")
	os.WriteFile(path, jpg, 0o600)
	if _, err := d.AddPhoto(ctx, PhotoInput{VisitID: visit, Path: path}); err != nil {
		t.Fatal(err)
	}
	dying, die := context.WithCancel(ctx)
	patches := 0
	killer := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPatch {
			if patches == 2 {
				die()
				return nil, errors.New("killed")
			}
			patches++
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	if _, err := d.Sync(dying, SyncOptions{SkipPush: true, SkipPull: true, HTTPClient: killer}); err == nil {
		t.Fatal("the dying sync succeeded")
	}
	d.Close()

	d, err = Open(home, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, _ := d.PendingPhotos(ctx)
	if len(p) != 1 || p[0].Offset != 2<<20 || !strings.HasPrefix(p[0].UploadURL, ts.URL+"/v1/uploads/") {
		t.Fatalf("stored upload state: %+v", p)
	}
	spec.calls = nil
	rep, err := d.Sync(ctx, SyncOptions{SkipPush: true, SkipPull: true})
	if err != nil || rep.PhotosUploaded != 1 || rep.BytesUploaded != int64(len(jpg))-2<<20 {
		t.Fatalf("resumed sync: %+v %v", rep, err)
	}
	want := "HEAD" + strings.Repeat(" PATCH", (len(jpg)-2<<20+1<<20-1)/(1<<20))
	if len(jpg) <= 3<<20 || strings.Join(spec.calls, " ") != want {
		t.Fatalf("a %d-byte photo resumed with %v, want %s", len(jpg), spec.calls, want)
	}
	u := spec.uploads["1"]
	sum := sha256.Sum256(jpg)
	if len(spec.uploads) != 1 || !bytes.Equal(u.data, jpg) || u.meta["sha256"] != hex.EncodeToString(sum[:]) ||
		u.meta["photo_id"] != p[0].PhotoID || u.meta["content_type"] != "image/jpeg" || u.meta["filename"] != "big.jpg" {
		t.Fatalf("server holds %d uploads, %d bytes, meta %v", len(spec.uploads), len(u.data), u.meta)
	}
	if left, _ := d.PendingPhotos(ctx); len(left) != 0 {
		t.Fatalf("still pending: %+v", left)
	}
}

func TestParseGPX(t *testing.T) {
	pts, err := ParseGPX(strings.NewReader(`<gpx version="1.0"><rte><rtept lat="41.5" lon="121.25"><time>2026-03-14T01:00:00Z</time></rtept>` +
		`<rtept lat="41.6" lon="121.35"><time>2026-03-14T09:00:05+08:00</time><hdop>2</hdop></rtept></rte></gpx>`))
	if err != nil || len(pts) != 2 || pts[1].Lat != 41.6 || *pts[1].AccuracyM != 10 || !pts[1].T.Equal(pts[0].T.Add(5e9)) {
		t.Fatalf("%+v %v", pts, err)
	}
	for _, bad := range []string{`<gpx></gpx>`, `not xml`, `<gpx><trk><trkseg><trkpt lat="1" lon="2"/></trkseg></trk></gpx>`} {
		if _, err := ParseGPX(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
