package photofile

import (
	"bytes"
	"encoding/binary"
	"github.com/fieldsync/fieldsync/models"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models/phototest"
)

func readExif(t *testing.T, b []byte, ct string) *models.PhotoExif {
	t.Helper()
	return ReadExif(bytes.NewReader(b), int64(len(b)), ct)
}

func near(a *float64, want, tol float64) bool { return a != nil && math.Abs(*a-want) <= tol }

func TestReadExifJPEGFull(t *testing.T) {
	o := phototest.Full()
	o.Width, o.Height = 96, 64
	x := readExif(t, phototest.JPEG(t, o), models.ContentJPEG)
	if len(x.Errors) != 0 {
		t.Fatalf("errors: %v", x.Errors)
	}
	// Seconds are written to 1/10000″ (3 mm): the round trip is exact to 1e-7°.
	if !near(x.Lat, 22.543096, 1e-7) || !near(x.Lon, 114.057865, 1e-7) {
		t.Fatalf("position %v %v", *x.Lat, *x.Lon)
	}
	if !near(x.AltitudeM, 12.5, 1e-9) || !near(x.DirectionDeg, 135.25, 1e-9) {
		t.Fatalf("altitude %v direction %v", x.AltitudeM, x.DirectionDeg)
	}
	want := time.Date(2026, 3, 14, 1, 26, 53, 0, time.UTC)
	if x.TakenAt == nil || !x.TakenAt.Equal(want) || !x.HasOffset || x.TakenAtLocal != "2026-03-14T09:26:53" {
		t.Fatalf("time %v %v %q", x.TakenAt, x.HasOffset, x.TakenAtLocal)
	}
	if _, off := x.TakenAt.Zone(); off != 8*3600 {
		t.Fatalf("zone offset %d", off)
	}
	if x.Orientation != 1 || x.Make != "FieldCam" || x.Model != "FC-1" || x.Width != 96 || x.Height != 64 {
		t.Fatalf("got %+v", x)
	}
}

func TestReadExifSouthWestBelowSeaLevel(t *testing.T) {
	o := phototest.Options{GPS: &phototest.GPS{Lat: -33.868820, Lon: -70.653400, AltitudeM: phototest.Ptr(-430.5),
		DirectionDeg: phototest.Ptr(359.99)}}
	x := readExif(t, phototest.JPEG(t, o), models.ContentJPEG)
	if len(x.Errors) != 0 {
		t.Fatalf("errors: %v", x.Errors)
	}
	if !near(x.Lat, -33.868820, 1e-7) || !near(x.Lon, -70.653400, 1e-7) || !near(x.AltitudeM, -430.5, 1e-9) ||
		!near(x.DirectionDeg, 359.99, 1e-9) {
		t.Fatalf("got %v %v %v %v", *x.Lat, *x.Lon, *x.AltitudeM, *x.DirectionDeg)
	}
	if x.TakenAt != nil || x.Orientation != 0 || x.Make != "" {
		t.Fatalf("unexpected fields %+v", x)
	}
}

