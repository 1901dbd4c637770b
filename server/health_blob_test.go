package server

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
)

// TestReadyzPhotoStore: /readyz answers 503 not-ready with Retry-After while MinIO is down and 200
// once it is back.
func TestReadyzPhotoStore(t *testing.T) {
	st, _ := storagetest.NewEmptyStore(t)
	srv := miniotest.New(t)
	photos := miniotest.StoreOn(t, srv)
	app, err := New(Deps{Store: st, Blob: photos, Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	ct := loadContract(t)
	ready := func() (int, string, string) {
		t.Helper()
		req := httptest.NewRequest("GET", "/readyz", nil)
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = res.Body.Close() }()
		body, _ := io.ReadAll(res.Body)
		ct.check(t, req, nil, res, body)
		return res.StatusCode, res.Header.Get("Retry-After"), string(body)
	}
	if code, _, body := ready(); code != 200 {
		t.Fatalf("readyz with MinIO up: %d %s", code, body)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if code, retry, body := ready(); code != 503 || retry == "" || !strings.Contains(body, "not-ready") {
		t.Fatalf("readyz with MinIO down: %d (Retry-After %q) %s", code, retry, body)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if code, _, body := ready(); code != 200 {
		t.Fatalf("readyz with MinIO back: %d %s", code, body)
	}
}
