package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/fieldsync/fieldsync/server/pdffont"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/gofiber/fiber/v2"
)

// Printable reports (the visit report and the monthly dispatch) are PDFs in Chinese (typeset by
// server/render) with a CJK TrueType font: Config.PDFFont (FIELDSYNC_PDF_FONT) when set; else Droid
// Sans Fallback from Debian's fonts-droid-fallback when installed; else the GB 2312 subset of the
// same font built into the binary (server/pdffont), so a fresh machine prints PDFs with nothing
// installed.

// DefaultPDFFont is where Debian's fonts-droid-fallback puts DroidSansFallbackFull.ttf; it is used,
// when FIELDSYNC_PDF_FONT is not set, in preference to the built-in subset (it covers every hanzi).
const DefaultPDFFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// PDFFontPackage is the Debian package that provides DefaultPDFFont.
const PDFFontPackage = "fonts-droid-fallback"

// pdfFont caches the font's bytes once read; a configured file that is missing is looked for again
// on the next request, so installing it needs no restart.
type pdfFont struct {
	mu   sync.Mutex
	data []byte
}

// errPDFFont is the 503 of a PDF request when the configured font cannot be read.
func errPDFFont(path string, cause error) *Problem {
	why := "cannot be read"
	if errors.Is(cause, fs.ErrNotExist) {
		why = "does not exist"
	}
	p := problem(fiber.StatusServiceUnavailable, "pdf-font-missing", "PDF font missing",
		fmt.Sprintf("PDF reports need a TrueType font with Chinese glyphs: FIELDSYNC_PDF_FONT names %s, which %s. "+
			"Fix the path, or unset FIELDSYNC_PDF_FONT to use the font built into fieldsync (or %s when installed). "+
			"JSON and XLSX work without it.", path, why, PDFFontPackage))
	p.Extra = map[string]any{"font": path, "package": PDFFontPackage}
	return p
}

// CheckPDFFont reports whether the configured font can be read (serve warns at start when not).
// With no font configured there is always one: the machine's Droid Sans Fallback or the built-in.
func CheckPDFFont(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return errPDFFont(path, err)
	}
	return f.Close()
}

func (s *Server) pdfFontData() ([]byte, error) {
	s.font.mu.Lock()
	defer s.font.mu.Unlock()
	if s.font.data != nil {
		return s.font.data, nil
	}
	data, err := loadPDFFont(s.cfg.PDFFont, DefaultPDFFont)
	if err != nil {
		s.log.Warn("PDF font unreadable", "path", s.cfg.PDFFont, "error", err.Error())
		return nil, err
	}
	s.font.data = data
	return data, nil
}

// loadPDFFont reads the configured font, or with none configured the system font (Debian's
// Droid Sans Fallback), or without it the subset built into the binary.
func loadPDFFont(configured, system string) ([]byte, error) {
	if configured == "" {
		if data, err := os.ReadFile(system); err == nil {
			return data, nil
		}
		return pdffont.CJK(), nil
	}
	data, err := os.ReadFile(configured)
	if err != nil {
		return nil, errPDFFont(configured, err)
	}
	return data, nil
}

// newPDF starts a document (landscape for wide tables) with the configured font.
func (s *Server) newPDF(landscape bool, footer string) (*render.PDF, error) {
	font, err := s.pdfFontData()
	if err != nil {
		return nil, err
	}
	return render.NewPDF(font, landscape, footer)
}

// sendPDF answers with a finished document as an attachment named filename.
func sendPDF(c *fiber.Ctx, d *render.PDF, filename string) error {
	data, err := d.Bytes()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, attachmentName(filename))
	return c.Send(data)
}

// attachmentName is a Content-Disposition for a download: an ASCII fallback and the UTF-8 name.
func attachmentName(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, pathEscapeUTF8(name))
}

func pathEscapeUTF8(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
