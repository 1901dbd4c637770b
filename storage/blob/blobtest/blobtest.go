// Package blobtest is the contract test suite every blob.Store passes: run it from the store's
// tests with a function that opens an empty store for one test.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/storage/blob"
)

// Run runs the contract suite; open returns an empty store for the (sub)test t.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st blob.Store)
	}{
		{"PutGet", testPutGet},
		{"Empty", testEmpty},
		{"Range", testRange},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"InvalidKey", testInvalidKey},
		{"InvalidArgs", testInvalidArgs},
		{"FailingReader", testFailingReader},
		{"ShortReader", testShortReader},
		{"LongReader", testLongReader},
		{"Canceled", testCanceled},
		{"Large", testLarge},
		{"List", testList},
		{"ListPrefix", testListPrefix},
		{"Presign", testPresign},
		{"ConcurrentPuts", testConcurrentPuts},
		{"PingName", testPingName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// ctx returns a context for one test step.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// payload returns n pseudo-random bytes from seed.
func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(t *testing.T, st blob.Store, key string, b []byte, ct string) {
	t.Helper()
	if err := st.Put(ctx(t), key, bytes.NewReader(b), int64(len(b)), ct); err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
}

// get returns the object's bytes and info.
func get(t *testing.T, st blob.Store, key string) ([]byte, blob.Info) {
	t.Helper()
	rc, info, err := st.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%s): read: %v", key, err)
	}
	return b, info
}

func testPutGet(t *testing.T, st blob.Store) {
	want := payload(1, 100_000)
	put(t, st, "photos/ab/abcdef.jpg", want, "image/jpeg")
	got, info := get(t, st, "photos/ab/abcdef.jpg")
	if !bytes.Equal(got, want) {
		t.Fatalf("Get returned %d bytes, not the %d put", len(got), len(want))
	}
	if info.Key != "photos/ab/abcdef.jpg" || info.Size != int64(len(want)) || info.ContentType != "image/jpeg" || info.Modified.IsZero() {
		t.Errorf("Get info = %+v", info)
	}
	si, err := st.Stat(ctx(t), "photos/ab/abcdef.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if si.Key != info.Key || si.Size != info.Size || si.ContentType != info.ContentType || !si.Modified.Equal(info.Modified) {
		t.Errorf("Stat = %+v, Get info = %+v", si, info)
	}
}

func testEmpty(t *testing.T, st blob.Store) {
	put(t, st, "empty", nil, "text/plain")
	b, info := get(t, st, "empty")
	if len(b) != 0 || info.Size != 0 {
		t.Errorf("empty object: %d bytes, info %+v", len(b), info)
	}
	rc, err := st.GetRange(ctx(t), "empty", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(rc); err != nil || len(b) != 0 {
		t.Errorf("GetRange of an empty object: %q, %v", b, err)
	}
	_ = rc.Close()
}

func testRange(t *testing.T, st blob.Store) {
	want := payload(2, 10_000)
	put(t, st, "r/obj", want, "")
	n := int64(len(want))
	for _, c := range []struct{ off, length, from, to int64 }{
		{0, -1, 0, n},
		{0, 1, 0, 1},
		{0, n, 0, n},
		{1, 10, 1, 11},
		{5000, -1, 5000, n},
		{n - 1, 5, n - 1, n},  // cut at the end
		{100, n, 100, n},      // cut at the end
		{n, -1, n, n},         // at the end: empty
		{n + 100, 10, n, n},   // past the end: empty
		{42, 0, 42, 42},       // nothing asked
		{0, n + 1000, 0, n},   // all, asked generously
		{9000, 1000, 9000, n}, // exactly the tail
		{8999, 1000, 8999, n - 1},
	} {
		rc, err := st.GetRange(ctx(t), "r/obj", c.off, c.length)
		if err != nil {
			t.Errorf("GetRange(%d, %d): %v", c.off, c.length, err)
			continue
		}
		got, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Errorf("GetRange(%d, %d): read: %v", c.off, c.length, err)
		} else if !bytes.Equal(got, want[c.from:c.to]) {
			t.Errorf("GetRange(%d, %d) = %d bytes, want bytes %d..%d", c.off, c.length, len(got), c.from, c.to)
		}
	}
}

func testOverwrite(t *testing.T, st blob.Store) {
	put(t, st, "o", payload(3, 5000), "image/png")
	want := payload(4, 300)
	put(t, st, "o", want, "image/jpeg")
	got, info := get(t, st, "o")
	if !bytes.Equal(got, want) || info.Size != 300 || info.ContentType != "image/jpeg" {
		t.Errorf("after overwrite: %d bytes, %+v", len(got), info)
	}
}

