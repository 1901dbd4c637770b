package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/phototest"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/sync/synctest"
	"github.com/google/uuid"
)

// TestUploadMinIO: the whole photo path against a real MinIO: bytes and thumbnail come back
// through presigned redirects.
func TestUploadMinIO(t *testing.T) {
	st, dsn := synctest.NewDemoStore(t)
	h := newHarnessWith(t, st, dsn, miniotest.NewStore(t))
	testUploadThenAttach(t, h)
	r := h.do("GET", "/v1/photos/"+uuid.NewString()+"/content", h.login("inspector", "phone-9"), nil)
	expectStatus(t, r, 404)
}

// TestUploadMinIODown: MinIO stops mid-upload: the next PATCH is a 503 with Retry-After, the
// bytes already stored stay, and the upload resumes and completes once MinIO is back.
func TestUploadMinIODown(t *testing.T) {
	srv := miniotest.New(t)
	st, dsn := synctest.NewDemoStore(t)
	h := newHarnessWith(t, st, dsn, miniotest.StoreOn(t, srv))
	p, visit := newTusPhone(h, "inspector", "phone-1")
	o := phototest.Full()
	o.Width, o.Height, o.Noise = 600, 400, 60
	data := phototest.JPEG(t, o)
	photo := uuid.New()
	loc := p.mustCreate(photo, data)
	chunk := len(data) / 4
	sum := sha256.Sum256(data[:chunk])
	expectStatus(t, p.patch(loc, 0, data[:chunk], sum[:]), 204)

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	next := data[chunk : 2*chunk]
	sum = sha256.Sum256(next)
	r := p.patch(loc, chunk, next, sum[:])
	expectStatus(t, r, 503)
	if r.problemType(t) != "unavailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("MinIO down: %s %v", r.Body, r.Header)
	}
	if got := p.head(loc).Header.Get("Upload-Offset"); got != strconv.Itoa(chunk) {
		t.Fatalf("offset %s while MinIO is down, want %d", got, chunk)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, p.upload(loc, data, len(data)), 409) // from 0 again: refused, told the offset
	rest := data[chunk:]
	sum = sha256.Sum256(rest)
	expectStatus(t, p.patch(loc, chunk, rest, sum[:]), 204)
	p.push(attach(photo, visit, false))
	pd, r := h.photo(p.token, photo)
	if pd.Status != models.PhotoReady || pd.Blob.SHA256 != sha256Hex(data) {
		t.Fatalf("after MinIO came back: %s", r.Body)
	}
	if got := h.fetch(p.token, "/v1/photos/"+photo.String()+"/content"); sha256Hex(got) != sha256Hex(data) {
		t.Fatal("the stored photo is not the uploaded one")
	}
}

// TestUploadResumeAfterCut: a PATCH of the whole file is cut at half over a real connection; the
// server keeps every byte it received, HEAD says so, and only the missing half travels again. A
// second server instance (a restart, or another instance behind the balancer) takes the resume.
func TestUploadResumeAfterCut(t *testing.T) {
	h := newHarness(t)
	p, _ := newTusPhone(h, "inspector", "phone-1")
	o := phototest.Full()
	o.Width, o.Height, o.Noise = 1200, 900, 80
	data := phototest.JPEG(t, o)
	photo := uuid.New()
	loc := p.mustCreate(photo, data)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go h.app.Listener(ln)
	t.Cleanup(func() { h.app.Shutdown() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	half := len(data) / 2
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: fieldsync\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\n"+
		"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: %d\r\n\r\n", loc, p.token, len(data))
	if _, err := conn.Write(data[:half]); err != nil {
		t.Fatal(err)
	}
	conn.Close() // the phone loses its signal

	// The server notices the cut when its read fails; wait until the offset settles.
	var offset string
	for range 200 {
		if offset = p.head(loc).Header.Get("Upload-Offset"); offset == strconv.Itoa(half) {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if offset != strconv.Itoa(half) {
		t.Fatalf("after a cut at %d bytes the offset is %s: received bytes were lost", half, offset)
	}

	other := newHarnessWith(t, h.store, h.dsn, h.blob) // another instance, same database and bytes
	q := tusPhone{&syncPhone{h: other, token: p.token}}
	rest := data[half:]
	sum := sha256.Sum256(rest)
	expectStatus(t, q.patch(loc, half, rest, sum[:]), 204)
	pd, r := other.photo(p.token, photo)
	if pd.Blob == nil || pd.Blob.SHA256 != sha256Hex(data) || pd.Blob.Size != int64(len(data)) {
		t.Fatalf("resumed upload: %s", r.Body)
	}
	t.Logf("cut at %d of %d bytes; the resume sent %d bytes", half, len(data), len(rest))
}

// TestUploadJanitor: an abandoned upload expires with its parts; part objects nobody refers to
// are swept; an upload whose last byte arrived but was not finished is finished.
func TestUploadJanitor(t *testing.T) {
	h := newHarness(t)
	p, _ := newTusPhone(h, "inspector", "phone-1")
	data := phototest.JPEG(t, phototest.Full())
	loc := p.mustCreate(uuid.New(), data)
	expectStatus(t, p.patch(loc, 0, data[:len(data)/2], nil), 204)
	orphan := "uploads/" + uuid.NewString() + "/00000000000000000000-dead"
	if err := h.blob.Put(context.Background(), orphan, bufio.NewReader(nil), 0, "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	rep, err := h.uploads().Janitor(context.Background(), time.Now().Add(25*time.Hour), 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Expired != 1 || rep.Swept != 1 {
		t.Fatalf("janitor: %+v", rep)
	}
	expectStatus(t, p.head(loc), 410)
	if n := len(h.objects("uploads/")); n != 0 {
		t.Fatalf("%d part objects left", n)
	}
	if _, err := h.uploads().Janitor(context.Background(), time.Now().Add(30*24*time.Hour), time.Hour); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, p.head(loc), 404) // forgotten after the keep period
}
