package server

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/models/phototest"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/google/uuid"
)

// uploadNamed uploads data as a new photo of p, with the filename and content type the phone
// claims in its Upload-Metadata.
func (p tusPhone) uploadNamed(data []byte, filename, contentType string) uuid.UUID {
	p.h.t.Helper()
	photo := uuid.New()
	r := p.h.do("POST", "/v1/uploads", p.token, nil, "Tus-Resumable", "1.0.0", "Upload-Length", strconv.Itoa(len(data)),
		"Upload-Metadata", tusMeta("photo_id", photo.String(), "sha256", sha256Hex(data), "filename", filename,
			"content_type", contentType))
	expectStatus(p.h.t, r, 201)
	expectStatus(p.h.t, p.upload(r.Header.Get("Location"), data, 64<<10), 204)
	return photo
}

// photoAnswer gets a photo's content or thumbnail as a browser would: the server's answer, and
// when that is a presigned redirect, the object store's answer too (whose headers are the ones a
// browser acts on).
func (h *harness) photoAnswer(token, path string) (server, final http.Header) {
	h.t.Helper()
	r := h.do("GET", path, token, nil)
	switch r.Status {
	case 200:
		return r.Header, r.Header
	case 302:
		res, err := http.Get(r.Header.Get("Location"))
		if err != nil {
			h.t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			h.t.Fatalf("presigned URL: %d", res.StatusCode)
		}
		return r.Header, res.Header
	}
	h.t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	return nil, nil
}

// TestPhotoHeadersAreSafe: whatever filename and type the phone claims, the stored name is
// sanitised, and photo bytes and thumbnails are served with the sniffed type, nosniff and a
// Content-Disposition that carries no CR, LF, quote, path or bidirectional character; with MinIO
// the presigned URL makes the object store answer with the same headers.
func TestPhotoHeadersAreSafe(t *testing.T) {
	data := phototest.JPEG(t, phototest.Full())
	for _, store := range []string{"local", "minio"} {
		t.Run(store, func(t *testing.T) {
			st, dsn := storagetest.NewDemoStore(t)
			h := newHarnessOn(t, st, dsn)
			if store == "minio" {
				h = newHarnessWith(t, st, dsn, miniotest.NewStore(t))
			}
			p, _ := newTusPhone(h, "inspector", "phone-1")
			cases := []struct{ claimed, stored, ascii, exact string }{
				{"../../DCIM/evil\r\nSet-Cookie: a=1; \"x\"\u202Egpj.html", "evil Set-Cookie: a=1; \"x\"gpj.html",
					`evil Set-Cookie: a=1; _x_gpj.html.jpg`, `evil Set-Cookie: a=1; "x"gpj.html.jpg`},
				{`C:\Users\巡查员\东升镇 巡查.JPG`, "东升镇 巡查.JPG", "___ __.JPG", "东升镇 巡查.JPG"},
				{"", "", "", ""},
			}
			for _, c := range cases {
				photo := p.uploadNamed(data, c.claimed, "text/html")
				pd, r := h.photo(p.token, photo)
				expectStatus(t, r, 200)
				if pd.Blob.Filename != c.stored || pd.Blob.ContentType != "image/jpeg" {
					t.Errorf("%q stored as %q (%s), want %q", c.claimed, pd.Blob.Filename, pd.Blob.ContentType, c.stored)
				}
				if c.exact == "" {
					c.ascii, c.exact = photo.String()+".jpg", photo.String()+".jpg"
				}
				server, final := h.photoAnswer(p.token, "/v1/photos/"+photo.String()+"/content")
				checkPhotoHeaders(t, server, final, "image/jpeg", c.ascii, c.exact)
			}
			// A name stored before names were sanitised is made safe when served.
			photo := p.uploadNamed(data, "old.jpg", "image/jpeg")
			if _, err := h.store.SQL().Exec(`UPDATE photo_blobs SET filename = $1 WHERE photo_id = $2`,
				"a\r\nb/../c\u202E\".jpg", photo); err != nil {
				t.Fatal(err)
			}
			server, final := h.photoAnswer(p.token, "/v1/photos/"+photo.String()+"/content")
			checkPhotoHeaders(t, server, final, "image/jpeg", "c_.jpg", `c".jpg`)
			h.makeThumbnails()
			server, final = h.photoAnswer(p.token, "/v1/photos/"+photo.String()+"/thumbnail")
			checkPhotoHeaders(t, server, final, "image/jpeg", photo.String()+"-thumb.jpg", photo.String()+"-thumb.jpg")
		})
	}
}

// checkPhotoHeaders checks the answers for photo bytes: the server's says nosniff, the final one
// (the same, or the object store's behind a redirect) has the type and a Content-Disposition
// naming ascii (filename=) and exact (filename*=).
func checkPhotoHeaders(t *testing.T, server, final http.Header, contentType, ascii, exact string) {
	t.Helper()
	if server.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("server answer without nosniff: %v", server)
	}
	if final.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("bytes served without nosniff: %v", final)
	}
	if final.Get("Content-Type") != contentType {
		t.Errorf("Content-Type %q, want %q", final.Get("Content-Type"), contentType)
	}
	cd := final.Get("Content-Disposition")
	if strings.ContainsAny(cd, "\r\n\\/\u202E") {
		t.Errorf("unsafe Content-Disposition %q", cd)
	}
	if !strings.HasPrefix(cd, `inline; filename="`+ascii+`"; filename*=UTF-8''`) {
		t.Errorf("Content-Disposition %q, want filename=%q", cd, ascii)
	}
	disp, params, err := mime.ParseMediaType(cd)
	if err != nil || disp != "inline" || params["filename"] != exact {
		t.Errorf("Content-Disposition %q parses as %q %q (%v), want the name %q", cd, disp, params, err, exact)
	}
}
