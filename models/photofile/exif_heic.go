package photofile

import (
	"encoding/binary"
	"github.com/fieldsync/fieldsync/models"
	"io"
)

// HEIC (ISO-BMFF / HEIF) walking for ReadExif: only the meta box and the Exif item are read.

const (
	maxHEICBoxes = 256
	maxHEICMeta  = 1 << 20
)

// box is one ISO-BMFF box inside a byte slice.
type box struct {
	typ  string
	data []byte
}

// boxes splits b into boxes; a box running past the end ends the list (and sets cut).
func boxes(b []byte) (out []box, cut bool) {
	for len(b) >= 8 && len(out) < maxHEICBoxes {
		n := uint64(binary.BigEndian.Uint32(b[:4]))
		hdr := uint64(8)
		switch n {
		case 0:
			n = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return out, true
			}
			n, hdr = binary.BigEndian.Uint64(b[8:16]), 16
		}
		if n < hdr || n > uint64(len(b)) {
			return out, true
		}
		out = append(out, box{typ: string(b[4:8]), data: b[hdr:n]})
		b = b[n:]
	}
	return out, len(b) != 0
}

// heicExif reads the meta box (at most maxHEICMeta bytes), finds the item of type "Exif" in iinf,
// its extents in iloc and the primary item's ispe (pixel size), then reads the Exif item: a
// 4-byte offset to the TIFF header, then the TIFF structure.
func heicExif(r io.ReaderAt, size int64, out *models.PhotoExif) []byte {
	var meta []byte
	off := int64(0)
	for range maxHEICBoxes {
		h, ok := readAt(r, size, off, 16)
		if len(h) < 8 {
			break
		}
		n, hdr := int64(binary.BigEndian.Uint32(h[:4])), int64(8)
		switch {
		case n == 1 && ok:
			n, hdr = int64(binary.BigEndian.Uint64(h[8:16])), 16
		case n == 0:
			n = size - off
		}
		if n < hdr || n > size-off {
			break
		}
		if string(h[4:8]) == "meta" {
			if n-hdr > maxHEICMeta {
				addError(out, "heic: meta box of %d bytes is too large", n-hdr)
				return nil
			}
			meta, _ = readAt(r, size, off+hdr, int(n-hdr))
			break
		}
		off += n
	}
	if len(meta) < 4 {
		addError(out, "heic: no meta box")
		return nil
	}
	children, cut := boxes(meta[4:]) // meta is a full box: skip version and flags
	if cut {
		addError(out, "heic: meta box truncated")
	}
	var infos, locs, props []byte
	var idat []byte
	primary := uint32(0)
	for _, c := range children {
		switch c.typ {
		case "iinf":
			infos = c.data
		case "iloc":
			locs = c.data
		case "iprp":
			props = c.data
		case "idat":
			idat = c.data
		case "pitm":
			if len(c.data) >= 6 && c.data[0] == 0 {
				primary = uint32(binary.BigEndian.Uint16(c.data[4:6]))
			} else if len(c.data) >= 8 {
				primary = binary.BigEndian.Uint32(c.data[4:8])
			}
		}
	}
	if w, h, ok := heicSize(props, primary); ok {
		out.Width, out.Height = w, h
	}
	exifID, ok := heicItemOfType(infos, "Exif")
	if !ok {
		return nil // no EXIF: not an error
	}
	ext, method, ok := heicExtents(locs, exifID)
	if !ok {
		addError(out, "heic: Exif item has no usable location")
		return nil
	}
	var item []byte
	for _, e := range ext {
		if e[1] > MaxExifBytes || uint64(len(item))+e[1] > MaxExifBytes {
			addError(out, "heic: Exif item is too large")
			return nil
		}
		var b []byte
		switch method {
		case 0:
			if e[0] > uint64(size) {
				ok = false
				break
			}
			b, ok = readAt(r, size, int64(e[0]), int(e[1]))
		case 1:
			if e[0]+e[1] > uint64(len(idat)) {
				ok = false
				break
			}
			b = idat[e[0] : e[0]+e[1]]
		}
		if !ok {
			addError(out, "heic: Exif item truncated")
			return nil
		}
		item = append(item, b...)
	}
	if len(item) < 4 {
		addError(out, "heic: Exif item truncated")
		return nil
	}
	skip := uint64(binary.BigEndian.Uint32(item[:4])) + 4
	if skip >= uint64(len(item)) {
		addError(out, "heic: Exif item header offset outside the item")
		return nil
	}
	return item[skip:]
}

