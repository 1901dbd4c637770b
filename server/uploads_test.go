package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image/jpeg"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/phototest"
	"github.com/fieldsync/fieldsync/storage/blob"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/google/uuid"
)

// tusPhone speaks tus 1.0 as a phone's uploader does, through the harness (every answer is
// checked against the contract).
type tusPhone struct {
	*syncPhone
}

func tusMeta(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// create starts an upload for photo with data's length and announced hash sum.
func (p tusPhone) create(photo uuid.UUID, length int, sum string) resp {
	p.h.t.Helper()
	return p.h.do("POST", "/v1/uploads", p.token, nil, "Tus-Resumable", "1.0.0",
		"Upload-Length", strconv.Itoa(length),
		"Upload-Metadata", tusMeta("photo_id", photo.String(), "sha256", sum, "filename", "site.jpg", "content_type", "image/jpeg"))
}

func (p tusPhone) mustCreate(photo uuid.UUID, data []byte) string {
	p.h.t.Helper()
	r := p.create(photo, len(data), sha256Hex(data))
	expectStatus(p.h.t, r, 201)
	return r.Header.Get("Location")
}

// patch sends chunk at offset, with its Upload-Checksum when sum is set.
func (p tusPhone) patch(loc string, offset int, chunk []byte, sum []byte) resp {
	p.h.t.Helper()
	hdr := []string{"Tus-Resumable", "1.0.0", "Upload-Offset", strconv.Itoa(offset),
		"Content-Type", "application/offset+octet-stream"}
	if sum != nil {
		hdr = append(hdr, "Upload-Checksum", "sha256 "+base64.StdEncoding.EncodeToString(sum))
	}
	return p.h.do("PATCH", loc, p.token, chunk, hdr...)
}

func (p tusPhone) head(loc string) resp {
	p.h.t.Helper()
	return p.h.do("HEAD", loc, p.token, nil, "Tus-Resumable", "1.0.0")
}

// upload sends data in chunks of size, each with its checksum, and returns the last answer.
func (p tusPhone) upload(loc string, data []byte, size int) resp {
	p.h.t.Helper()
	var r resp
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		sum := sha256.Sum256(data[off:end])
		r = p.patch(loc, off, data[off:end], sum[:])
		if r.Status != 204 {
			return r
		}
		if got := r.Header.Get("Upload-Offset"); got != strconv.Itoa(end) {
			p.h.t.Fatalf("after PATCH to %d the offset is %s", end, got)
		}
	}
	return r
}

func attach(photo, visit uuid.UUID, mock bool) syncMut {
	return syncMut{"photo.attach", map[string]any{"photo_id": photo, "visit_id": visit,
		"position":    map[string]any{"lat": 41.9, "lon": 121.6, "accuracy_m": 6, "crs": "wgs84", "mock": mock},
		"captured_at": "2026-03-14T09:26:53+08:00", "caption": "east gate"}}
}

func (h *harness) photo(token string, id uuid.UUID) (models.PhotoData, resp) {
	h.t.Helper()
	r := h.do("GET", "/v1/photos/"+id.String(), token, nil)
	var pd models.PhotoData
	if r.Status == 200 {
		if err := json.Unmarshal(r.Body, &pd); err != nil {
			h.t.Fatal(err)
		}
	}
	return pd, r
}