func testDelete(t *testing.T, st blob.Store) {
	put(t, st, "d/a/b", []byte("x"), "")
	put(t, st, "d/a/c", []byte("y"), "")
	for range 2 { // deleting twice is fine
		if err := st.Delete(ctx(t), "d/a/b"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	if _, err := st.Stat(ctx(t), "d/a/b"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after Delete: %v, want ErrNotFound", err)
	}
	if b, _ := get(t, st, "d/a/c"); string(b) != "y" {
		t.Errorf("sibling = %q", b)
	}
	if err := st.Delete(ctx(t), "never/was"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	if err := st.Delete(ctx(t), "d/a/c"); err != nil {
		t.Fatal(err)
	}
	put(t, st, "d/a/b", []byte("again"), "") // the emptied directories can be used again
	if b, _ := get(t, st, "d/a/b"); string(b) != "again" {
		t.Errorf("after re-put: %q", b)
	}
}

func testNotFound(t *testing.T, st blob.Store) {
	put(t, st, "nf/there", []byte("x"), "")
	for _, key := range []string{"missing", "nf/there/below", "nf/the", "nf"} {
		if _, _, err := st.Get(ctx(t), key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound", key, err)
		}
		if _, err := st.GetRange(ctx(t), key, 0, 10); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("GetRange(%s) = %v, want ErrNotFound", key, err)
		}
		if _, err := st.GetRange(ctx(t), key, 0, 0); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("GetRange(%s, 0, 0) = %v, want ErrNotFound", key, err)
		}
		if _, err := st.Stat(ctx(t), key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(%s) = %v, want ErrNotFound", key, err)
		}
	}
}

// InvalidKeys are keys every store refuses.
var InvalidKeys = []string{
	"", "/abs", "../up", "a/../../up", "a/..", "..", ".", "a/./b", "a//b", "a/", "Upper", "sp ace",
	"a\\b", "a\x00b", "tab\t", "ümlaut", "q?x", "p%2e%2e", strings.Repeat("k", blob.MaxKeyLen+1),
}

func testInvalidKey(t *testing.T, st blob.Store) {
	for _, key := range InvalidKeys {
		if err := st.Put(ctx(t), key, strings.NewReader("x"), 1, ""); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Put(%q) = %v, want ErrInvalid", key, err)
		}
		if _, _, err := st.Get(ctx(t), key); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Get(%q) = %v, want ErrInvalid", key, err)
		}
		if _, err := st.GetRange(ctx(t), key, 0, 1); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("GetRange(%q) = %v, want ErrInvalid", key, err)
		}
		if _, err := st.Stat(ctx(t), key); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Stat(%q) = %v, want ErrInvalid", key, err)
		}
		if err := st.Delete(ctx(t), key); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Delete(%q) = %v, want ErrInvalid", key, err)
		}
		if _, _, err := st.PresignGet(ctx(t), key, time.Minute, "f.jpg", "image/jpeg"); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("PresignGet(%q) = %v, want ErrInvalid", key, err)
		}
	}
	if infos, err := st.List(ctx(t), "", "", 10); err != nil || len(infos) != 0 {
		t.Errorf("after invalid puts the store holds %v (%v)", infos, err)
	}
	longest := strings.Repeat("k/", blob.MaxKeyLen/2-1) + "kk"
	put(t, st, longest, []byte("deep"), "")
	if b, _ := get(t, st, longest); string(b) != "deep" {
		t.Errorf("longest key: %q", b)
	}
	put(t, st, "a-b_c.d/0-9.jpg", []byte("ok"), "")
}

func testInvalidArgs(t *testing.T, st blob.Store) {
	bad := []struct {
		name string
		err  error
	}{
		{"negative size", st.Put(ctx(t), "k", strings.NewReader("x"), -1, "")},
		{"content type with newline", st.Put(ctx(t), "k", strings.NewReader("x"), 1, "image/jpeg\r\nX-Evil: 1")},
		{"long content type", st.Put(ctx(t), "k", strings.NewReader("x"), 1, strings.Repeat("a", blob.MaxContentTypeLen+1))},
	}
	_, err := st.GetRange(ctx(t), "k", -1, 1)
	bad = append(bad, struct {
		name string
		err  error
	}{"negative offset", err})
	for _, p := range []string{"/", "../", "a//", "A"} {
		_, err := st.List(ctx(t), p, "", 10)
		bad = append(bad, struct {
			name string
			err  error
		}{"list prefix " + p, err})
	}
	_, err = st.List(ctx(t), "", "", 0)
	bad = append(bad, struct {
		name string
		err  error
	}{"list limit 0", err})
	for _, b := range bad {
		if !errors.Is(b.err, blob.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", b.name, b.err)
		}
	}
	if _, err := st.Stat(ctx(t), "k"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("an invalid Put stored something: Stat = %v", err)
	}
}

// hashOf returns the hex sha256 of b.
func hashOf(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }
