package photofile

import (
	"fmt"
	"github.com/fieldsync/fieldsync/models"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Limits of the EXIF reader.
const (
	MaxExifBytes    = 256 << 10 // EXIF read from a PNG eXIf chunk or a HEIC Exif item (a JPEG APP1 holds at most 64 KiB)
	maxExifErrors   = 8
	exifAssumedZone = 8 * 60 * 60 // UTC+8, assumed when a photo gives no OffsetTimeOriginal
)

// ReadExif reads EXIF (GPS lat/lon/altitude/direction, DateTimeOriginal with
// OffsetTimeOriginal, orientation, make/model) and the pixel size from a photo. r/size is the
// whole file; only the container's headers and the EXIF block are read (JPEG: the segments
// before the frame header; PNG: chunk headers and the eXIf chunk; HEIC: the meta box and the
// Exif item). It never fails: a photo without EXIF gives an empty models.PhotoExif, and whatever could
// not be read is listed in Errors ("gps: latitude ref missing"), the rest still filled.
func ReadExif(r io.ReaderAt, size int64, contentType string) (out *models.PhotoExif) {
	out = &models.PhotoExif{}
	defer func() {
		if v := recover(); v != nil { // a bug here must not fail an upload
			addError(out, "exif: unreadable (internal error)")
		}
	}()
	var tiff []byte
	switch contentType {
	case models.ContentJPEG:
		tiff = jpegExif(r, size, out)
	case models.ContentPNG:
		tiff = pngExif(r, size, out)
	case models.ContentHEIC:
		tiff = heicExif(r, size, out)
	default:
		addError(out, "exif: unsupported content type")
		return out
	}
	if tiff != nil {
		readTIFFExif(tiff, out)
	}
	return out
}

// addError records what could not be read, at most maxExifErrors distinct messages.
func addError(x *models.PhotoExif, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(x.Errors) >= maxExifErrors || slices.Contains(x.Errors, msg) {
		return
	}
	x.Errors = append(x.Errors, msg)
}

// readTIFFExif fills out from an EXIF TIFF structure.
func readTIFFExif(b []byte, out *models.PhotoExif) {
	t, off, err := parseTIFFHeader(b)
	if err != nil {
		addError(out, "exif: %v", err)
		return
	}
	ifd0, truncated, err := t.ifd(off)
	if err != nil {
		addError(out, "exif: IFD0 %v", err)
		return
	}
	if truncated {
		addError(out, "exif: IFD0 truncated")
	}
	if s, err := t.ascii(ifd0, tagMake); err == nil {
		out.Make = s
	} else if err != errMissing {
		addError(out, "exif: make %v", err)
	}
	if s, err := t.ascii(ifd0, tagModel); err == nil {
		out.Model = s
	} else if err != errMissing {
		addError(out, "exif: model %v", err)
	}
	if v, err := t.uints(ifd0, tagOrientation, 1); err == nil {
		if v[0] >= 1 && v[0] <= 8 {
			out.Orientation = int(v[0])
		} else {
			addError(out, "exif: orientation %d is not 1–8", v[0])
		}
	} else if err != errMissing {
		addError(out, "exif: orientation %v", err)
	}
	if dir := subIFD(t, ifd0, tagExifIFD, "exif", out); dir != nil {
		readExifTime(t, dir, out)
		if out.Width == 0 && out.Height == 0 {
			w, errW := t.uints(dir, tagPixelXDimension, 1)
			h, errH := t.uints(dir, tagPixelYDimension, 1)
			if errW == nil && errH == nil && w[0] <= 1<<20 && h[0] <= 1<<20 {
				out.Width, out.Height = int(w[0]), int(h[0])
			}
		}
	}
	if dir := subIFD(t, ifd0, tagGPSIFD, "gps", out); dir != nil {
		readGPS(t, dir, out)
	}
}

func subIFD(t *tiffBlob, parent tiffIFD, tag uint16, name string, out *models.PhotoExif) tiffIFD {
	v, err := t.uints(parent, tag, 1)
	if err == errMissing {
		return nil
	}
	if err != nil {
		addError(out, "%s: directory pointer %v", name, err)
		return nil
	}
	dir, truncated, err := t.ifd(v[0])
	if err != nil {
		addError(out, "%s: %v", name, err)
		return nil
	}
	if truncated {
		addError(out, "%s: directory truncated", name)
	}
	return dir
}

// readExifTime reads DateTimeOriginal ("2006:01:02 15:04:05", the camera's local time) and
// OffsetTimeOriginal ("+08:00"). Without a usable offset UTC+8 is assumed and HasOffset is false.
func readExifTime(t *tiffBlob, dir tiffIFD, out *models.PhotoExif) {
	s, err := t.ascii(dir, tagDateTimeOrig)
	if err == errMissing || (err == nil && strings.Trim(s, " :") == "") {
		return // absent, or blank as the standard writes an unknown time
	}
	if err != nil {
		addError(out, "time: DateTimeOriginal %v", err)
		return
	}
	local, err := time.Parse("2006:01:02 15:04:05", s)
	if err != nil {
		local, err = time.Parse("2006-01-02 15:04:05", s) // a common deviation
	}
	if err != nil || local.Year() < 1900 {
		addError(out, "time: DateTimeOriginal %q is not a date and time", s)
		return
	}
	zone, hasOffset := time.FixedZone("UTC+08:00", exifAssumedZone), false
	if o, err := t.ascii(dir, tagOffsetTimeOrig); err == nil && o != "" {
		if z, ok := parseExifOffset(o); ok {
			zone, hasOffset = z, true
		} else {
			addError(out, "time: OffsetTimeOriginal %q is not an offset, UTC+8 assumed", o)
		}
	} else if err != nil && err != errMissing {
		addError(out, "time: OffsetTimeOriginal %v, UTC+8 assumed", err)
	}
	at := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), 0, zone)
	out.TakenAt = &at
	out.TakenAtLocal = local.Format("2006-01-02T15:04:05")
	out.HasOffset = hasOffset
}