func (h *harness) objects(prefix string) []blob.Info {
	h.t.Helper()
	infos, err := h.blob.List(context.Background(), prefix, "", 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	return infos
}

func newTusPhone(h *harness, user, device string) (tusPhone, uuid.UUID) {
	p := tusPhone{h.syncPhone(user, device)}
	visit := uuid.New()
	p.push(visitCreate(visit, "project_visit", h.regionID(codeDongsheng)))
	return p, visit
}

// TestUploadThenAttach: chunks with checksums, the photo appears once both halves are there,
// bytes and thumbnail read back, and pull delivers the photo record.
func TestUploadThenAttach(t *testing.T) {
	h := newHarness(t)
	testUploadThenAttach(t, h)
}

func testUploadThenAttach(t *testing.T, h *harness) {
	p, visit := newTusPhone(h, "inspector", "phone-1")
	o := phototest.Full()
	o.GPS = &phototest.GPS{Lat: 41.9001, Lon: 121.6001}
	o.Width, o.Height, o.Noise = 900, 600, 40
	data := phototest.JPEG(t, o)
	photo := uuid.New()

	r := h.do("OPTIONS", "/v1/uploads", "", nil)
	expectStatus(t, r, 204)
	if r.Header.Get("Tus-Checksum-Algorithm") != "sha256" || !strings.Contains(r.Header.Get("Tus-Extension"), "expiration") {
		t.Fatalf("OPTIONS: %v", r.Header)
	}
	loc := p.mustCreate(photo, data)
	if r := p.head(loc); r.Header.Get("Upload-Offset") != "0" || r.Header.Get("Upload-Length") != strconv.Itoa(len(data)) {
		t.Fatalf("HEAD of a new upload: %d %v", r.Status, r.Header)
	}
	expectStatus(t, p.upload(loc, data, 16<<10), 204)
	if r := p.head(loc); r.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		t.Fatalf("HEAD of a finished upload: %v", r.Header)
	}
	pd, r := h.photo(p.token, photo)
	expectStatus(t, r, 200)
	if pd.Status != models.PhotoUploaded || pd.Blob == nil || pd.Blob.SHA256 != sha256Hex(data) || pd.Attach != nil {
		t.Fatalf("uploaded, not attached: %s", r.Body)
	}
	if pd.Blob.Exif == nil || pd.Blob.Exif.Lat == nil || *pd.Blob.Exif.Lat < 41.9 || pd.Blob.Exif.Model != "FC-1" {
		t.Fatalf("EXIF not read: %s", r.Body)
	}
	if len(h.objects("uploads/")) != 0 {
		t.Fatalf("parts left behind: %v", h.objects("uploads/"))
	}

	out, _ := p.push(attach(photo, visit, false))
	if out.Results[0].Status != "applied" {
		t.Fatalf("attach: %+v", out.Results[0])
	}
	pd, r = h.photo(p.token, photo)
	if pd.Status != models.PhotoReady || pd.Attach == nil || pd.Verdict.Level == models.VerdictPending || pd.ClockSkewS == nil {
		t.Fatalf("attached and uploaded: %s", r.Body)
	}
	if got := h.fetch(p.token, "/v1/photos/"+photo.String()+"/content"); !bytes.Equal(got, data) {
		t.Fatalf("content: %d bytes, want %d", len(got), len(data))
	}
	r = h.do("GET", "/v1/photos/"+photo.String()+"/thumbnail", p.token, nil)
	expectStatus(t, r, 503)
	if r.problemType(t) != "thumbnail-pending" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("thumbnail before the worker: %s", r.Body)
	}
	h.makeThumbnails()
	thumb, err := jpeg.DecodeConfig(bytes.NewReader(h.fetch(p.token, "/v1/photos/"+photo.String()+"/thumbnail")))
	if err != nil || max(thumb.Width, thumb.Height) != models.ThumbnailMaxSide {
		t.Fatalf("thumbnail %dx%d: %v", thumb.Width, thumb.Height, err)
	}
	changes, _ := p.pullAll(500)
	var got *models.PhotoData
	for _, c := range changes {
		if c.Type == models.TypePhoto && c.ID == photo.String() {
			got = &models.PhotoData{}
			json.Unmarshal(c.Data, got)
		}
	}
	if got == nil || got.Status != models.PhotoReady || got.Blob.Thumbnail != models.ThumbReady {
		t.Fatalf("pull: photo record %+v", got)
	}
	if n := h.count(`SELECT photos FROM visit_location WHERE visit_id = $1`, visit); n != 1 {
		t.Fatalf("visit roll-up counts %d photos", n)
	}
}

