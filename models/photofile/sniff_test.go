package photofile

import (
	"github.com/fieldsync/fieldsync/models"
	"testing"

	"github.com/fieldsync/fieldsync/models/phototest"
)

func TestSniff(t *testing.T) {
	ftyp := phototest.FtypBox
	cases := []struct {
		name string
		head []byte
		want string
	}{
		{"jpeg with exif", phototest.JPEG(t, phototest.Full()), models.ContentJPEG},
		{"jpeg plain", phototest.JPEG(t, phototest.Options{}), models.ContentJPEG},
		{"png", phototest.PNG(t, phototest.Options{}), models.ContentPNG},
		{"heic header", phototest.HEICHeader(), models.ContentHEIC},
		{"heic file", phototest.HEIC(t, phototest.Full()), models.ContentHEIC},
		{"heix", ftyp("heix", "mif1", "heix"), models.ContentHEIC},
		{"hevc sequence", ftyp("hevc", "msf1", "hevc"), models.ContentHEIC},
		{"mif1 first (Samsung)", ftyp("mif1", "mif1", "heic", "miaf"), models.ContentHEIC},
		{"avif", ftyp("avif", "avif", "mif1", "miaf"), ""},
		{"avif listing mif1 first", ftyp("mif1", "mif1", "avif", "miaf"), ""},
		{"mp4", ftyp("isom", "isom", "iso2", "mp41"), ""},
		{"ftyp too short", []byte("\x00\x00\x00\x08ftypheic"), ""},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), ""},
		{"pdf", []byte("%PDF-1.7\n"), ""},
		{"text", []byte("hello, world"), ""},
		{"jpeg SOI only", []byte{0xFF, 0xD8}, ""},
		{"png signature only", []byte("\x89PNG\r\n\x1a\n"), ""},
		{"empty", nil, ""},
	}
	for _, c := range cases {
		head := c.head
		if len(head) > SniffHeadBytes {
			head = head[:SniffHeadBytes]
		}
		if got := Sniff(head); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