// parseExifOffset reads "+08:00", "-03:30" or "Z".
func parseExifOffset(s string) (*time.Location, bool) {
	if s == "Z" {
		return time.UTC, true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return nil, false
	}
	var h, m int
	if _, err := fmt.Sscanf(s[1:], "%02d:%02d", &h, &m); err != nil || h > 14 || m > 59 {
		return nil, false
	}
	sec := h*3600 + m*60
	if s[0] == '-' {
		sec = -sec
	}
	return time.FixedZone("UTC"+s, sec), true
}

// readGPS reads the position (both coordinates with their refs, or none), the altitude (below
// sea level when GPSAltitudeRef is 1) and the image direction.
func readGPS(t *tiffBlob, dir tiffIFD, out *models.PhotoExif) {
	lat, latOK := gpsCoord(t, dir, tagGPSLat, tagGPSLatRef, "latitude", "N", "S", 90, out)
	lon, lonOK := gpsCoord(t, dir, tagGPSLon, tagGPSLonRef, "longitude", "E", "W", 180, out)
	switch {
	case latOK && lonOK && lat == 0 && lon == 0:
		addError(out, "gps: position 0,0 (no fix)")
	case latOK && lonOK:
		out.Lat, out.Lon = &lat, &lon
	}
	if v, err := t.rationals(dir, tagGPSAlt, 1); err == nil {
		alt := v[0]
		if ref, err := t.uints(dir, tagGPSAltRef, 1); err == nil && ref[0] == 1 {
			alt = -alt
		} else if err != nil && err != errMissing {
			addError(out, "gps: altitude ref %v", err)
		}
		if math.Abs(alt) <= 100000 {
			out.AltitudeM = &alt
		} else {
			addError(out, "gps: altitude %.0f m out of range", alt)
		}
	} else if err != errMissing {
		addError(out, "gps: altitude %v", err)
	}
	if v, err := t.rationals(dir, tagGPSImgDir, 1); err == nil {
		if d := v[0]; d >= 0 && d <= 360 {
			d = math.Mod(d, 360)
			out.DirectionDeg = &d
		} else {
			addError(out, "gps: direction %.1f is not 0–360", d)
		}
	} else if err != errMissing {
		addError(out, "gps: direction %v", err)
	}
}

// gpsCoord reads one coordinate: degrees, minutes, seconds as three rationals and its ref.
// Without a ref the hemisphere is unknown and the coordinate is not used.
func gpsCoord(t *tiffBlob, dir tiffIFD, tag, refTag uint16, name, pos, neg string, limit float64, out *models.PhotoExif) (float64, bool) {
	v, err := t.rationals(dir, tag, 3)
	if err == errMissing {
		if _, hasRef := dir[refTag]; hasRef {
			addError(out, "gps: %s missing", name)
		}
		return 0, false
	}
	if err != nil {
		addError(out, "gps: %s %v", name, err)
		return 0, false
	}
	ref, err := t.ascii(dir, refTag)
	if err != nil {
		addError(out, "gps: %s ref %v", name, err)
		return 0, false
	}
	if v[1] < 0 || v[1] >= 60 || v[2] < 0 || v[2] >= 60 || v[0] < 0 {
		addError(out, "gps: %s %g° %g′ %g″ is not degrees, minutes, seconds", name, v[0], v[1], v[2])
		return 0, false
	}
	deg := v[0] + v[1]/60 + v[2]/3600
	switch strings.ToUpper(ref) {
	case pos:
	case neg:
		deg = -deg
	default:
		addError(out, "gps: %s ref %q is not %s or %s", name, ref, pos, neg)
		return 0, false
	}
	if math.Abs(deg) > limit {
		addError(out, "gps: %s %.6f out of range", name, deg)
		return 0, false
	}
	return deg, true
}