func TestReadExifTimeOffsets(t *testing.T) {
	for _, c := range []struct {
		offset    string
		want      time.Time
		hasOffset bool
		errPart   string
	}{
		{"", time.Date(2026, 3, 14, 1, 26, 53, 0, time.UTC), false, ""},       // UTC+8 assumed
		{"-03:30", time.Date(2026, 3, 14, 12, 56, 53, 0, time.UTC), true, ""}, // Newfoundland
		{"+00:00", time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC), true, ""},
		{"8 hours", time.Date(2026, 3, 14, 1, 26, 53, 0, time.UTC), false, "not an offset"},
	} {
		o := phototest.Options{TakenAt: "2026:03:14 09:26:53", Offset: c.offset}
		x := readExif(t, phototest.JPEG(t, o), models.ContentJPEG)
		if x.TakenAt == nil || !x.TakenAt.Equal(c.want) || x.HasOffset != c.hasOffset || x.TakenAtLocal != "2026-03-14T09:26:53" {
			t.Errorf("offset %q: got %v %v %q", c.offset, x.TakenAt, x.HasOffset, x.TakenAtLocal)
		}
		if c.errPart == "" && len(x.Errors) != 0 || c.errPart != "" && !strings.Contains(strings.Join(x.Errors, ";"), c.errPart) {
			t.Errorf("offset %q: errors %v", c.offset, x.Errors)
		}
	}
	x := readExif(t, phototest.JPEG(t, phototest.Options{TakenAt: "2026:13:45 99:00:00"}), models.ContentJPEG)
	if x.TakenAt != nil || !hasError(x, "time: DateTimeOriginal") {
		t.Fatalf("bad date: %v %v", x.TakenAt, x.Errors)
	}
	x = readExif(t, phototest.JPEG(t, phototest.Options{TakenAt: "    :  :     :  :  "}), models.ContentJPEG)
	if x.TakenAt != nil || len(x.Errors) != 0 {
		t.Fatalf("blank date: %v %v", x.TakenAt, x.Errors)
	}
}

func hasError(x *models.PhotoExif, part string) bool {
	return slices.ContainsFunc(x.Errors, func(e string) bool { return strings.Contains(e, part) })
}

func TestReadExifRefMissingKeepsTheRest(t *testing.T) {
	o := phototest.Full()
	o.GPS.OmitLatRef = true
	x := readExif(t, phototest.JPEG(t, o), models.ContentJPEG)
	if !slices.Contains(x.Errors, "gps: latitude ref missing") {
		t.Fatalf("errors %v", x.Errors)
	}
	if x.Lat != nil || x.Lon != nil {
		t.Fatal("a position without its latitude hemisphere must not be used")
	}
	if x.AltitudeM == nil || x.TakenAt == nil || x.Make != "FieldCam" || x.Width != 64 {
		t.Fatalf("the rest must still be read: %+v", x)
	}
}

func TestReadExifOrientations(t *testing.T) {
	for o := 1; o <= 8; o++ {
		x := readExif(t, phototest.JPEG(t, phototest.Options{Orientation: o}), models.ContentJPEG)
		if x.Orientation != o || len(x.Errors) != 0 {
			t.Fatalf("orientation %d: got %d %v", o, x.Orientation, x.Errors)
		}
	}
	x := readExif(t, phototest.JPEG(t, phototest.Options{Orientation: 9}), models.ContentJPEG)
	if x.Orientation != 0 || !hasError(x, "orientation 9") {
		t.Fatalf("orientation 9: %d %v", x.Orientation, x.Errors)
	}
}

func TestReadExifPNGAndHEIC(t *testing.T) {
	o := phototest.Full()
	o.Width, o.Height = 40, 30
	for _, c := range []struct {
		ct string
		b  []byte
	}{{models.ContentPNG, phototest.PNG(t, o)}, {models.ContentHEIC, phototest.HEIC(t, o)}} {
		x := readExif(t, c.b, c.ct)
		if len(x.Errors) != 0 || !near(x.Lat, 22.543096, 1e-7) || !near(x.Lon, 114.057865, 1e-7) ||
			x.TakenAt == nil || x.Make != "FieldCam" || x.Width != 40 || x.Height != 30 {
			t.Fatalf("%s: %+v", c.ct, x)
		}
	}
	x := readExif(t, phototest.PNG(t, phototest.Options{Width: 7, Height: 5}), models.ContentPNG)
	if x.Width != 7 || x.Height != 5 || len(x.Errors) != 0 || x.Lat != nil {
		t.Fatalf("png without exif: %+v", x)
	}
	x = readExif(t, phototest.HEIC(t, phototest.Options{Width: 4032, Height: 3024}), models.ContentHEIC)
	if x.Width != 4032 || x.Height != 3024 || len(x.Errors) != 0 {
		t.Fatalf("heic without exif: %+v", x)
	}
}

