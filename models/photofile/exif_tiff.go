package photofile

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"unicode"
)

// A bounded reader of the TIFF structure EXIF is stored in. It reads only IFD0, the Exif IFD
// and the GPS IFD, each at most once, and checks every offset against the blob, so its work is
// linear in the blob's size whatever the blob says (no IFD chains, no repeated sub-IFDs, no
// allocation larger than the blob).

// TIFF field types (TIFF 6.0 §2, EXIF 2.32 §4.6.2).
const (
	tiffByte      = 1
	tiffASCII     = 2
	tiffShort     = 3
	tiffLong      = 4
	tiffRational  = 5
	tiffUndefined = 7
	tiffSRational = 10
)

var tiffTypeSize = [13]uint64{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8}

// EXIF tags read here.
const (
	tagMake            = 0x010F
	tagModel           = 0x0110
	tagOrientation     = 0x0112
	tagExifIFD         = 0x8769
	tagGPSIFD          = 0x8825
	tagDateTimeOrig    = 0x9003
	tagOffsetTimeOrig  = 0x9011
	tagPixelXDimension = 0xA002
	tagPixelYDimension = 0xA003
	tagGPSLatRef       = 0x0001
	tagGPSLat          = 0x0002
	tagGPSLonRef       = 0x0003
	tagGPSLon          = 0x0004
	tagGPSAltRef       = 0x0005
	tagGPSAlt          = 0x0006
	tagGPSImgDirRef    = 0x0010
	tagGPSImgDir       = 0x0011
)

type tiffEntry struct {
	typ   uint16
	count uint32
	val   []byte // the value's bytes; nil when they lie outside the blob
}

type tiffIFD map[uint16]tiffEntry

type tiffBlob struct {
	b  []byte
	bo binary.ByteOrder
}

var errTIFFHeader = errors.New("not a TIFF header")

// parseTIFFHeader checks the byte order mark and the magic number and returns IFD0's offset.
func parseTIFFHeader(b []byte) (*tiffBlob, uint32, error) {
	if len(b) < 8 {
		return nil, 0, errTIFFHeader
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return nil, 0, errTIFFHeader
	}
	if bo.Uint16(b[2:4]) != 42 {
		return nil, 0, errTIFFHeader
	}
	return &tiffBlob{b: b, bo: bo}, bo.Uint32(b[4:8]), nil
}

// ifd reads the directory at off. An entry whose value lies outside the blob is kept with a nil
// value (the field reader reports it); a directory cut short keeps the entries that fit and
// returns truncated.
func (t *tiffBlob) ifd(off uint32) (dir tiffIFD, truncated bool, err error) {
	if uint64(off)+2 > uint64(len(t.b)) || off < 8 {
		return nil, false, errors.New("directory offset outside the EXIF data")
	}
	n := int(t.bo.Uint16(t.b[off:]))
	start := int(off) + 2
	if fit := (len(t.b) - start) / 12; n > fit {
		n, truncated = fit, true
	}
	dir = make(tiffIFD, min(n, 32))
	for i := range n {
		e := t.b[start+12*i : start+12*i+12]
		tag, typ, count := t.bo.Uint16(e[0:2]), t.bo.Uint16(e[2:4]), t.bo.Uint32(e[4:8])
		if _, dup := dir[tag]; dup {
			continue // the first one wins
		}
		ent := tiffEntry{typ: typ, count: count}
		if int(typ) < len(tiffTypeSize) && tiffTypeSize[typ] > 0 {
			size := tiffTypeSize[typ] * uint64(count)
			if size <= 4 {
				ent.val = e[8 : 8+size]
			} else if vo := uint64(t.bo.Uint32(e[8:12])); vo+size <= uint64(len(t.b)) {
				ent.val = t.b[vo : vo+size]
			}
		}
		dir[tag] = ent
	}
	return dir, truncated, nil
}

// fieldError says why a field could not be read.
type fieldError string

func (e fieldError) Error() string { return string(e) }

const (
	errMissing   = fieldError("missing")
	errBadType   = fieldError("has an unexpected type")
	errOutside   = fieldError("points outside the EXIF data")
	errZeroDenom = fieldError("has a zero denominator")
	errBadCount  = fieldError("has the wrong number of values")
)

func (d tiffIFD) get(tag uint16) (tiffEntry, error) {
	e, ok := d[tag]
	if !ok {
		return e, errMissing
	}
	if e.val == nil {
		if int(e.typ) >= len(tiffTypeSize) || tiffTypeSize[e.typ] == 0 {
			return e, errBadType
		}
		return e, errOutside
	}
	return e, nil
}

// ascii reads an ASCII field: up to the first NUL, trimmed, control characters dropped, at most
// 64 runes (makes and models are short; anything longer is noise).
func (t *tiffBlob) ascii(d tiffIFD, tag uint16) (string, error) {
	e, err := d.get(tag)
	if err != nil {
		return "", err
	}
	if e.typ != tiffASCII && e.typ != tiffUndefined && e.typ != tiffByte {
		return "", errBadType
	}
	v := e.val
	if i := strings.IndexByte(string(v), 0); i >= 0 {
		v = v[:i]
	}
	s := strings.ToValidUTF8(string(v), "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64])
	}
	return s, nil
}

// uints reads a BYTE, SHORT or LONG field with count values (count 0: any number, at least one).
func (t *tiffBlob) uints(d tiffIFD, tag uint16, count int) ([]uint32, error) {
	e, err := d.get(tag)
	if err != nil {
		return nil, err
	}
	if e.count == 0 || (count > 0 && int(e.count) != count) {
		return nil, errBadCount
	}
	out := make([]uint32, 0, e.count)
	for i := range int(e.count) {
		switch e.typ {
		case tiffByte, tiffUndefined:
			out = append(out, uint32(e.val[i]))
		case tiffShort:
			out = append(out, uint32(t.bo.Uint16(e.val[2*i:])))
		case tiffLong:
			out = append(out, t.bo.Uint32(e.val[4*i:]))
		default:
			return nil, errBadType
		}
	}
	return out, nil
}

// rationals reads a RATIONAL (or SRATIONAL) field with exactly count values.
func (t *tiffBlob) rationals(d tiffIFD, tag uint16, count int) ([]float64, error) {
	e, err := d.get(tag)
	if err != nil {
		return nil, err
	}
	if e.typ != tiffRational && e.typ != tiffSRational {
		return nil, errBadType
	}
	if int(e.count) != count {
		return nil, errBadCount
	}
	out := make([]float64, count)
	for i := range count {
		nu, de := t.bo.Uint32(e.val[8*i:]), t.bo.Uint32(e.val[8*i+4:])
		if de == 0 {
			return nil, errZeroDenom
		}
		if e.typ == tiffSRational {
			out[i] = float64(int32(nu)) / float64(int32(de))
		} else {
			out[i] = float64(nu) / float64(de)
		}
		if math.IsNaN(out[i]) || math.IsInf(out[i], 0) {
			return nil, errZeroDenom
		}
	}
	return out, nil
}
