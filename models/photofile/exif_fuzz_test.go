package photofile

import (
	"bytes"
	"github.com/fieldsync/fieldsync/models"
	"runtime"
	"testing"

	"github.com/fieldsync/fieldsync/models/phototest"
)

// FuzzReadExif feeds arbitrary files to the EXIF reader under each content type. It must
// not panic (ReadExif recovers, so a recovered panic shows up as the internal-error message
// and fails here too), must allocate no more than a few times the file's size (no size read from the file is
// trusted), and must keep its output bounded.
func FuzzReadExif(f *testing.F) {
	full := phototest.Full()
	tiff := phototest.ExifTIFF(f, full)
	f.Add(phototest.JPEG(f, full), uint8(0))
	f.Add(phototest.JPEG(f, phototest.Options{Orientation: 6, Width: 8, Height: 8}), uint8(0))
	f.Add(phototest.JPEG(f, phototest.Options{ExifTIFF: tiff[:60], Width: 8, Height: 8}), uint8(0))
	f.Add(phototest.PNG(f, phototest.Options{GPS: full.GPS, Width: 4, Height: 4}), uint8(1))
	f.Add(phototest.HEIC(f, full), uint8(2))
	f.Add(phototest.HEICHeader(), uint8(2))
	f.Add(tiff, uint8(3))
	types := []string{models.ContentJPEG, models.ContentPNG, models.ContentHEIC}
	f.Fuzz(func(t *testing.T, b []byte, kind uint8) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var x *models.PhotoExif
		if kind%4 == 3 { // the TIFF parser alone
			x = &models.PhotoExif{}
			readTIFFExif(b, x)
		} else {
			x = ReadExif(bytes.NewReader(b), int64(len(b)), types[kind%4])
		}
		runtime.ReadMemStats(&after)
		// Every buffer is bounded by the file: a few copies of it plus bookkeeping at most.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(4*len(b))+64<<10 {
			t.Fatalf("allocated %d bytes for a %d-byte file", alloc, len(b))
		}
		if len(x.Errors) > maxExifErrors {
			t.Fatalf("%d errors", len(x.Errors))
		}
		for _, e := range x.Errors {
			if e == "exif: unreadable (internal error)" {
				t.Fatal("recovered panic")
			}
			if len(e) > 200 {
				t.Fatalf("long error %q", e)
			}
		}
		if len(x.Make) > 256 || len(x.Model) > 256 {
			t.Fatal("long make/model")
		}
		if x.Lat != nil && (*x.Lat < -90 || *x.Lat > 90) || x.Lon != nil && (*x.Lon < -180 || *x.Lon > 180) {
			t.Fatalf("position %v %v", *x.Lat, *x.Lon)
		}
		if x.Orientation < 0 || x.Orientation > 8 {
			t.Fatalf("orientation %d", x.Orientation)
		}
	})
}
