package photofile

import (
	"bytes"
	"encoding/binary"
	"github.com/fieldsync/fieldsync/models"
	"io"
)

// Walkers of the three containers: each reads headers only, finds the EXIF block and the pixel
// size, and bounds its work (segment and chunk counts, block sizes) whatever the file claims.

const (
	maxJPEGSegments = 1024
	maxPNGChunks    = 100000
)

// readAt reads n bytes at off; a short read returns what there is and false.
func readAt(r io.ReaderAt, size, off int64, n int) ([]byte, bool) {
	if off < 0 || off >= size || n <= 0 {
		return nil, false
	}
	short := false
	if int64(n) > size-off {
		n, short = int(size-off), true
	}
	b := make([]byte, n)
	got, err := r.ReadAt(b, off)
	if got < n || (err != nil && err != io.EOF) {
		return b[:got], false
	}
	return b, !short
}

// jpegExif walks the JPEG segments up to the frame header (SOFn): the first APP1 that starts
// with "Exif\0\0" is the EXIF; SOFn gives the pixel size.
func jpegExif(r io.ReaderAt, size int64, out *models.PhotoExif) []byte {
	tiff, _ := jpegWalk(r, size, out)
	return tiff
}

// jpegFrameMarker is the SOFn marker of a JPEG (0 when none is found).
func jpegFrameMarker(r io.ReaderAt, size int64, out *models.PhotoExif) byte {
	_, m := jpegWalk(r, size, out)
	return m
}

func jpegWalk(r io.ReaderAt, size int64, out *models.PhotoExif) (tiff []byte, sof byte) {
	off := int64(2)
	for range maxJPEGSegments {
		h, ok := readAt(r, size, off, 4)
		if !ok {
			addError(out, "jpeg: truncated before the frame header")
			return tiff, 0
		}
		if h[0] != 0xFF {
			addError(out, "jpeg: no marker at byte %d", off)
			return tiff, 0
		}
		m := h[1]
		switch {
		case m == 0xFF: // fill byte
			off++
			continue
		case m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7): // no length
			off += 2
			continue
		case m == 0xD9 || m == 0xDA:
			addError(out, "jpeg: no frame header before the image data")
			return tiff, 0
		}
		n := int64(binary.BigEndian.Uint16(h[2:4]))
		if n < 2 {
			addError(out, "jpeg: segment length %d at byte %d", n, off)
			return tiff, 0
		}
		switch {
		case m == 0xE1 && tiff == nil && n >= 2+6+8:
			if sig, _ := readAt(r, size, off+4, 6); bytes.Equal(sig, []byte("Exif\x00\x00")) {
				b, ok := readAt(r, size, off+10, int(n-8))
				if !ok {
					addError(out, "jpeg: EXIF segment truncated")
				}
				tiff = b
			}
		case isSOF(m):
			f, ok := readAt(r, size, off+4, 5)
			if !ok {
				addError(out, "jpeg: frame header truncated")
				return tiff, 0
			}
			out.Height, out.Width = int(binary.BigEndian.Uint16(f[1:3])), int(binary.BigEndian.Uint16(f[3:5]))
			return tiff, m
		}
		off += 2 + n
	}
	addError(out, "jpeg: more than %d segments before the frame header", maxJPEGSegments)
	return tiff, 0
}

// isSOF reports whether m is a start-of-frame marker (not DHT C4, JPG C8 or DAC CC).
func isSOF(m byte) bool {
	return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC
}

// pngExif reads the size from IHDR and walks the chunk headers (seeking over the data) to the
// eXIf chunk, if any.
func pngExif(r io.ReaderAt, size int64, out *models.PhotoExif) []byte {
	h, ok := readAt(r, size, 8, 16)
	if !ok || string(h[4:8]) != "IHDR" {
		addError(out, "png: IHDR missing")
		return nil
	}
	out.Width, out.Height = int(binary.BigEndian.Uint32(h[8:12])), int(binary.BigEndian.Uint32(h[12:16]))
	off := int64(8)
	for range maxPNGChunks {
		c, ok := readAt(r, size, off, 8)
		if !ok {
			addError(out, "png: truncated before IEND")
			return nil
		}
		n := int64(binary.BigEndian.Uint32(c[:4]))
		switch string(c[4:8]) {
		case "eXIf":
			if n > MaxExifBytes {
				addError(out, "png: eXIf chunk of %d bytes is too large", n)
				return nil
			}
			b, ok := readAt(r, size, off+8, int(n))
			if !ok {
				addError(out, "png: eXIf chunk truncated")
			}
			return b
		case "IEND":
			return nil
		}
		off += 12 + n
	}
	return nil
}
