package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/storage/blob"
)

// failAfter yields n bytes of data, then fails.
type failAfter struct {
	r   io.Reader
	n   int64
	err error
}

var errReader = errors.New("reader broke")

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

func testFailingReader(t *testing.T, st blob.Store) {
	old := payload(5, 1000)
	put(t, st, "f/kept", old, "image/jpeg")
	next := payload(6, 3<<20)
	for _, key := range []string{"f/kept", "f/new"} {
		r := &failAfter{r: bytes.NewReader(next), n: int64(len(next)) / 2, err: errReader}
		err := st.Put(ctx(t), key, r, int64(len(next)), "image/png")
		if err == nil {
			t.Fatalf("Put(%s) from a failing reader succeeded", key)
		}
		if !errors.Is(err, errReader) || errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Put(%s) from a failing reader: %v; want the reader's error, not ErrUnavailable", key, err)
		}
	}
	if b, info := get(t, st, "f/kept"); !bytes.Equal(b, old) || info.ContentType != "image/jpeg" {
		t.Errorf("the old object changed: %d bytes, %+v", len(b), info)
	}
	if _, err := st.Stat(ctx(t), "f/new"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("a failed Put left an object: Stat = %v", err)
	}
	if infos, err := st.List(ctx(t), "", "", 10); err != nil || len(infos) != 1 {
		t.Errorf("List after failed puts = %+v, %v; want only f/kept", infos, err)
	}
}

func testShortReader(t *testing.T, st blob.Store) {
	err := st.Put(ctx(t), "s/short", bytes.NewReader(payload(7, 1000)), 2000, "")
	if err == nil || errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("Put of 1000 bytes announced as 2000 = %v, want an error (not ErrUnavailable)", err)
	}
	if _, err := st.Stat(ctx(t), "s/short"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("a short Put left an object: Stat = %v", err)
	}
}

func testLongReader(t *testing.T, st blob.Store) {
	b := payload(8, 1000)
	if err := st.Put(ctx(t), "l/long", bytes.NewReader(b), 600, ""); err != nil {
		t.Fatalf("Put of the first 600 of 1000 bytes: %v", err)
	}
	if got, _ := get(t, st, "l/long"); !bytes.Equal(got, b[:600]) {
		t.Errorf("stored %d bytes, want the first 600", len(got))
	}
}

func testCanceled(t *testing.T, st blob.Store) {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	err := st.Put(c, "c/x", bytes.NewReader([]byte("x")), 1, "")
	if err == nil || errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("Put with a canceled context = %v, want the context's error", err)
	}
	if _, err := st.Stat(ctx(t), "c/x"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("a canceled Put left an object: Stat = %v", err)
	}
}

// genReader yields n pseudo-random bytes without holding them.
type genReader struct {
	r *rand.ChaCha8
	n int64
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	n, _ := g.r.Read(p)
	g.n -= int64(n)
	return n, nil
}

