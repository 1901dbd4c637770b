package server

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/fieldsync/fieldsync/server/pdffont"
	"github.com/gofiber/fiber/v2"
	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/goregular"
)

// Printable reports (the visit report and the monthly dispatch) are PDFs in Chinese, typeset with
// a CJK TrueType font: Config.PDFFont (FIELDSYNC_PDF_FONT) when set; else Droid Sans Fallback from
// Debian's fonts-droid-fallback when installed; else the GB 2312 subset of the same font built into
// the binary (server/pdffont), so a fresh machine prints PDFs with nothing installed. gopdf embeds
// the subset of glyphs a document uses, so a report is tens of kilobytes plus its photos. CJK
// fallback fonts such as Droid Sans Fallback carry no Latin letters or digits, so those are set in
// Go Regular (built into the binary by golang.org/x/image), run by run.

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

// pdfDoc is a report being typeset: A4 pages top to bottom, one font in two sizes.
type pdfDoc struct {
	p             gopdf.GoPdf
	w, h, margin  float64
	y             float64
	footer        string
	pages         int
	defaultSize   float64
	lineGap       float64
	imageFailures int
	size          float64
	widths        map[runeSize]float64
}

type runeSize struct {
	r    rune
	size float64
}

const (
	pdfFamily      = "cjk"
	pdfLatinFamily = "latin"
)

// latinRune says which runes are set in the Latin font: Latin, Greek, Cyrillic and general
// punctuation; everything else (CJK, full-width punctuation) in the CJK font.
func latinRune(r rune) bool { return r < 0x2100 }

// newPDF starts a document (landscape for wide tables) with the configured font.
func (s *Server) newPDF(landscape bool, footer string) (*pdfDoc, error) {
	font, err := s.pdfFontData()
	if err != nil {
		return nil, err
	}
	d := &pdfDoc{margin: 40, footer: footer, defaultSize: 10, lineGap: 1.35, widths: map[runeSize]float64{}}
	size := *gopdf.PageSizeA4
	if landscape {
		size = gopdf.Rect{W: size.H, H: size.W}
	}
	d.w, d.h = size.W, size.H
	d.p.Start(gopdf.Config{PageSize: size})
	if err := d.p.AddTTFFontData(pdfFamily, font); err != nil {
		return nil, fmt.Errorf("pdf font %s: %w", s.cfg.PDFFont, err)
	}
	if err := d.p.AddTTFFontData(pdfLatinFamily, goregular.TTF); err != nil {
		return nil, fmt.Errorf("pdf latin font: %w", err)
	}
	d.newPage()
	return d, nil
}

func (d *pdfDoc) newPage() {
	d.p.AddPage()
	d.pages++
	d.y = d.margin
	if d.footer != "" {
		d.font(8)
		d.write(d.margin, d.h-d.margin+12, fmt.Sprintf("%s · 第 %d 页", d.footer, d.pages))
	}
	d.font(d.defaultSize)
}

func (d *pdfDoc) font(size float64) { d.size = size }

// runeWidth is the advance of r at size in the font it is set in.
func (d *pdfDoc) runeWidth(r rune, size float64) float64 {
	k := runeSize{r, size}
	if w, ok := d.widths[k]; ok {
		return w
	}
	fam := pdfFamily
	if latinRune(r) {
		fam = pdfLatinFamily
	}
	_ = d.p.SetFont(fam, "", size)
	w, err := d.p.MeasureTextWidth(string(r))
	if err != nil {
		w = size
	}
	d.widths[k] = w
	return w
}

// wrap breaks s into lines at most width wide at the current size (at a space where a line has
// one, else anywhere: Chinese has no spaces).
func (d *pdfDoc) wrap(s string, width float64) []string {
	var lines []string
	var cur []rune
	w, lastSpace := 0.0, -1
	for _, r := range s {
		rw := d.runeWidth(r, d.size)
		if w+rw > width && len(cur) > 0 {
			cut := len(cur)
			if lastSpace > 0 {
				cut = lastSpace + 1
			}
			lines = append(lines, strings.TrimRight(string(cur[:cut]), " "))
			cur = append([]rune{}, cur[cut:]...)
			w, lastSpace = 0, -1
			for i, c := range cur {
				w += d.runeWidth(c, d.size)
				if c == ' ' {
					lastSpace = i
				}
			}
		}
		if r == ' ' {
			lastSpace = len(cur)
		}
		cur = append(cur, r)
		w += rw
	}
	return append(lines, string(cur))
}