// heicItemOfType returns the id of the first item of type typ in an iinf box's data.
func heicItemOfType(iinf []byte, typ string) (uint32, bool) {
	if len(iinf) < 6 {
		return 0, false
	}
	rest := iinf[6:] // version, flags, entry count (16 bits)
	if iinf[0] != 0 {
		if len(iinf) < 8 {
			return 0, false
		}
		rest = iinf[8:]
	}
	entries, _ := boxes(rest)
	for _, e := range entries {
		if e.typ != "infe" || len(e.data) < 4 {
			continue
		}
		v, d := e.data[0], e.data[4:]
		switch {
		case v == 2 && len(d) >= 8 && string(d[4:8]) == typ:
			return uint32(binary.BigEndian.Uint16(d[0:2])), true
		case v == 3 && len(d) >= 10 && string(d[6:10]) == typ:
			return binary.BigEndian.Uint32(d[0:4]), true
		}
	}
	return 0, false
}

// heicExtents finds an item's extents (offset, length) and construction method in an iloc box.
func heicExtents(iloc []byte, id uint32) ([][2]uint64, int, bool) {
	if len(iloc) < 8 {
		return nil, 0, false
	}
	v := iloc[0]
	p := &byteCursor{b: iloc[4:]}
	s1, s2 := p.u8(), p.u8()
	offSize, lenSize, baseSize, idxSize := int(s1>>4), int(s1&15), int(s2>>4), int(s2&15)
	if v == 0 {
		idxSize = 0
	}
	count := p.uint(2)
	if v == 2 {
		count = p.uint(4)
	}
	for range min(count, 65536) {
		itemID := p.uint(2)
		if v == 2 {
			itemID = p.uint(4)
		}
		method := 0
		if v == 1 || v == 2 {
			method = int(p.uint(2) & 15)
		}
		p.uint(2) // data reference index
		base := p.uint(baseSize)
		n := p.uint(2)
		per := uint64(idxSize + offSize + lenSize)
		if p.bad || n*per > uint64(len(p.b)) {
			return nil, 0, false
		}
		if uint32(itemID) != id {
			p.b = p.b[n*per:]
			continue
		}
		ext := make([][2]uint64, 0, min(n, 64))
		for range min(n, 64) {
			p.uint(idxSize)
			o, l := p.uint(offSize), p.uint(lenSize)
			ext = append(ext, [2]uint64{base + o, l})
		}
		return ext, method, method <= 1 && len(ext) > 0 && n <= 64
	}
	return nil, 0, false
}

// heicSize finds the ispe property (width, height) associated with the primary item in iprp.
func heicSize(iprp []byte, primary uint32) (int, int, bool) {
	children, _ := boxes(iprp)
	var props []box
	var ipma []byte
	for _, c := range children {
		switch c.typ {
		case "ipco":
			props, _ = boxes(c.data)
		case "ipma":
			ipma = c.data
		}
	}
	if len(ipma) < 8 {
		return 0, 0, false
	}
	v, flags := ipma[0], ipma[3]
	p := &byteCursor{b: ipma[4:]}
	for range min(p.uint(4), 65536) {
		itemID := p.uint(2)
		if v >= 1 {
			itemID = p.uint(4)
		}
		n := int(p.u8())
		for range n {
			idx := p.uint(1) & 0x7F
			if flags&1 != 0 {
				idx = (idx<<8 | p.uint(1)) & 0x7FFF
			}
			if p.bad {
				return 0, 0, false
			}
			if uint32(itemID) != primary || idx == 0 || int(idx) > len(props) {
				continue
			}
			if pr := props[idx-1]; pr.typ == "ispe" && len(pr.data) >= 12 {
				w, h := binary.BigEndian.Uint32(pr.data[4:8]), binary.BigEndian.Uint32(pr.data[8:12])
				if w <= 1<<20 && h <= 1<<20 {
					return int(w), int(h), true
				}
			}
		}
	}
	return 0, 0, false
}

// byteCursor reads big-endian integers of 0–8 bytes; reading past the end sets bad and gives 0.
type byteCursor struct {
	b   []byte
	bad bool
}

func (c *byteCursor) uint(n int) uint64 {
	if n < 0 || n > 8 || len(c.b) < n {
		c.bad = true
		c.b = nil
		return 0
	}
	var v uint64
	for _, x := range c.b[:n] {
		v = v<<8 | uint64(x)
	}
	c.b = c.b[n:]
	return v
}

func (c *byteCursor) u8() byte { return byte(c.uint(1)) }