// makeThumbnails runs the thumbnail worker until nothing is pending.
func (h *harness) makeThumbnails() {
	h.t.Helper()
	for {
		did, err := h.uploads().ThumbnailOnce(context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		if !did {
			return
		}
	}
}

// TestAttachBeforeUpload: the attach first gives pending_upload, the bytes complete it; the
// photo, its verdict and the visit's roll-up converge to the same result as the other order.
func TestAttachBeforeUpload(t *testing.T) {
	h := newHarness(t)
	p, visit := newTusPhone(h, "inspector", "phone-1")
	data := phototest.JPEG(t, phototest.Full())
	photo := uuid.New()
	p.push(attach(photo, visit, true))
	pd, r := h.photo(p.token, photo)
	if pd.Status != models.PhotoPendingUpload || pd.Blob != nil || pd.Verdict.Level != models.VerdictPending {
		t.Fatalf("attached first: %s", r.Body)
	}
	r = h.do("GET", "/v1/photos/"+photo.String()+"/content", p.token, nil)
	expectStatus(t, r, 409)
	if h.count(`SELECT count(*) FROM visit_location WHERE visit_id = $1 AND level = 'pending'`, visit) != 1 {
		t.Fatal("the visit's roll-up is not pending")
	}
	loc := p.mustCreate(photo, data)
	expectStatus(t, p.upload(loc, data, 1<<20), 204)
	pd, r = h.photo(p.token, photo)
	if pd.Status != models.PhotoReady || pd.Blob == nil || pd.Verdict.Level != models.VerdictFail {
		t.Fatalf("after the upload (mock location): %s", r.Body)
	}
	if h.count(`SELECT count(*) FROM visit_location WHERE visit_id = $1 AND level = 'fail'`, visit) != 1 {
		t.Fatal("the visit's roll-up did not follow its photo")
	}
}

// TestUploadChecksums: a wrong chunk checksum is 460 and the offset stays; a whole file that does
// not hash to the announced sha256 fails the upload and keeps nothing.
func TestUploadChecksums(t *testing.T) {
	h := newHarness(t)
	p, _ := newTusPhone(h, "inspector", "phone-1")
	data := phototest.JPEG(t, phototest.Full())
	photo := uuid.New()
	loc := p.mustCreate(photo, data)
	half := len(data) / 2
	good := sha256.Sum256(data[:half])
	expectStatus(t, p.patch(loc, 0, data[:half], good[:]), 204)
	bad := sha256.Sum256([]byte("something else"))
	r := p.patch(loc, half, data[half:], bad[:])
	expectStatus(t, r, 460)
	if r.problemType(t) != "checksum-mismatch" {
		t.Fatalf("%s", r.Body)
	}
	if got := p.head(loc).Header.Get("Upload-Offset"); got != strconv.Itoa(half) {
		t.Fatalf("offset moved to %s after a bad chunk", got)
	}
	r = p.patch(loc, 0, data[:half], nil)
	expectStatus(t, r, 409)
	if r.Header.Get("Upload-Offset") != strconv.Itoa(half) {
		t.Fatalf("409 without the right offset: %v", r.Header)
	}

	// The whole-file hash: announce the hash of other bytes.
	other := uuid.New()
	r = p.create(other, len(data), sha256Hex([]byte("not these bytes")))
	expectStatus(t, r, 201)
	loc2 := r.Header.Get("Location")
	r = p.patch(loc2, 0, data, nil)
	expectStatus(t, r, 460)
	if r.problemType(t) != "file-checksum-mismatch" {
		t.Fatalf("%s", r.Body)
	}
	expectStatus(t, p.head(loc2), 410)
	if _, r := h.photo(p.token, other); r.Status != 404 {
		t.Fatalf("a failed upload left a photo: %d", r.Status)
	}
	if n := len(h.objects("")); n != 1 { // the first upload's half is all there is
		t.Fatalf("%d objects after a failed upload, want the one part of the other", n)
	}
}

// TestUploadDedupAndTypes: the same bytes under two photo ids are one object; a non-image is
// refused at its first bytes; a PNG is accepted.
func TestUploadDedupAndTypes(t *testing.T) {
	h := newHarness(t)
	p, _ := newTusPhone(h, "inspector", "phone-1")
	data := phototest.JPEG(t, phototest.Full())
	for range 2 {
		photo := uuid.New()
		expectStatus(t, p.upload(p.mustCreate(photo, data), data, 1<<20), 204)
	}
	if n := len(h.objects("photos/")); n != 1 {
		t.Fatalf("the same bytes twice made %d objects", n)
	}
	if n := h.count(`SELECT count(*) FROM photo_blobs WHERE sha256 = $1`, sha256Hex(data)); n != 2 {
		t.Fatalf("%d photos share the bytes, want 2", n)
	}

	text := []byte(strings.Repeat("this is not a photo\n", 100))
	loc := p.mustCreate(uuid.New(), text)
	r := p.patch(loc, 0, text, nil)
	expectStatus(t, r, 415)
	if r.problemType(t) != "not-a-photo" {
		t.Fatalf("%s", r.Body)
	}
	expectStatus(t, p.head(loc), 410)

	png := phototest.PNG(t, phototest.Options{})
	photo := uuid.New()
	expectStatus(t, p.upload(p.mustCreate(photo, png), png, 1<<20), 204)
	if pd, _ := h.photo(p.token, photo); pd.Blob == nil || pd.Blob.ContentType != models.ContentPNG {
		t.Fatalf("PNG: %+v", pd.Blob)
	}
}

// TestUploadScope: uploads belong to their device; photos to the scope of their visit.
func TestUploadScope(t *testing.T) {
	h := newHarness(t)
	p, visit := newTusPhone(h, "inspector", "phone-1")
	data := phototest.JPEG(t, phototest.Full())
	photo := uuid.New()
	loc := p.mustCreate(photo, data)

	other := tusPhone{h.syncPhone("inspector.jianan", "phone-2")}
	expectStatus(t, other.head(loc), 404)
	expectStatus(t, other.patch(loc, 0, data, nil), 404)
	r := other.create(photo, len(data), sha256Hex(data))
	expectStatus(t, r, 201) // nobody holds the photo id yet: creating is harmless …
	expectStatus(t, p.upload(loc, data, 1<<20), 204)
	p.push(attach(photo, visit, false))
	r = other.patch(r.Header.Get("Location"), 0, data, nil)
	expectStatus(t, r, 409) // … but the photo went to its owner first
	for _, path := range []string{"", "/content", "/thumbnail"} {
		r := h.do("GET", "/v1/photos/"+photo.String()+path, other.token, nil)
		expectStatus(t, r, 404)
	}
	r = other.create(photo, len(data), sha256Hex(data))
	expectStatus(t, r, 409)
	if r.problemType(t) != "photo-taken" {
		t.Fatalf("%s", r.Body)
	}
	sup := h.login("supervisor", "desk-1")
	if _, r := h.photo(sup, photo); r.Status != 200 {
		t.Fatalf("the city supervisor cannot see the photo: %d", r.Status)
	}
	r = h.do("POST", "/v1/uploads", p.token, nil, "Upload-Length", "10")
	expectStatus(t, r, 412)
}

// TestUploadBadRequests: malformed tus headers are 4xx problems that change nothing.
func TestUploadBadRequests(t *testing.T) {
	h := newHarness(t)
	p, _ := newTusPhone(h, "inspector", "phone-1")
	for _, c := range []struct {
		hdr  []string
		want int
	}{
		{[]string{"Upload-Length", "abc"}, 400},
		{[]string{"Upload-Length", "10", "Upload-Metadata", "photo_id !!!"}, 400},
		{[]string{"Upload-Length", "10", "Upload-Metadata", tusMeta("sha256", strings.Repeat("a", 64))}, 422},
		{[]string{"Upload-Length", "10", "Upload-Metadata", tusMeta("photo_id", uuid.NewString(), "sha256", "xyz")}, 422},
		{[]string{"Upload-Length", strconv.Itoa(models.MaxPhotoBytes + 1), "Upload-Metadata", tusMeta("photo_id", uuid.NewString(), "sha256", strings.Repeat("a", 64))}, 413},
		{[]string{"Upload-Defer-Length", "1", "Upload-Metadata", tusMeta("photo_id", uuid.NewString(), "sha256", strings.Repeat("a", 64))}, 400},
	} {
		r := h.do("POST", "/v1/uploads", p.token, nil, append([]string{"Tus-Resumable", "1.0.0"}, c.hdr...)...)
		if r.Status != c.want {
			t.Fatalf("%v: %d %s, want %d", c.hdr, r.Status, r.Body, c.want)
		}
	}
	data := phototest.JPEG(t, phototest.Full())
	loc := p.mustCreate(uuid.New(), data)
	r := h.do("PATCH", loc, p.token, data, "Tus-Resumable", "1.0.0", "Upload-Offset", "0")
	expectStatus(t, r, 415)
	r = h.do("PATCH", loc, p.token, data, "Tus-Resumable", "1.0.0", "Content-Type", "application/offset+octet-stream",
		"Upload-Offset", "0", "Upload-Checksum", "md5 abc")
	expectStatus(t, r, 400)
	r = p.patch(loc, 0, append(append([]byte{}, data...), 1, 2, 3), nil)
	expectStatus(t, r, 413)
	expectStatus(t, h.do("DELETE", loc, p.token, nil, "Tus-Resumable", "1.0.0"), 204)
	expectStatus(t, p.head(loc), 410)
	if h.count(`SELECT count(*) FROM photo_blobs`) != 0 || len(h.objects("")) != 0 {
		t.Fatal("bad requests left something behind")
	}
}

// uploads is an upload service on the harness's store and blob store, as cmd/fieldsync runs the
// workers beside the HTTP server.
func (h *harness) uploads() *fsync.Uploads {
	cfg := testConfig()
	return fsync.NewUploads(fsync.New(h.store, cfg.Sync), h.blob, cfg.Uploads, nil)
}

// fetch reads a photo's bytes as a client does: streamed (local store) or through the presigned
// redirect (MinIO), which is followed to the object store on 127.0.0.1.
func (h *harness) fetch(token, path string) []byte {
	h.t.Helper()
	r := h.do("GET", path, token, nil)
	switch r.Status {
	case 200:
		return r.Body
	case 302:
		res, err := http.Get(r.Header.Get("Location"))
		if err != nil {
			h.t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			h.t.Fatalf("presigned URL: %d %s", res.StatusCode, b)
		}
		return b
	}
	h.t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	return nil
}
