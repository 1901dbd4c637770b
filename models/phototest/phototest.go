// Package phototest makes real photo files for tests: JPEGs and PNGs with real EXIF (GPS,
// capture time, orientation, camera), a hand-made HEIC header, and large noise JPEGs for upload
// benchmarks. It is test support code that other packages' tests import; it imports no package
// of the project, so models' own tests can use it too.
//
// Every image is painted in four quadrants (TopLeft, TopRight, BottomLeft, BottomRight colours)
// as stored, before any EXIF orientation, so a test can tell where each corner ends up.
package phototest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"
)

// The quadrant colours of every generated image, as stored (before orientation).
var (
	TopLeft     = color.RGBA{R: 220, G: 30, B: 30, A: 255}   // red
	TopRight    = color.RGBA{R: 30, G: 200, B: 30, A: 255}   // green
	BottomLeft  = color.RGBA{R: 30, G: 30, B: 220, A: 255}   // blue
	BottomRight = color.RGBA{R: 240, G: 240, B: 240, A: 255} // near white
)

// GPS is the GPS part of the EXIF a generated photo carries. Latitudes south and longitudes west
// are negative; the writer stores the magnitude with the S/W reference, as cameras do.
type GPS struct {
	Lat, Lon     float64
	AltitudeM    *float64 // negative: below sea level (GPSAltitudeRef 1)
	DirectionDeg *float64 // GPSImgDirection, true north
	OmitLatRef   bool     // leave GPSLatitudeRef out (a malformed photo)
	OmitLonRef   bool
}

// Options describe a generated photo. The zero value is a 64×48 image without EXIF.
type Options struct {
	Width, Height int // pixel size; 64×48 when zero
	Quality       int // JPEG quality; 90 when zero

	GPS         *GPS
	TakenAt     string // DateTimeOriginal, "2006:01:02 15:04:05" (local time of the camera)
	Offset      string // OffsetTimeOriginal, e.g. "+08:00"; empty: not written
	Orientation int    // 1–8; 0: not written
	Make, Model string

	// ExifTIFF, when set, is written as the EXIF payload (TIFF bytes: "II*\x00…" or "MM\x00*…")
	// instead of one built from the fields above: for malformed-EXIF tests.
	ExifTIFF []byte
	// Noise adds ± this much random noise (seeded, reproducible) to every channel: larger files.
	Noise int
}

// Ptr returns a pointer to v (for GPS.AltitudeM and GPS.DirectionDeg).
func Ptr(v float64) *float64 { return &v }

// Full is a photo as a phone takes it near Shenzhen: GPS with altitude and direction, capture
// time with offset, orientation 1, make and model.
func Full() Options {
	return Options{
		GPS:         &GPS{Lat: 22.543096, Lon: 114.057865, AltitudeM: Ptr(12.5), DirectionDeg: Ptr(135.25)},
		TakenAt:     "2026:03:14 09:26:53",
		Offset:      "+08:00",
		Orientation: 1,
		Make:        "FieldCam",
		Model:       "FC-1",
	}
}

func (o Options) hasExif() bool {
	return o.ExifTIFF != nil || o.GPS != nil || o.TakenAt != "" || o.Offset != "" || o.Orientation != 0 ||
		o.Make != "" || o.Model != ""
}

func (o Options) size() (int, int) {
	w, h := o.Width, o.Height
	if w <= 0 {
		w = 64
	}
	if h <= 0 {
		h = 48
	}
	return w, h
}

// Image paints the quadrant test image of o's size (with o.Noise).
func Image(o Options) *image.RGBA {
	w, h := o.size()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for y := range h {
		for x := range w {
			c := TopLeft
			switch {
			case x >= w/2 && y < h/2:
				c = TopRight
			case x < w/2 && y >= h/2:
				c = BottomLeft
			case x >= w/2 && y >= h/2:
				c = BottomRight
			}
			if o.Noise > 0 {
				c.R = noisy(c.R, rng, o.Noise)
				c.G = noisy(c.G, rng, o.Noise)
				c.B = noisy(c.B, rng, o.Noise)
			}
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
		}
	}
	return img
}

