package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
)

// TestMinIODown stops MinIO: every call fails with ErrUnavailable (quickly: minio-go retries
// once); after a restart the same store works again and the data is intact.
func TestMinIODown(t *testing.T) {
	srv := miniotest.New(t)
	t.Logf("minio started in %s", srv.StartTime.Round(time.Millisecond))
	st := miniotest.StoreOn(t, srv)
	ctx := context.Background()
	want := bytes.Repeat([]byte("photo"), 100_000)
	if err := st.Put(ctx, "kept/one", bytes.NewReader(want), int64(len(want)), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Put": func() error {
			return st.Put(ctx, "new/one", bytes.NewReader(want), int64(len(want)), "image/jpeg")
		},
		"Get":      func() error { _, _, err := st.Get(ctx, "kept/one"); return err },
		"GetRange": func() error { _, err := st.GetRange(ctx, "kept/one", 10, 10); return err },
		"Stat":     func() error { _, err := st.Stat(ctx, "kept/one"); return err },
		"Delete":   func() error { return st.Delete(ctx, "kept/two") },
		"List":     func() error { _, err := st.List(ctx, "", "", 10); return err },
		"Ping":     func() error { return st.Ping(ctx) },
	}
	for name, call := range calls {
		t0 := time.Now()
		err := call()
		if !errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("%s with MinIO down = %v, want ErrUnavailable", name, err)
		}
		t.Logf("%s with MinIO down: %s: %v", name, time.Since(t0).Round(time.Millisecond), err)
	}
	// A presigned URL needs no server.
	if _, ok, err := st.PresignGet(ctx, "kept/one", time.Minute, "a.jpg", "image/jpeg"); !ok || err != nil {
		t.Errorf("PresignGet with MinIO down = %v, %v", ok, err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("minio restarted in %s", srv.StartTime.Round(time.Millisecond))
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	rc, _, err := st.Get(ctx, "kept/one")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after restart: %d bytes (%v), want the %d put before", len(got), err, len(want))
	}
	if err := calls["Put"](); err != nil {
		t.Fatalf("Put after restart: %v", err)
	}
}

// TestMinIODownMidUpload kills MinIO while a Put is streaming: the Put fails with ErrUnavailable,
// and after a restart nothing is stored under the key.
func TestMinIODownMidUpload(t *testing.T) {
	srv := miniotest.New(t)
	st := miniotest.StoreOn(t, srv)
	ctx := context.Background()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- st.Put(ctx, "cut/one", pr, 8<<20, "image/jpeg") }()
	if _, err := pw.Write(make([]byte, 1<<20)); err != nil { // MinIO is reading the body
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(pw, strings.NewReader(strings.Repeat("x", 7<<20))); _ = pw.Close() }()
	if err := <-done; !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("Put cut by a MinIO crash = %v, want ErrUnavailable", err)
	}
	_ = pr.CloseWithError(errors.New("test over"))
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(ctx, "cut/one"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after a cut Put = %v, want ErrNotFound", err)
	}
}

// TestMinIOBadCredentials: rejected credentials are an error of their own, not ErrUnavailable,
// so a server fails at start instead of waiting for MinIO.
func TestMinIOBadCredentials(t *testing.T) {
	srv := miniotest.Shared(t)
	_, err := blob.NewMinIO(context.Background(), blob.MinIOConfig{
		Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: "wrong-secret-key", Bucket: "badcreds",
	})
	if err == nil || errors.Is(err, blob.ErrUnavailable) {
		t.Fatalf("NewMinIO with a wrong secret = %v, want a credentials error", err)
	}
	t.Log(err)
}

// TestMinIOUnreachable: NewMinIO on a port nobody serves returns a usable store and
// ErrUnavailable.
func TestMinIOUnreachable(t *testing.T) {
	srv := miniotest.New(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	cfg := blob.MinIOConfig{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: "later"}
	st, err := blob.NewMinIO(context.Background(), cfg)
	if !errors.Is(err, blob.ErrUnavailable) || st == nil {
		t.Fatalf("NewMinIO with MinIO down = %v, %v; want a store and ErrUnavailable", st, err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The bucket is created on first use.
	if err := st.Put(context.Background(), "x", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatalf("Put once MinIO is up: %v", err)
	}
}
