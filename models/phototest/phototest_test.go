package phototest

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"testing"

	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"
)

func TestJPEGAndPNGDecodeWithExif(t *testing.T) {
	o := Full()
	o.Width, o.Height = 80, 60
	for name, b := range map[string][]byte{"jpeg": JPEG(t, o), "png": PNG(t, o)} {
		img, format, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if format != name || img.Bounds().Dx() != 80 || img.Bounds().Dy() != 60 {
			t.Fatalf("%s: got %s %v", name, format, img.Bounds())
		}
		raw, err := exif.SearchAndExtractExif(b)
		if err != nil {
			t.Fatalf("%s: no exif: %v", name, err)
		}
		im, ti := tags(t)
		_, idx, err := exif.Collect(im, ti, raw)
		if err != nil {
			t.Fatalf("%s: collect: %v", name, err)
		}
		gpsIfd, err := idx.RootIfd.ChildWithIfdPath(exifcommon.IfdGpsInfoStandardIfdIdentity)
		if err != nil {
			t.Fatalf("%s: gps ifd: %v", name, err)
		}
		gi, err := gpsIfd.GpsInfo()
		if err != nil {
			t.Fatalf("%s: gps: %v", name, err)
		}
		if math.Abs(gi.Latitude.Decimal()-o.GPS.Lat) > 1e-6 || math.Abs(gi.Longitude.Decimal()-o.GPS.Lon) > 1e-6 {
			t.Fatalf("%s: gps %v", name, gi)
		}
	}
}

func TestBigJPEGSize(t *testing.T) {
	const want = 400 << 10
	b := BigJPEG(t, want)
	if len(b) < want*9/10 || len(b) > want*11/10 {
		t.Fatalf("BigJPEG(%d) gave %d bytes", want, len(b))
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}

func TestHEICBoxes(t *testing.T) {
	b := HEIC(t, Full())
	if string(b[4:12]) != "ftypheic" {
		t.Fatalf("ftyp: %q", b[:16])
	}
	if !bytes.Contains(b, []byte("Exif\x00\x00MM\x00*")) {
		t.Fatal("no exif item")
	}
	if string(HEICHeader()[4:12]) != "ftypheic" {
		t.Fatal("header")
	}
}