// write sets s at (x, y) at the current size, each run of runes in its font.
func (d *pdfDoc) write(x, y float64, s string) {
	runes := []rune(s)
	for i := 0; i < len(runes); {
		latin := latinRune(runes[i])
		j := i
		w := 0.0
		for j < len(runes) && latinRune(runes[j]) == latin {
			w += d.runeWidth(runes[j], d.size)
			j++
		}
		fam := pdfFamily
		if latin {
			fam = pdfLatinFamily
		}
		_ = d.p.SetFont(fam, "", d.size)
		d.p.SetXY(x, y)
		_ = d.p.Cell(nil, string(runes[i:j]))
		x += w
		i = j
	}
}

// room starts a new page unless height more points fit above the bottom margin.
func (d *pdfDoc) room(height float64) {
	if d.y+height > d.h-d.margin {
		d.newPage()
	}
}

// text writes wrapped text at size across the page (indented by indent points).
func (d *pdfDoc) text(s string, size, indent float64) {
	d.font(size)
	width := d.w - 2*d.margin - indent
	for _, para := range strings.Split(s, "\n") {
		for _, l := range d.wrap(para, width) {
			d.room(size * d.lineGap)
			d.write(d.margin+indent, d.y, l)
			d.y += size * d.lineGap
		}
	}
	d.font(d.defaultSize)
}

// heading writes a section heading with a little space above it.
func (d *pdfDoc) heading(s string, size float64) {
	d.room(size*2 + 20)
	d.y += size * 0.6
	d.text(s, size, 0)
	d.p.SetLineWidth(0.5)
	d.p.Line(d.margin, d.y, d.w-d.margin, d.y)
	d.y += 4
}

// fields writes label: value lines in two columns of labels and values.
func (d *pdfDoc) fields(pairs [][2]string) {
	labelW := 110.0
	for _, kv := range pairs {
		d.font(d.defaultSize)
		width := d.w - 2*d.margin - labelW
		lines := d.wrap(kv[1], width)
		d.room(d.defaultSize * d.lineGap * float64(min(len(lines), 3)))
		d.write(d.margin, d.y, kv[0])
		for _, l := range lines {
			d.room(d.defaultSize * d.lineGap)
			d.write(d.margin+labelW, d.y, l)
			d.y += d.defaultSize * d.lineGap
		}
	}
}

// table writes rows under a header (repeated on each new page); widths are shares of the page
// width. Long cells wrap.
func (d *pdfDoc) table(header []string, widths []float64, rows [][]string, size float64) {
	total := 0.0
	for _, w := range widths {
		total += w
	}
	avail := d.w - 2*d.margin
	cols := make([]float64, len(widths))
	for i, w := range widths {
		cols[i] = w / total * avail
	}
	line := size * d.lineGap
	drawRow := func(cells []string, bold bool) {
		d.font(size)
		wrapped := make([][]string, len(cells))
		n := 1
		for i, c := range cells {
			ls := d.wrap(c, cols[i]-4)
			wrapped[i] = ls
			n = max(n, len(ls))
		}
		height := float64(n)*line + 4
		d.room(height)
		x := d.margin
		if bold {
			d.p.SetFillColor(230, 230, 230)
			d.p.RectFromUpperLeftWithStyle(d.margin, d.y, avail, height, "F")
			d.p.SetFillColor(0, 0, 0)
		}
		for i, ls := range wrapped {
			for j, l := range ls {
				d.write(x+2, d.y+2+float64(j)*line, l)
			}
			x += cols[i]
		}
		d.p.SetLineWidth(0.3)
		d.p.Line(d.margin, d.y+height, d.margin+avail, d.y+height)
		d.y += height
	}
	startPage := -1
	for _, r := range rows {
		if d.pages != startPage {
			d.room(2 * (line + 4))
			drawRow(header, true)
			startPage = d.pages
		}
		before := d.pages
		drawRow(r, false)
		if d.pages != before { // the row moved to a new page: repeat the header above it
			startPage = -1
		}
	}
	if len(rows) == 0 {
		drawRow(header, true)
		drawRow([]string{"（无）"}, false)
	}
	d.font(d.defaultSize)
}

// image draws img scaled to fit maxW × maxH at the left margin; false when it cannot be drawn.
func (d *pdfDoc) image(img image.Image, maxW, maxH float64) bool {
	b := img.Bounds()
	if b.Dx() == 0 || b.Dy() == 0 {
		return false
	}
	scale := min(maxW/float64(b.Dx()), maxH/float64(b.Dy()))
	w, h := float64(b.Dx())*scale, float64(b.Dy())*scale
	d.room(h + 4)
	if err := d.p.ImageFrom(img, d.margin, d.y, &gopdf.Rect{W: w, H: h}); err != nil {
		d.imageFailures++
		return false
	}
	d.y += h + 4
	return true
}

// bytes finishes the document.
func (d *pdfDoc) bytes() ([]byte, error) {
	var buf bytes.Buffer
	if _, err := d.p.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// sendPDF answers with a finished document as an attachment named filename.
func sendPDF(c *fiber.Ctx, d *pdfDoc, filename string) error {
	data, err := d.bytes()
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
