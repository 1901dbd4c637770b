package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/minio/minio-go/v7"
)

// BenchmarkUpload8MB: 8 MB photos uploaded through /v1/uploads in 1 MiB chunks (one PATCH per
// chunk, each with Upload-Checksum) by 1 and 8 concurrent phones, over a real 127.0.0.1 listener
// to the in-process server whose photos go to a real MinIO, against minio-go's PutObject of the
// same files into the same MinIO, in the same run. The two alternate in rounds of `concurrent`
// files (which goes first alternates too), so both see the same machine. Every file is distinct
// (dedup skips nothing). Reported: MB/s of each (MB = 2^20 bytes) and tus/put, the ratio
// (target ≥ 0.8). ns/op covers both.
//
//	go test -run '^$' -bench Upload8MB -benchtime 48x ./server/
func BenchmarkUpload8MB(b *testing.B) {
	srv := miniotest.Shared(b)
	store := miniotest.StoreOn(b, srv)
	st, dsn := storagetest.NewDemoStore(b)
	h := newHarnessWith(b, st, dsn, store)
	base := h.serveLoopback()
	client := newTusClient(base, h.login("inspector", "bench-phone"))
	photos := newBenchPhotos(b)
	mc := store.Client()
	put := func(ctx context.Context, key string, ph *benchPhoto) error {
		_, err := mc.PutObject(ctx, store.Bucket(), key, ph.reader(), int64(ph.size),
			minio.PutObjectOptions{ContentType: "image/jpeg", PartSize: 16 << 20, NumThreads: 1})
		return err
	}
	// Warm both paths (connections, bucket, prepared statements) outside the figures.
	if err := client.upload(context.Background(), photos.photo()); err != nil {
		b.Fatal(err)
	}
	if err := put(context.Background(), "direct/warm", photos.photo()); err != nil {
		b.Fatal(err)
	}
	for _, conc := range []int{1, 8} {
		b.Run(fmt.Sprintf("concurrent-%d", conc), func(b *testing.B) {
			files := make([]*benchPhoto, b.N)
			for i := range files {
				files[i] = photos.photo()
			}
			ctx := context.Background()
			var tusTime, putTime time.Duration
			var bytes int64
			arms := []func(from, to int) error{
				func(from, to int) error {
					t0 := time.Now()
					err := runConcurrently(from, to, func(i int) error { return client.upload(ctx, files[i]) })
					tusTime += time.Since(t0)
					return err
				},
				func(from, to int) error {
					t0 := time.Now()
					err := runConcurrently(from, to, func(i int) error {
						return put(ctx, fmt.Sprintf("direct/%d-%s", i, files[i].sha256[:16]), files[i])
					})
					putTime += time.Since(t0)
					return err
				},
			}
			b.ResetTimer()
			for round, from := 0, 0; from < b.N; round, from = round+1, from+conc {
				to := min(from+conc, b.N)
				first := round % 2
				for k := range 2 {
					if err := arms[(first+k)%2](from, to); err != nil {
						b.Fatal(err)
					}
				}
				for i := from; i < to; i++ {
					bytes += int64(files[i].size)
				}
			}
			b.StopTimer()
			mb := float64(bytes) / (1 << 20)
			tus, direct := mb/tusTime.Seconds(), mb/putTime.Seconds()
			b.ReportMetric(tus, "tus-MB/s")
			b.ReportMetric(direct, "put-MB/s")
			b.ReportMetric(tus/direct, "tus/put")
		})
	}
}
