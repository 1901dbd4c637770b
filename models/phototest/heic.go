package phototest

import (
	"encoding/binary"
	"testing"
)

// HEIC is a structurally valid HEIF file as phones write it, minus real HEVC pixels: an ftyp box
// (heic; mif1, heic), a meta box (hdlr "pict", pitm, iinf with an "hvc1" primary item and an
// "Exif" item, iloc, iprp with the primary item's ispe pixel size) and an mdat holding a
// placeholder for the coded image and the Exif item (a 4-byte TIFF header offset, "Exif\0\0",
// then the TIFF structure). Readers that walk the boxes find the EXIF; decoders find no picture.
func HEIC(t testing.TB, o Options) []byte {
	t.Helper()
	w, h := o.size()
	var exifItem []byte
	if o.hasExif() {
		exifItem = binary.BigEndian.AppendUint32(nil, 6)
		exifItem = append(exifItem, "Exif\x00\x00"...)
		exifItem = append(exifItem, ExifTIFF(t, o)...)
	}
	coded := []byte{0, 0, 0, 1, 0x26, 0x01, 0xAF} // stands in for HEVC data
	ftyp := FtypBox("heic", "mif1", "heic")
	build := func(mdatData uint32) []byte {
		hdlr := fullBox("hdlr", 0, 0, append(make([]byte, 4), append([]byte("pict"), make([]byte, 13)...)...))
		pitm := fullBox("pitm", 0, 0, []byte{0, 1})
		infe := func(id uint16, typ string) []byte {
			d := binary.BigEndian.AppendUint16(nil, id)
			d = append(d, 0, 0)
			d = append(d, typ...)
			return fullBox("infe", 2, 0, append(d, 0))
		}
		n := uint16(1)
		items := infe(1, "hvc1")
		if exifItem != nil {
			n = 2
			items = append(items, infe(2, "Exif")...)
		}
		iinf := fullBox("iinf", 0, 0, append(binary.BigEndian.AppendUint16(nil, n), items...))
		// iloc v1: offset_size 4, length_size 4, base_offset_size 0, index_size 0.
		loc := []byte{0x44, 0x00}
		loc = binary.BigEndian.AppendUint16(loc, n)
		ext := func(id uint16, off, ln uint32) {
			loc = binary.BigEndian.AppendUint16(loc, id)
			loc = append(loc, 0, 0, 0, 0) // construction method 0 (file offset), data reference 0
			loc = binary.BigEndian.AppendUint16(loc, 1)
			loc = binary.BigEndian.AppendUint32(loc, off)
			loc = binary.BigEndian.AppendUint32(loc, ln)
		}
		ext(1, mdatData, uint32(len(coded)))
		if exifItem != nil {
			ext(2, mdatData+uint32(len(coded)), uint32(len(exifItem)))
		}
		iloc := fullBox("iloc", 1, 0, loc)
		ispe := fullBox("ispe", 0, 0, binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(w)), uint32(h)))
		ipco := box("ipco", ispe)
		ipma := fullBox("ipma", 0, 0, []byte{0, 0, 0, 1, 0, 1, 1, 0x81})
		iprp := box("iprp", append(ipco, ipma...))
		var meta []byte
		for _, b := range [][]byte{hdlr, pitm, iinf, iloc, iprp} {
			meta = append(meta, b...)
		}
		return fullBox("meta", 0, 0, meta)
	}
	meta := build(0)
	mdatData := uint32(len(ftyp) + len(meta) + 8)
	out := append(append([]byte{}, ftyp...), build(mdatData)...)
	return append(out, box("mdat", append(append([]byte{}, coded...), exifItem...))...)
}

func box(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(data)))
	b = append(b, typ...)
	return append(b, data...)
}

func fullBox(typ string, version byte, flags uint32, data []byte) []byte {
	vf := binary.BigEndian.AppendUint32(nil, uint32(version)<<24|flags&0xFFFFFF)
	return box(typ, append(vf, data...))
}