func noisy(v uint8, rng *rand.Rand, amp int) uint8 {
	return uint8(min(255, max(0, int(v)+rng.IntN(2*amp+1)-amp)))
}

// JPEG encodes o as a JPEG; its EXIF (when o asks for any) sits in an APP1 segment right after
// the start-of-image marker, where cameras put it.
func JPEG(t testing.TB, o Options) []byte {
	t.Helper()
	q := o.Quality
	if q == 0 {
		q = 90
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Image(o), &jpeg.Options{Quality: q}); err != nil {
		t.Fatalf("phototest: encode jpeg: %v", err)
	}
	if !o.hasExif() {
		return buf.Bytes()
	}
	return WithAPP1(t, buf.Bytes(), ExifTIFF(t, o))
}

// WithAPP1 inserts an EXIF APP1 segment ("Exif\0\0" + tiff) right after the SOI marker of a JPEG.
func WithAPP1(t testing.TB, jpg, tiff []byte) []byte {
	t.Helper()
	if len(jpg) < 2 || jpg[0] != 0xFF || jpg[1] != 0xD8 {
		t.Fatalf("phototest: not a JPEG")
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	if len(payload)+2 > 0xFFFF {
		t.Fatalf("phototest: EXIF of %d bytes does not fit an APP1 segment", len(payload))
	}
	out := make([]byte, 0, len(jpg)+len(payload)+4)
	out = append(out, 0xFF, 0xD8, 0xFF, 0xE1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(payload)+2))
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// PNG encodes o as a PNG; EXIF (when o asks for any) travels in an eXIf chunk before the image data.
func PNG(t testing.TB, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, Image(o)); err != nil {
		t.Fatalf("phototest: encode png: %v", err)
	}
	b := buf.Bytes()
	if !o.hasExif() {
		return b
	}
	// Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 crc) = 33 bytes.
	const afterIHDR = 33
	tiff := ExifTIFF(t, o)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(tiff)))
	chunk = append(chunk, "eXIf"...)
	chunk = append(chunk, tiff...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := append([]byte{}, b[:afterIHDR]...)
	out = append(out, chunk...)
	return append(out, b[afterIHDR:]...)
}

// BigJPEG is a noisy JPEG of about sizeBytes (within ~10 %) with Full() EXIF, for upload and
// thumbnail benchmarks. It keeps the 3:2 shape of a phone camera; 8 MB comes out near 24
// megapixels (6000×4000). Encoding takes about a second per 8 MB.
func BigJPEG(t testing.TB, sizeBytes int) []byte {
	t.Helper()
	o := Full()
	o.Noise = 18
	o.Quality = 90
	// Bytes per pixel of this noise at this quality, measured on a sample less the fixed part
	// (headers, tables, EXIF) measured on a tiny image.
	s, tiny := o, o
	s.Width, s.Height = 600, 400
	tiny.Width, tiny.Height = 8, 8
	fixed := len(JPEG(t, tiny))
	bpp := float64(len(JPEG(t, s))-fixed) / float64(600*400)
	px := float64(max(sizeBytes-fixed, 1)) / bpp
	// w = 3k, h = 2k: 6k² = px.
	k := max(1, int(math.Sqrt(px/6)))
	o.Width, o.Height = 3*k, 2*k
	return JPEG(t, o)
}

// HEICHeader is the start of a HEIC file as iPhones write it: an ftyp box with major brand
// "heic" and compatible brands mif1, heic, followed by an empty mdat box. No pixels: enough
// for type sniffing and for an upload that must store, not decode, a HEIC.
func HEICHeader() []byte {
	return append(FtypBox("heic", "mif1", "heic"), 0, 0, 0, 8, 'm', 'd', 'a', 't')
}

// FtypBox is an ISO-BMFF ftyp box with a major brand (minor version 0) and compatible brands.
func FtypBox(major string, compatible ...string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(16+4*len(compatible)))
	b = append(b, "ftyp"...)
	b = append(b, major...)
	b = append(b, 0, 0, 0, 0)
	for _, c := range compatible {
		b = append(b, c...)
	}
	return b
}
