package photofile

import (
	"bytes"
	"github.com/fieldsync/fieldsync/models"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models/phototest"
)

var (
	bigOnce sync.Once
	bigJPEG []byte
)

// big8MB is an ~8 MB, ~24-megapixel noisy JPEG with full EXIF, made once per test binary.
func big8MB(b *testing.B) []byte {
	bigOnce.Do(func() { bigJPEG = phototest.BigJPEG(b, 8<<20) })
	return bigJPEG
}

// peakHeap samples the live heap every few milliseconds while f runs and returns the largest
// rise over the heap before f, in bytes.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak.Load()
}

// BenchmarkThumbnail24MP: the thumbnail of an 8 MB 24-megapixel phone photo, orientation 6.
// Reports the peak live heap of one call next to -benchmem's totals.
func BenchmarkThumbnail24MP(b *testing.B) {
	src := big8MB(b)
	cfg := ReadExif(bytes.NewReader(src), int64(len(src)), models.ContentJPEG)
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		p := peakHeap(func() {
			if _, err := Thumbnail(bytes.NewReader(src), models.ContentJPEG, 6); err != nil {
				b.Fatal(err)
			}
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
	b.ReportMetric(float64(len(src))/1e6, "file-MB")
	b.ReportMetric(float64(cfg.Width*cfg.Height)/1e6, "megapixels")
}

// BenchmarkReadExif8MB: EXIF and pixel size of the same 8 MB photo; only the header is read.
func BenchmarkReadExif8MB(b *testing.B) {
	src := big8MB(b)
	r := bytes.NewReader(src)
	b.ResetTimer()
	for b.Loop() {
		if x := ReadExif(r, int64(len(src)), models.ContentJPEG); x.Lat == nil {
			b.Fatal("no gps")
		}
	}
}
