package blob_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/minio/minio-go/v7"
)

const photoSize = 8 << 20

// BenchmarkPut8MB puts 8 MB photos, by 1, 8 and 32 writers, into the local store and into MinIO
// (blob.MinIO, and minio-go's PutObject directly for comparison). peak-RSS-MB is the test
// process's peak so far (it includes the 8 MB source and the earlier runs). The source hides everything but
// Read, as a request body would. MB/s is the total of all writers.
func BenchmarkPut8MB(b *testing.B) {
	photo := bytes.Repeat([]byte("0123456789abcdef"), photoSize/16)
	stores := []struct {
		name string
		open func(b *testing.B) func(ctx context.Context, key string, r io.Reader) error
	}{
		{"local", func(b *testing.B) func(context.Context, string, io.Reader) error {
			st, err := blob.NewLocal(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return func(ctx context.Context, key string, r io.Reader) error {
				return st.Put(ctx, key, r, photoSize, "image/jpeg")
			}
		}},
		{"minio", func(b *testing.B) func(context.Context, string, io.Reader) error {
			st := miniotest.NewStore(b)
			return func(ctx context.Context, key string, r io.Reader) error {
				return st.Put(ctx, key, r, photoSize, "image/jpeg")
			}
		}},
		{"minio-go-direct", func(b *testing.B) func(context.Context, string, io.Reader) error {
			st := miniotest.NewStore(b)
			return func(ctx context.Context, key string, r io.Reader) error {
				_, err := st.Client().PutObject(ctx, st.Bucket(), key, r, photoSize, putOpts)
				return err
			}
		}},
	}
	for _, s := range stores {
		for _, writers := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/%d", s.name, writers), func(b *testing.B) {
				put := s.open(b)
				b.SetBytes(photoSize)
				b.ReportAllocs()
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for w := range writers {
					wg.Go(func() {
						for next.Add(1) <= int64(b.N) {
							key := fmt.Sprintf("bench/w%d", w)
							if err := put(context.Background(), key, struct{ io.Reader }{bytes.NewReader(photo)}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				if rss := peakRSS(); rss > 0 {
					b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
				}
			})
		}
	}
}

// TestMinIOPutStreams: a Put of a known size streams from the reader: it allocates a small
// fraction of the object, so many concurrent uploads stay within a small memory budget.
func TestMinIOPutStreams(t *testing.T) {
	st := miniotest.NewStore(t)
	photo := bytes.Repeat([]byte("x"), photoSize)
	put := func() {
		if err := st.Put(context.Background(), "s/one", struct{ io.Reader }{bytes.NewReader(photo)}, photoSize, "image/jpeg"); err != nil {
			t.Fatal(err)
		}
	}
	put() // warm up the connection
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 4
	for range n {
		put()
	}
	runtime.ReadMemStats(&after)
	perPut := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("allocated %d KiB per 8 MiB put", perPut>>10)
	if perPut > photoSize/4 {
		t.Errorf("a Put of 8 MiB allocated %d KiB: it buffers the object instead of streaming it", perPut>>10)
	}
}

// peakRSS returns the test process's peak resident set size so far (Linux; else 0).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// putOpts are the options blob.MinIO uses, for the direct comparison.
var putOpts = minio.PutObjectOptions{ContentType: "image/jpeg", PartSize: 16 << 20, NumThreads: 1}