func testLarge(t *testing.T, st blob.Store) {
	const size = 20<<20 + 123 // beyond one part of a multipart upload
	seed := [32]byte{9}
	want := sha256.New()
	_, _ = io.Copy(want, &genReader{rand.NewChaCha8(seed), size})
	// Hide everything but Read, as a network body would.
	src := struct{ io.Reader }{&genReader{rand.NewChaCha8(seed), size}}
	if err := st.Put(ctx(t), "big/one", src, size, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	rc, info, err := st.Get(ctx(t), "big/one")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	got := sha256.New()
	n, err := io.Copy(got, rc)
	if err != nil || n != size || info.Size != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Errorf("large object: read %d bytes (%v), info %+v, hash match %v", n, err, info, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
}

// listKeys are put in random order; the list must come back sorted byte-wise, which is not the
// order of a naive directory walk ("a-b" and "a.b" sort before "a/..."). No key is a directory
// of another (MinIO refuses "a" beside "a/b").
var listKeys = []string{"a-b", "a.b", "a/b/c", "a/b-c", "a/b.c", "a0", "ab", "b/x/y/z", "b/x0", "c", "c_d"}

func testList(t *testing.T, st blob.Store) {
	keys := slices.Clone(listKeys)
	rand.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for i, k := range keys {
		put(t, st, k, bytes.Repeat([]byte{'x'}, i+1), "text/plain")
	}
	want := slices.Sorted(slices.Values(listKeys))
	for _, limit := range []int{1, 2, 3, 5, 100} {
		var got []string
		after := ""
		for page := 0; ; page++ {
			infos, err := st.List(ctx(t), "", after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(infos) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(infos))
			}
			for _, in := range infos {
				got = append(got, in.Key)
				if wantSize := int64(slices.Index(keys, in.Key) + 1); in.Size != wantSize || in.Modified.IsZero() {
					t.Errorf("List info %+v, want size %d", in, wantSize)
				}
			}
			if len(infos) < limit || page > len(want) {
				break
			}
			after = infos[len(infos)-1].Key
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: listed %q\nwant %q", limit, got, want)
		}
	}
	// after need not be a stored key.
	infos, err := st.List(ctx(t), "", "a/b/", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(infos); !slices.Equal(got, []string{"a/b/c", "a0", "ab"}) {
		t.Errorf("List after a/b/ = %q", got)
	}
}

func testListPrefix(t *testing.T, st blob.Store) {
	for _, k := range listKeys {
		put(t, st, k, []byte("x"), "")
	}
	for prefix, want := range map[string][]string{
		"a/":      {"a/b-c", "a/b.c", "a/b/c"},
		"a/b":     {"a/b-c", "a/b.c", "a/b/c"},
		"a/b/":    {"a/b/c"},
		"a":       {"a-b", "a.b", "a/b-c", "a/b.c", "a/b/c", "a0", "ab"},
		"b/x":     {"b/x/y/z", "b/x0"},
		"c":       {"c", "c_d"},
		"zzz":     nil,
		"b/x/y/z": {"b/x/y/z"},
		"nope/":   nil,
	} {
		infos, err := st.List(ctx(t), prefix, "", 100)
		if err != nil {
			t.Fatalf("List(%s): %v", prefix, err)
		}
		if got := keysOf(infos); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", prefix, got, want)
		}
	}
	infos, err := st.List(ctx(t), "a/", "a/b-c", 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(infos); !slices.Equal(got, []string{"a/b.c", "a/b/c"}) {
		t.Errorf("List(a/, after a/b-c, 2) = %q", got)
	}
}

func keysOf(infos []blob.Info) []string {
	var keys []string
	for _, in := range infos {
		keys = append(keys, in.Key)
	}
	return keys
}

func testPresign(t *testing.T, st blob.Store) {
	want := payload(10, 70_000)
	put(t, st, "p/photo", want, "application/octet-stream")
	const disposition = `inline; filename="visit 12 _.jpg"; filename*=UTF-8''visit%2012%20%E7%85%A7.jpg`
	if _, _, err := st.PresignGet(ctx(t), "p/photo", time.Minute, "inline; filename=\"a\r\nSet-Cookie: x=1\"", "image/jpeg"); !errors.Is(err, blob.ErrInvalid) {
		t.Errorf("PresignGet with CR LF in the disposition = %v, want ErrInvalid", err)
	}
	u, ok, err := st.PresignGet(ctx(t), "p/photo", time.Minute, disposition, "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		if u != "" {
			t.Errorf("PresignGet not ok, yet URL %q", u)
		}
		return
	}
	pu, err := url.Parse(u)
	if err != nil || pu.Hostname() != "127.0.0.1" {
		t.Fatalf("presigned URL %q (%v): tests fetch only from 127.0.0.1", u, err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Minute}
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		t.Fatalf("presigned GET: %s, %d bytes (%v)", resp.Status, len(got), err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("presigned Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != disposition {
		t.Errorf("presigned Content-Disposition %q, want %q", cd, disposition)
	}
	// A missing object presigns (nothing is checked) but does not serve.
	u2, ok, err := st.PresignGet(ctx(t), "p/missing", time.Minute, "", "")
	if err != nil || !ok {
		t.Fatalf("PresignGet(missing) = %v, %v", ok, err)
	}
	resp2, err := client.Get(u2)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp2.Body.Close()
	if resp2.StatusCode != http.StatusNotFound {
		t.Errorf("presigned GET of a missing object: %s", resp2.Status)
	}
}

func testConcurrentPuts(t *testing.T, st blob.Store) {
	const writers = 8
	payloads := make(map[string]string) // hash -> content type
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		b := payload(uint64(100+i), 256<<10)
		ct := fmt.Sprintf("image/x-writer-%d", i)
		payloads[hashOf(b)] = ct
		wg.Go(func() {
			// Trickle the bytes so the writes overlap.
			r := io.MultiReader(bytes.NewReader(b[:1000]), slowReader{}, bytes.NewReader(b[1000:]))
			if err := st.Put(ctx(t), "same/key", r, int64(len(b)), ct); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Put: %v", err)
	}
	got, info := get(t, st, "same/key")
	ct, ok := payloads[hashOf(got)]
	if !ok || ct != info.ContentType {
		t.Errorf("after concurrent puts the object is none of the payloads whole (%d bytes, %+v)", len(got), info)
	}
	if infos, err := st.List(ctx(t), "", "", 10); err != nil || len(infos) != 1 {
		t.Errorf("List after concurrent puts = %+v, %v; want one object", infos, err)
	}
}

// slowReader pauses, then ends.
type slowReader struct{}

func (slowReader) Read([]byte) (int, error) {
	time.Sleep(20 * time.Millisecond)
	return 0, io.EOF
}

func testPingName(t *testing.T, st blob.Store) {
	if err := st.Ping(ctx(t)); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if st.Name() == "" {
		t.Error("empty Name")
	}
}