func TestReadExifNone(t *testing.T) {
	x := readExif(t, phototest.JPEG(t, phototest.Options{Width: 10, Height: 20}), models.ContentJPEG)
	if x.Width != 10 || x.Height != 20 || len(x.Errors) != 0 || x.Lat != nil || x.TakenAt != nil {
		t.Fatalf("got %+v", x)
	}
	if x := readExif(t, []byte("hello"), "text/plain"); len(x.Errors) != 1 {
		t.Fatalf("unsupported type: %+v", x)
	}
}

// order is a byte order that can append.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// tiffEnt is one entry of a hand-made TIFF directory.
type tiffEnt struct {
	tag, typ uint16
	count    uint32
	val      []byte
}

// buildTIFF lays out IFD0 (with pointers to the exif and gps directories when given) in the
// byte order bo: the hand-made half of the EXIF tests, for what a well-behaved writer won't write.
func buildTIFF(bo order, ifd0, exifDir, gps []tiffEnt) []byte {
	mark := "MM"
	if bo == binary.LittleEndian {
		mark = "II"
	}
	b := append([]byte(mark), 0, 0, 0, 0, 0, 0)
	bo.PutUint16(b[2:], 42)
	bo.PutUint32(b[4:], 8)
	size := func(d []tiffEnt) int { return 2 + 12*len(d) + 4 }
	dirs := [][]tiffEnt{slices.Clone(ifd0), exifDir, gps}
	offs := []int{8, 0, 0}
	next := 8 + size(dirs[0]) + 24 // room for the two pointers
	for i, tag := range []uint16{0x8769, 0x8825} {
		if dirs[i+1] != nil {
			offs[i+1] = next
			next += size(dirs[i+1])
			dirs[0] = append(dirs[0], tiffEnt{tag, 4, 1, bo.AppendUint32(nil, uint32(offs[i+1]))})
		}
	}
	var data []byte
	dataOff := next
	for i, d := range dirs {
		if d == nil {
			continue
		}
		for len(b) < offs[i] {
			b = append(b, 0)
		}
		b = bo.AppendUint16(b, uint16(len(d)))
		for _, e := range d {
			b = bo.AppendUint16(b, e.tag)
			b = bo.AppendUint16(b, e.typ)
			b = bo.AppendUint32(b, e.count)
			if len(e.val) <= 4 {
				b = append(b, append(slices.Clone(e.val), make([]byte, 4-len(e.val))...)...)
			} else {
				b = bo.AppendUint32(b, uint32(dataOff+len(data)))
				data = append(data, e.val...)
			}
		}
		b = bo.AppendUint32(b, 0)
	}
	for len(b) < dataOff {
		b = append(b, 0)
	}
	return append(b, data...)
}

func rats(bo order, v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = bo.AppendUint32(b, x)
	}
	return b
}

