package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/fieldsync/fieldsync/storage/blob/blobtest"
)

// TestLocalStaysInside: invalid keys never touch a file, inside the directory or out of it, and
// failed puts leave no temp file.
func TestLocalStaysInside(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "photos")
	st, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range blobtest.InvalidKeys {
		if err := st.Put(ctx, key, strings.NewReader("x"), 1, ""); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Put(%q) = %v", key, err)
		}
	}
	broken := io.MultiReader(strings.NewReader("half"), errReader{})
	if err := st.Put(ctx, "a/b", broken, 100, ""); err == nil {
		t.Fatal("Put from a broken reader succeeded")
	}
	if err := st.Put(ctx, "a/c", bytes.NewReader([]byte("short")), 100, ""); err == nil {
		t.Fatal("Put from a short reader succeeded")
	}
	var files []string
	_ = filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if len(files) != 0 {
		t.Errorf("files left behind: %q", files)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("broken") }

// TestLocalPing fails with ErrUnavailable when the directory is gone.
func TestLocalPing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "photos")
	st, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(context.Background()); !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("Ping without the directory = %v, want ErrUnavailable", err)
	}
}
