package photofile

import (
	"bytes"

	"encoding/binary"
	"github.com/fieldsync/fieldsync/models"
)

// SniffHeadBytes is how much of the start of a file Sniff wants to see.
const SniffHeadBytes = 512

// heicBrands are the ISO-BMFF brands of HEIC/HEIF still images (HEVC-coded items or image
// sequences, and the generic MIAF/HEIF brands phones put first). AVIF ("avif", "avis") is HEIF
// too but AV1-coded: it is not HEIC and is refused.
var heicBrands = map[string]bool{
	"heic": true, "heix": true, "hevc": true, "hevx": true, "heim": true, "heis": true,
	"mif1": true, "msf1": true,
}

// Sniff returns models.ContentJPEG, models.ContentPNG or models.ContentHEIC from the first bytes of a file
// (pass at least the first SniffHeadBytes bytes when the file has them), or "" for anything else.
// It trusts the bytes only, never a name or a declared type. JPEG: SOI followed by a marker;
// PNG: the 8-byte signature and an IHDR chunk; HEIC: an ISO-BMFF ftyp box whose major or
// compatible brands name HEIC/HEIF, unless a brand says AVIF (mif1 alone is ambiguous: an AVIF
// file lists mif1 too, so avif/avis anywhere wins).
func Sniff(head []byte) string {
	switch {
	case len(head) >= 4 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF && head[3] >= 0xC0 && head[3] != 0xFF:
		return models.ContentJPEG
	case len(head) >= 16 && bytes.Equal(head[:8], []byte("\x89PNG\r\n\x1a\n")) && string(head[12:16]) == "IHDR":
		return models.ContentPNG
	case isHEIC(head):
		return models.ContentHEIC
	}
	return ""
}

func isHEIC(head []byte) bool {
	if len(head) < 16 || string(head[4:8]) != "ftyp" {
		return false
	}
	size := int(binary.BigEndian.Uint32(head[:4]))
	if size < 16 || size%4 != 0 || size > 4096 {
		return false
	}
	size = min(size, len(head)) &^ 3 // brands past the bytes we have are not looked at
	brands := [][]byte{head[8:12]}   // major brand; head[12:16] is the minor version
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, head[i:i+4])
	}
	heic := false
	for _, b := range brands {
		switch string(b) {
		case "avif", "avis":
			return false
		}
		heic = heic || heicBrands[string(b)]
	}
	return heic
}
