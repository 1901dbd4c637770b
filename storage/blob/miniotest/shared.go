package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/minio/minio-go/v7"
)

// dirPrefix names the temp directories of test servers.
const dirPrefix = "fieldsync-miniotest-"

// shared is the server of this test binary, started on first use.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
	dir  string
	lock *os.File
}

// Shared returns the MinIO of this test binary, starting it on first use; it is stopped and its
// directory removed when pgtest.Main returns from the tests. Tests must not stop it: a test that
// stops MinIO uses New.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		removeStale()
		shared.dir, shared.lock, shared.srv, shared.err = startIn()
		if shared.err == nil {
			pgtest.AtExit(stopShared)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// stopShared stops the shared server and removes its directory.
func stopShared() error {
	err := shared.srv.Stop()
	if rmErr := os.RemoveAll(shared.dir); err == nil && rmErr != nil {
		err = fmt.Errorf("miniotest: remove %s: %w", shared.dir, rmErr)
	}
	_ = shared.lock.Close()
	return err
}

// New starts a MinIO of the test's own, stopped and removed at the test's cleanup.
func New(t testing.TB) *Server {
	t.Helper()
	dir, lock, srv, err := startIn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("miniotest: %v", err)
		}
		_ = lock.Close()
	})
	return srv
}

// startIn starts a server in a new locked temp directory.
func startIn() (string, *os.File, *Server, error) {
	dir, err := os.MkdirTemp(tempBase(), dirPrefix)
	if err != nil {
		return "", nil, nil, fmt.Errorf("miniotest: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, nil, err
	}
	srv, err := Start(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		_ = lock.Close()
		return "", nil, nil, err
	}
	return dir, lock, srv, nil
}

// NewStore returns a store on a fresh bucket of the shared server, emptied and removed at the
// test's cleanup.
func NewStore(t testing.TB) *blob.MinIO {
	t.Helper()
	return StoreOn(t, Shared(t))
}

// StoreOn returns a store on a fresh bucket of srv, emptied and removed at the test's cleanup
// (unless srv is down by then).
func StoreOn(t testing.TB, srv *Server) *blob.MinIO {
	t.Helper()
	bucket := BucketName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := blob.NewMinIO(ctx, blob.MinIOConfig{
		Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: bucket,
	})
	if err != nil {
		t.Fatalf("miniotest: open bucket %s: %v", bucket, err)
	}
	t.Cleanup(func() {
		if !srv.Running() {
			return // stopped by the test: its directory goes with it
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := st.Client().RemoveBucketWithOptions(ctx, bucket, minio.RemoveBucketOptions{ForceDelete: true})
		if err != nil {
			t.Errorf("miniotest: remove bucket %s: %v", bucket, err)
		}
	})
	return st
}

// BucketName returns a valid, unique bucket name made from name (a test name).
func BucketName(name string) string {
	var b strings.Builder
	dash := true // no leading dash
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 44 {
			break
		}
	}
	base := strings.TrimRight(b.String(), "-")
	if len(base) > 44 {
		base = strings.TrimRight(base[:44], "-")
	}
	if base == "" {
		base = "t"
	}
	var suffix [3]byte
	_, _ = rand.Read(suffix[:]) // never fails
	return base + "-" + hex.EncodeToString(suffix[:])
}

// removeStale removes server directories left by test binaries that died: those no live process
// holds, last changed over a minute ago.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(tempBase(), dirPrefix+"*")) // the pattern is valid
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil || time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		if !locked(dir) {
			_ = os.RemoveAll(dir)
		}
	}
}
