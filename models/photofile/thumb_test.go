package photofile

import (
	"bytes"
	"errors"
	"github.com/fieldsync/fieldsync/models"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/fieldsync/fieldsync/models/phototest"
)

func decodeThumb(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("thumbnail is not a JPEG: %v", err)
	}
	return img
}

// closeTo: JPEG is lossy; the quadrant colours are far apart, so 40 per channel is plenty.
func closeTo(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { x := int(a>>8) - int(w); return x > -40 && x < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func TestThumbnailOrientation(t *testing.T) {
	tl, tr, bl, br := phototest.TopLeft, phototest.TopRight, phototest.BottomLeft, phototest.BottomRight
	// The upright picture's corners (top-left, top-right, bottom-left, bottom-right) for each
	// orientation of the stored 640×480 image.
	cases := []struct {
		o       int
		w, h    int
		corners [4]color.RGBA
	}{
		{1, 320, 240, [4]color.RGBA{tl, tr, bl, br}},
		{2, 320, 240, [4]color.RGBA{tr, tl, br, bl}},
		{3, 320, 240, [4]color.RGBA{br, bl, tr, tl}},
		{4, 320, 240, [4]color.RGBA{bl, br, tl, tr}},
		{5, 240, 320, [4]color.RGBA{tl, bl, tr, br}},
		{6, 240, 320, [4]color.RGBA{bl, tl, br, tr}},
		{7, 240, 320, [4]color.RGBA{br, tr, bl, tl}},
		{8, 240, 320, [4]color.RGBA{tr, br, tl, bl}},
		{0, 320, 240, [4]color.RGBA{tl, tr, bl, br}}, // not given
		{9, 320, 240, [4]color.RGBA{tl, tr, bl, br}}, // invalid: as stored
	}
	// 640×480 scales directly; 2000×1500 is box-reduced by 3 first.
	for _, size := range [][2]int{{640, 480}, {2000, 1500}} {
		src := phototest.JPEG(t, phototest.Options{Width: size[0], Height: size[1]})
		for _, c := range cases {
			thumbCorners(t, src, c.o, c.w, c.h, c.corners)
		}
	}
}

// thumbCorners makes the thumbnail of src with orientation o and checks its size and the colour
// of each quadrant, near its corner and just beside the centre lines (the edges must not move).
func thumbCorners(t *testing.T, src []byte, o, w, h int, corners [4]color.RGBA) {
	t.Helper()
	b, err := Thumbnail(bytes.NewReader(src), models.ContentJPEG, o)
	if err != nil {
		t.Fatalf("orientation %d: %v", o, err)
	}
	img := decodeThumb(t, b)
	if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Fatalf("orientation %d: size %v, want %d×%d", o, img.Bounds(), w, h)
	}
	pts := [][2]image.Point{
		{{5, 5}, {w/2 - 3, h/2 - 3}}, {{w - 6, 5}, {w/2 + 2, h/2 - 3}},
		{{5, h - 6}, {w/2 - 3, h/2 + 2}}, {{w - 6, h - 6}, {w/2 + 2, h/2 + 2}},
	}
	for i, ps := range pts {
		for _, p := range ps {
			if got := img.At(p.X, p.Y); !closeTo(got, corners[i]) {
				t.Errorf("orientation %d: quadrant %d at %v is %v, want %v", o, i, p, got, corners[i])
			}
		}
	}
}

func TestThumbnailSizes(t *testing.T) {
	for _, c := range []struct {
		ct         string
		w, h       int
		wantW, wan int
	}{
		{models.ContentJPEG, 1000, 200, 320, 64},
		{models.ContentJPEG, 300, 1200, 80, 320},
		{models.ContentJPEG, 100, 50, 100, 50}, // never upscaled
		{models.ContentPNG, 640, 480, 320, 240},
		{models.ContentPNG, 1, 1000, 1, 320},
	} {
		o := phototest.Options{Width: c.w, Height: c.h}
		src := phototest.JPEG(t, o)
		if c.ct == models.ContentPNG {
			src = phototest.PNG(t, o)
		}
		b, err := Thumbnail(bytes.NewReader(src), c.ct, 1)
		if err != nil {
			t.Fatalf("%s %d×%d: %v", c.ct, c.w, c.h, err)
		}
		img := decodeThumb(t, b)
		if img.Bounds().Dx() != c.wantW || img.Bounds().Dy() != c.wan {
			t.Errorf("%s %d×%d: thumbnail %v", c.ct, c.w, c.h, img.Bounds())
		}
		if c.w >= 2 && c.h >= 2 && !closeTo(img.At(0, 0), phototest.TopLeft) {
			t.Errorf("%s %d×%d: top-left %v", c.ct, c.w, c.h, img.At(0, 0))
		}
	}
}

func TestThumbnailRefuses(t *testing.T) {
	if _, err := Thumbnail(bytes.NewReader(phototest.HEIC(t, phototest.Full())), models.ContentHEIC, 1); !errors.Is(err, ErrNoDecoder) {
		t.Fatalf("heic: %v", err)
	}
	if _, err := Thumbnail(bytes.NewReader([]byte("GIF89a")), "image/gif", 1); !errors.Is(err, ErrNoDecoder) {
		t.Fatalf("gif: %v", err)
	}
	// A PNG whose header claims 20000×20000 (400 MP) with almost no data: refused from the header.
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	bomb := append([]byte{}, buf.Bytes()...)
	ihdr := bomb[8:33]
	copy(ihdr[8:16], []byte{0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20})
	fixCRC(ihdr)
	if _, err := Thumbnail(bytes.NewReader(bomb), models.ContentPNG, 1); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("png bomb: %v", err)
	}
	// A JPEG whose frame header claims 65535×65535.
	j := phototest.JPEG(t, phototest.Options{Width: 16, Height: 16})
	for i := 2; i+9 < len(j); i++ {
		if j[i] == 0xFF && j[i+1] == 0xC0 {
			copy(j[i+5:i+9], []byte{0xFF, 0xFF, 0xFF, 0xFF})
			break
		}
	}
	if _, err := Thumbnail(bytes.NewReader(j), models.ContentJPEG, 1); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("jpeg bomb: %v", err)
	}
	// The same frame header made progressive (SOF2) claiming 6000×5000 (30 MP): over the
	// progressive limit, while as baseline it passes the check (and fails later, on the data).
	j = phototest.JPEG(t, phototest.Options{Width: 16, Height: 16})
	for i := 2; i+9 < len(j); i++ {
		if j[i] == 0xFF && j[i+1] == 0xC0 {
			copy(j[i+5:i+9], []byte{0x13, 0x88, 0x17, 0x70}) // height 5000, width 6000
			if _, err := Thumbnail(bytes.NewReader(j), models.ContentJPEG, 1); err == nil || errors.Is(err, ErrTooManyPixels) {
				t.Fatalf("baseline 30 MP: %v", err)
			}
			j[i+1] = 0xC2
			break
		}
	}
	if _, err := Thumbnail(bytes.NewReader(j), models.ContentJPEG, 1); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("progressive 30 MP: %v", err)
	}
	// Broken bytes: an error, not a panic.
	full := phototest.JPEG(t, phototest.Options{Width: 64, Height: 64})
	if _, err := Thumbnail(bytes.NewReader(full[:len(full)/2]), models.ContentJPEG, 1); err == nil {
		t.Fatal("truncated jpeg gave a thumbnail")
	}
	if _, err := Thumbnail(bytes.NewReader([]byte("not an image")), models.ContentPNG, 1); err == nil {
		t.Fatal("text gave a thumbnail")
	}
}

func fixCRC(chunk []byte) {
	// chunk: length(4) type(4) data crc(4)
	n := len(chunk)
	c := crc32.ChecksumIEEE(chunk[4 : n-4])
	chunk[n-4], chunk[n-3], chunk[n-2], chunk[n-1] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
}
