package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
)

// TestOpenBlobStore: the local directory by default; MinIO with FIELDSYNC_S3_*; rejected
// credentials stop the start; an unreachable MinIO is a warning and a store that works later.
func TestOpenBlobStore(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	cfg := config{DataDir: t.TempDir()}
	st, err := openBlobStore(ctx, &cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if local, ok := st.(*blob.Local); !ok || local.Dir() != filepath.Join(cfg.DataDir, "photos") {
		t.Fatalf("default store = %s, want the local directory under the data dir", st.Name())
	}

	srv := miniotest.New(t)
	cfg = config{S3Endpoint: srv.Endpoint, S3AccessKey: srv.AccessKey, S3SecretKey: srv.SecretKey, S3Bucket: "photos-test"}
	st, err = openBlobStore(ctx, &cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, "a/b", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatalf("Put into the opened MinIO store: %v", err)
	}

	bad := cfg
	bad.S3SecretKey = "not-the-secret"
	if _, err := openBlobStore(ctx, &bad, log); err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("wrong secret: %v, want a credentials error", err)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	st, err = openBlobStore(ctx, &cfg, log)
	if err != nil || st == nil {
		t.Fatalf("MinIO down: %v; want a store and a warning", err)
	}
	if !strings.Contains(logs.String(), "not reachable") {
		t.Errorf("no warning logged: %s", logs.String())
	}
	if err := st.Ping(ctx); !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("Ping with MinIO down = %v", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping with MinIO back = %v", err)
	}
}
