package server

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/fieldsync/fieldsync/models/phototest"
	"github.com/google/uuid"
)

// TestTusPatchOnFinishedUpload: a finished upload takes no more bytes. A PATCH at its final offset
// (empty, or with bytes) or at any other offset is a 409 upload-complete naming the final offset,
// and the photo keeps its bytes.
func TestTusPatchOnFinishedUpload(t *testing.T) {
	h := newHarness(t)
	p, _ := newTusPhone(h, "inspector", "phone-1")
	data := phototest.JPEG(t, phototest.Full())
	photo := uuid.New()
	loc := p.mustCreate(photo, data)
	expectStatus(t, p.upload(loc, data, 1<<20), 204)
	more := phototest.JPEG(t, phototest.Options{Width: 64, Height: 64})
	for name, c := range map[string]struct {
		offset int
		body   []byte
	}{
		"empty at the end":      {len(data), []byte{}},
		"more bytes at the end": {len(data), more},
		"bytes at 0":            {0, more},
		"bytes past the end":    {len(data) + 10, more},
	} {
		r := p.patch(loc, c.offset, c.body, nil)
		if r.Status != 409 || r.problemType(t) != "upload-complete" || r.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
			t.Errorf("%s: %d %v %s, want 409 upload-complete at offset %d", name, r.Status, r.Header, r.Body, len(data))
		}
	}
	if r := p.head(loc); r.Status != 200 || r.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		t.Fatalf("HEAD after the refused PATCHes: %d %v", r.Status, r.Header)
	}
	if got := h.fetch(p.token, "/v1/photos/"+photo.String()+"/content"); !bytes.Equal(got, data) {
		t.Fatalf("the photo has %d bytes, want its own %d", len(got), len(data))
	}
}

// TestTusNumbersAreDigitsOnly: Upload-Length, Upload-Offset and Content-Length are RFC 9110
// numbers (1*DIGIT): a sign, an exponent, a hex prefix or a fraction is a 400, and nothing is made.
func TestTusNumbersAreDigitsOnly(t *testing.T) {
	h := newHarness(t)
	p, _ := newTusPhone(h, "inspector", "phone-1")
	data := phototest.JPEG(t, phototest.Full())
	photo := uuid.New()
	meta := tusMeta("photo_id", photo.String(), "sha256", sha256Hex(data))
	n := strconv.Itoa(len(data))
	for _, v := range []string{"+" + n, "-0", "-" + n, n + ".0", "1e3", "0x10", "١٢", "", "99999999999999999999"} {
		r := h.do("POST", "/v1/uploads", p.token, nil, "Tus-Resumable", "1.0.0", "Upload-Length", v, "Upload-Metadata", meta)
		if r.Status != 400 || r.problemType(t) != "bad-request" {
			t.Errorf("Upload-Length %q: %d %s", v, r.Status, r.Body)
		}
	}
	var uploads int
	if err := h.store.SQL().QueryRow(`SELECT count(*) FROM uploads`).Scan(&uploads); err != nil || uploads != 0 {
		t.Fatalf("%d uploads made from refused requests (%v)", uploads, err)
	}
	loc := p.mustCreate(photo, data)
	for _, v := range []string{"+0", "-0", "0.0", "0x0", "1e0", ""} {
		r := h.do("PATCH", loc, p.token, data[:10], "Tus-Resumable", "1.0.0", "Upload-Offset", v,
			"Content-Type", "application/offset+octet-stream")
		if r.Status != 400 || r.problemType(t) != "bad-request" {
			t.Errorf("Upload-Offset %q: %d %s", v, r.Status, r.Body)
		}
	}
	raw := fmt.Sprintf("PATCH %s HTTP/1.1\r\nHost: fieldsync\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\n"+
		"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: +10\r\n\r\n0123456789", loc, p.token)
	if r := h.raw("PATCH", loc, []byte(raw)); r.Status != 400 || r.problemType(t) != "bad-request" {
		t.Errorf("Content-Length +10: %d %s", r.Status, r.Body)
	}
	if r := p.head(loc); r.Header.Get("Upload-Offset") != "0" {
		t.Fatalf("the refused PATCHes moved the offset to %s", r.Header.Get("Upload-Offset"))
	}
}