func TestReadExifHandMadeTIFF(t *testing.T) {
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		// Decimal degrees in the first rational (some phones), seconds as zero; SHORT orientation.
		gps := []tiffEnt{
			{0x0001, 2, 2, []byte("N\x00")},
			{0x0002, 5, 3, rats(bo, 22543096, 1000000, 0, 1, 0, 1)},
			{0x0003, 2, 2, []byte("W\x00")},
			{0x0004, 5, 3, rats(bo, 73, 1, 59, 1, 1234, 100)},
		}
		ifd0 := []tiffEnt{{0x0112, 3, 1, bo.AppendUint16(nil, 8)}, {0x010F, 2, 6, []byte("Acme\x00\x00")}}
		x := readExif(t, phototest.JPEG(t, phototest.Options{ExifTIFF: buildTIFF(bo, ifd0, nil, gps)}), models.ContentJPEG)
		wantLon := -(73 + 59.0/60 + 12.34/3600)
		if len(x.Errors) != 0 || !near(x.Lat, 22.543096, 1e-9) || !near(x.Lon, wantLon, 1e-9) || x.Orientation != 8 || x.Make != "Acme" {
			t.Fatalf("%v: %+v", bo, x)
		}
	}
	bo := binary.BigEndian
	bad := []struct {
		name string
		gps  []tiffEnt
		want string
	}{
		{"zero denominator", []tiffEnt{{0x0001, 2, 2, []byte("N\x00")}, {0x0002, 5, 3, rats(bo, 22, 0, 0, 1, 0, 1)},
			{0x0003, 2, 2, []byte("E\x00")}, {0x0004, 5, 3, rats(bo, 114, 1, 0, 1, 0, 1)}}, "gps: latitude has a zero denominator"},
		{"two values", []tiffEnt{{0x0001, 2, 2, []byte("N\x00")}, {0x0002, 5, 2, rats(bo, 22, 1, 0, 1)},
			{0x0003, 2, 2, []byte("E\x00")}, {0x0004, 5, 3, rats(bo, 114, 1, 0, 1, 0, 1)}}, "gps: latitude has the wrong number of values"},
		{"wrong type", []tiffEnt{{0x0001, 2, 2, []byte("N\x00")}, {0x0002, 4, 3, rats(bo, 22, 1, 0)},
			{0x0003, 2, 2, []byte("E\x00")}, {0x0004, 5, 3, rats(bo, 114, 1, 0, 1, 0, 1)}}, "gps: latitude has an unexpected type"},
		{"bad ref", []tiffEnt{{0x0001, 2, 2, []byte("X\x00")}, {0x0002, 5, 3, rats(bo, 22, 1, 0, 1, 0, 1)},
			{0x0003, 2, 2, []byte("E\x00")}, {0x0004, 5, 3, rats(bo, 114, 1, 0, 1, 0, 1)}}, `gps: latitude ref "X" is not N or S`},
		{"minutes 75", []tiffEnt{{0x0001, 2, 2, []byte("N\x00")}, {0x0002, 5, 3, rats(bo, 22, 1, 75, 1, 0, 1)},
			{0x0003, 2, 2, []byte("E\x00")}, {0x0004, 5, 3, rats(bo, 114, 1, 0, 1, 0, 1)}}, "not degrees, minutes, seconds"},
		{"longitude 200", []tiffEnt{{0x0001, 2, 2, []byte("N\x00")}, {0x0002, 5, 3, rats(bo, 22, 1, 0, 1, 0, 1)},
			{0x0003, 2, 2, []byte("E\x00")}, {0x0004, 5, 3, rats(bo, 200, 1, 0, 1, 0, 1)}}, "gps: longitude 200.000000 out of range"},
		{"no fix", []tiffEnt{{0x0001, 2, 2, []byte("N\x00")}, {0x0002, 5, 3, rats(bo, 0, 1, 0, 1, 0, 1)},
			{0x0003, 2, 2, []byte("E\x00")}, {0x0004, 5, 3, rats(bo, 0, 1, 0, 1, 0, 1)}}, "gps: position 0,0 (no fix)"},
		{"value outside", []tiffEnt{{0x0001, 2, 2, []byte("N\x00")}, {0x0002, 5, 3, rats(bo, 22, 1, 0, 1, 0, 1)},
			{0x0003, 2, 2, []byte("E\x00")}, {0x0004, 5, 300, rats(bo, 114, 1, 0, 1, 0, 1)}}, "gps: longitude points outside the EXIF data"},
	}
	for _, c := range bad {
		tiff := buildTIFF(bo, []tiffEnt{{0x010F, 2, 4, []byte("Abc\x00")}}, nil, c.gps)
		x := readExif(t, phototest.JPEG(t, phototest.Options{ExifTIFF: tiff}), models.ContentJPEG)
		if !slices.Contains(x.Errors, c.want) && !hasError(x, c.want) {
			t.Errorf("%s: errors %v, want %q", c.name, x.Errors, c.want)
		}
		if x.Lat != nil || x.Lon != nil || x.Make != "Abc" || x.Width != 64 {
			t.Errorf("%s: %+v", c.name, x)
		}
	}
}

