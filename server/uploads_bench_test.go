package server

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/sync/synctest"
	"github.com/google/uuid"
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
	st, dsn := synctest.NewDemoStore(b)
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

// cutPatch sends, over a raw connection, the headers of a PATCH of the whole of ph from offset 0
// and the first half of its body, then closes the connection (the phone loses its signal), and
// waits until the server has kept what it received: HEAD tells the offset. It returns the
// offset HEAD gave and the bytes sent.
func cutPatch(tb testing.TB, c *tusClient, url string, ph *benchPhoto) (offset, sent int) {
	tb.Helper()
	addr := strings.TrimPrefix(c.base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	data := ph.bytesOf()
	half := len(data) / 2
	path := strings.TrimPrefix(url, c.base)
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: fieldsync\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\n"+
		"Content-Type: %s\r\nUpload-Offset: 0\r\nContent-Length: %d\r\n\r\n", path, c.token, offsetStream, len(data))
	if _, err := conn.Write(data[:half]); err != nil {
		tb.Fatal(err)
	}
	conn.Close()
	// The server notices the cut when its read fails and keeps the bytes it read: without
	// Upload-Checksum every received byte is kept (sync/uploads_patch.go). Wait for it.
	for range 400 {
		res, err := c.do(context.Background(), "HEAD", url, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if offset, _ = strconv.Atoi(res.Header.Get("Upload-Offset")); offset == half {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	return offset, half
}

// BenchmarkUploadResumeAfterCut: a PATCH of a whole 8 MB photo is cut after half its body; the
// resume (HEAD, then PATCH from the offset) sends only the missing half. Reported: the bytes the
// resuming PATCH carried and their share of the file (target 0.5, not 1).
//
//	go test -run '^$' -bench UploadResumeAfterCut -benchtime 5x ./server/
func BenchmarkUploadResumeAfterCut(b *testing.B) {
	st, dsn := synctest.NewDemoStore(b)
	h := newHarnessWith(b, st, dsn, miniotest.StoreOn(b, miniotest.Shared(b)))
	c := newTusClient(h.serveLoopback(), h.login("inspector", "bench-phone"))
	photos := newBenchPhotos(b)
	ctx := context.Background()
	var resumed, total int64
	for b.Loop() {
		ph := photos.photo()
		url, err := c.create(ctx, uuid.New(), ph)
		if err != nil {
			b.Fatal(err)
		}
		offset, sent := cutPatch(b, c, url, ph)
		if offset != sent {
			b.Fatalf("after a cut at %d bytes the server kept %d", sent, offset)
		}
		rest := ph.bytesOf()[offset:]
		res, err := c.do(ctx, "PATCH", url, rest, "Content-Type", offsetStream, "Upload-Offset", strconv.Itoa(offset))
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode != 204 || res.Header.Get("Upload-Offset") != strconv.Itoa(ph.size) {
			b.Fatalf("resume: %s, offset %s", res.Status, res.Header.Get("Upload-Offset"))
		}
		resumed += int64(len(rest))
		total += int64(ph.size)
	}
	b.ReportMetric(float64(resumed)/float64(b.N), "resume-bytes/op")
	b.ReportMetric(float64(resumed)/float64(total), "resumed/size")
}

// TestUploadCutAtHalfMinIO: as the benchmark above, once, as a test against MinIO with an 8 MB
// photo: the server keeps exactly the bytes it received before the cut, and the resume
// completes the photo with only the other half.
func TestUploadCutAtHalfMinIO(t *testing.T) {
	st, dsn := synctest.NewDemoStore(t)
	h := newHarnessWith(t, st, dsn, miniotest.NewStore(t))
	p, _ := newTusPhone(h, "inspector", "phone-1")
	c := newTusClient(h.serveLoopback(), p.token)
	ph := newBenchPhotos(t).photo()
	photo := uuid.New()
	url, err := c.create(context.Background(), photo, ph)
	if err != nil {
		t.Fatal(err)
	}
	offset, sent := cutPatch(t, c, url, ph)
	if offset != sent {
		t.Fatalf("after a cut at %d bytes the server kept %d", sent, offset)
	}
	r := tusPhone{p.syncPhone}.patch(strings.TrimPrefix(url, c.base), offset, ph.bytesOf()[offset:], nil)
	expectStatus(t, r, 204)
	pd, r := h.photo(p.token, photo)
	if pd.Blob == nil || pd.Blob.SHA256 != ph.sha256 || pd.Blob.Size != int64(ph.size) {
		t.Fatalf("after the resume: %s", r.Body)
	}
	t.Logf("cut at %d of %d bytes; the resume sent %d", sent, ph.size, ph.size-offset)
}
