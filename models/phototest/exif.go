package phototest

import (
	"encoding/binary"
	"math"
	"sync"
	"testing"

	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"
)

var (
	tagsOnce sync.Once
	tagMap   *exifcommon.IfdMapping
	tagIdx   *exif.TagIndex
	tagsErr  error
)

// tags loads the standard tag index once.
func tags(t testing.TB) (*exifcommon.IfdMapping, *exif.TagIndex) {
	t.Helper()
	tagsOnce.Do(func() {
		tagMap, tagsErr = exifcommon.NewIfdMappingWithStandard()
		if tagsErr != nil {
			return
		}
		tagIdx = exif.NewTagIndex()
		tagsErr = exif.LoadStandardTags(tagIdx) // loaded eagerly: the lazy load is not goroutine-safe
	})
	if tagsErr != nil {
		t.Fatalf("phototest: exif tag index: %v", tagsErr)
	}
	return tagMap, tagIdx
}

// ExifTIFF builds the EXIF payload (a big-endian TIFF structure: IFD0 with make, model and
// orientation; the Exif IFD with DateTimeOriginal, OffsetTimeOriginal and the pixel size; the GPS
// IFD) that o describes, with the go-exif IfdBuilder.
func ExifTIFF(t testing.TB, o Options) []byte {
	t.Helper()
	if o.ExifTIFF != nil {
		return o.ExifTIFF
	}
	im, ti := tags(t)
	root := exif.NewIfdBuilder(im, ti, exifcommon.IfdStandardIfdIdentity, binary.BigEndian)
	set := func(ib *exif.IfdBuilder, name string, v any) {
		t.Helper()
		if err := ib.SetStandardWithName(name, v); err != nil {
			t.Fatalf("phototest: exif %s: %v", name, err)
		}
	}
	child := func(path string) *exif.IfdBuilder {
		t.Helper()
		ib, err := exif.GetOrCreateIbFromRootIb(root, path)
		if err != nil {
			t.Fatalf("phototest: exif %s: %v", path, err)
		}
		return ib
	}
	if o.Make != "" {
		set(root, "Make", o.Make)
	}
	if o.Model != "" {
		set(root, "Model", o.Model)
	}
	if o.Orientation != 0 {
		set(root, "Orientation", []uint16{uint16(o.Orientation)})
	}
	if o.TakenAt != "" || o.Offset != "" {
		ex := child("IFD/Exif")
		if o.TakenAt != "" {
			set(ex, "DateTimeOriginal", o.TakenAt)
		}
		if o.Offset != "" {
			set(ex, "OffsetTimeOriginal", o.Offset)
		}
		w, h := o.size()
		set(ex, "PixelXDimension", []uint32{uint32(w)})
		set(ex, "PixelYDimension", []uint32{uint32(h)})
	}
	if g := o.GPS; g != nil {
		gps := child("IFD/GPSInfo")
		set(gps, "GPSVersionID", []byte{2, 3, 0, 0})
		if !g.OmitLatRef {
			set(gps, "GPSLatitudeRef", ref(g.Lat, "N", "S"))
		}
		set(gps, "GPSLatitude", dms(g.Lat))
		if !g.OmitLonRef {
			set(gps, "GPSLongitudeRef", ref(g.Lon, "E", "W"))
		}
		set(gps, "GPSLongitude", dms(g.Lon))
		if g.AltitudeM != nil {
			below := byte(0)
			if *g.AltitudeM < 0 {
				below = 1
			}
			set(gps, "GPSAltitudeRef", []byte{below})
			set(gps, "GPSAltitude", []exifcommon.Rational{{Numerator: uint32(math.Round(math.Abs(*g.AltitudeM) * 100)), Denominator: 100}})
		}
		if g.DirectionDeg != nil {
			set(gps, "GPSImgDirectionRef", "T")
			set(gps, "GPSImgDirection", []exifcommon.Rational{{Numerator: uint32(math.Round(*g.DirectionDeg * 100)), Denominator: 100}})
		}
	}
	b, err := exif.NewIfdByteEncoder().EncodeToExif(root)
	if err != nil {
		t.Fatalf("phototest: encode exif: %v", err)
	}
	return b
}

func ref(v float64, pos, neg string) string {
	if v < 0 {
		return neg
	}
	return pos
}

// dms writes |v| as degrees/1, minutes/1, seconds/10000, as phones do.
func dms(v float64) []exifcommon.Rational {
	v = math.Abs(v)
	d := math.Floor(v)
	m := math.Floor((v - d) * 60)
	s := ((v-d)*60 - m) * 60
	return []exifcommon.Rational{
		{Numerator: uint32(d), Denominator: 1},
		{Numerator: uint32(m), Denominator: 1},
		{Numerator: uint32(math.Round(s * 10000)), Denominator: 10000},
	}
}