func TestReadExifMalformedKeepsPhoto(t *testing.T) {
	full := phototest.ExifTIFF(t, phototest.Full())
	cases := map[string][]byte{
		"exif cut to 40 bytes":    phototest.JPEG(t, phototest.Options{ExifTIFF: full[:40]}),
		"exif cut in the gps ifd": phototest.JPEG(t, phototest.Options{ExifTIFF: full[:len(full)-30]}),
		"not a tiff header":       phototest.JPEG(t, phototest.Options{ExifTIFF: []byte("XX\x00*\x00\x00\x00\x08garbage")}),
		"ifd0 offset outside":     phototest.JPEG(t, phototest.Options{ExifTIFF: []byte("MM\x00*\x7f\x00\x00\x00\x00\x00")}),
	}
	for name, b := range cases {
		x := readExif(t, b, models.ContentJPEG)
		if len(x.Errors) == 0 || x.Width != 64 || x.Height != 48 {
			t.Errorf("%s: %+v", name, x)
		}
	}
	jpg := phototest.JPEG(t, phototest.Full())
	for _, n := range []int{3, 5, 30, 200, 400} { // all before the frame header
		x := readExif(t, jpg[:n], models.ContentJPEG)
		if len(x.Errors) == 0 {
			t.Errorf("file cut at %d: no error: %+v", n, x)
		}
	}
	png := phototest.PNG(t, phototest.Full())
	heic := phototest.HEIC(t, phototest.Full())
	for _, n := range []int{10, 40, 100} {
		if x := readExif(t, png[:n], models.ContentPNG); len(x.Errors) == 0 {
			t.Errorf("png cut at %d: %+v", n, x)
		}
		if x := readExif(t, heic[:n], models.ContentHEIC); len(x.Errors) == 0 {
			t.Errorf("heic cut at %d: %+v", n, x)
		}
	}
}

// TestReadExifFanOut: a 64 KB EXIF whose IFD0 points 2,700 times at an Exif IFD that points
// 2,700 times at an interoperability IFD. A reader that follows every pointer does 7 million
// directory reads (go-exif v3 ran for minutes); this one reads each directory once.
func TestReadExifFanOut(t *testing.T) {
	bo := binary.BigEndian
	const n = 2700
	b := []byte("MM\x00*\x00\x00\x00\x08")
	exifOff := uint32(8 + 2 + n*12 + 4)
	b = bo.AppendUint16(b, n)
	for range n {
		b = append(bo.AppendUint32(bo.AppendUint16(bo.AppendUint16(b, 0x8769), 4), 1), bo.AppendUint32(nil, exifOff)...)
	}
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint16(b, n)
	for range n {
		b = append(bo.AppendUint32(bo.AppendUint16(bo.AppendUint16(b, 0xA005), 4), 1), bo.AppendUint32(nil, exifOff)...)
	}
	b = bo.AppendUint32(b, 0)
	x := readExif(t, phototest.JPEG(t, phototest.Options{ExifTIFF: b}), models.ContentJPEG)
	if x.Width != 64 {
		t.Fatalf("%+v", x)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *bytes.Reader
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

func TestReadExifReadsOnlyTheHeader(t *testing.T) {
	o := phototest.Full()
	o.Width, o.Height, o.Noise = 1200, 800, 20
	for _, c := range []struct {
		ct string
		b  []byte
	}{{models.ContentJPEG, phototest.JPEG(t, o)}, {models.ContentPNG, phototest.PNG(t, o)}} {
		cr := &countingReader{r: bytes.NewReader(c.b)}
		x := ReadExif(cr, int64(len(c.b)), c.ct)
		if x.Lat == nil || x.Width != 1200 {
			t.Fatalf("%s: %+v", c.ct, x)
		}
		if got := cr.n.Load(); got > 4096 || got*20 > int64(len(c.b)) {
			t.Fatalf("%s: read %d of %d bytes", c.ct, got, len(c.b))
		}
	}
}
