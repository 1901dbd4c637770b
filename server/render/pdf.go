package render

import (
	"bytes"
	"fmt"
	"image"
	"strings"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/goregular"
)

// Printable reports (the visit report and the monthly dispatch) are PDFs in Chinese, typeset with
// a CJK TrueType font the caller reads from the machine. gopdf embeds the subset of glyphs a
// document uses, so a report is tens of kilobytes plus its photos. CJK fallback fonts such as
// Droid Sans Fallback carry no Latin letters or digits, so those are set in Go Regular (built into
// the binary by golang.org/x/image), run by run.

// PDF is a report being typeset: A4 pages top to bottom, one font in two sizes.
type PDF struct {
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

// NewPDF starts an A4 document (landscape for wide tables) typeset with font, a TrueType font
// with Chinese glyphs; footer, when not empty, is printed with the page number on every page.
func NewPDF(font []byte, landscape bool, footer string) (*PDF, error) {
	d := &PDF{margin: 40, footer: footer, defaultSize: 10, lineGap: 1.35, widths: map[runeSize]float64{}}
	size := *gopdf.PageSizeA4
	if landscape {
		size = gopdf.Rect{W: size.H, H: size.W}
	}
	d.w, d.h = size.W, size.H
	d.p.Start(gopdf.Config{PageSize: size})
	if err := d.p.AddTTFFontData(pdfFamily, font); err != nil {
		return nil, fmt.Errorf("render: pdf font: %w", err)
	}
	if err := d.p.AddTTFFontData(pdfLatinFamily, goregular.TTF); err != nil {
		return nil, fmt.Errorf("render: pdf latin font: %w", err)
	}
	d.newPage()
	return d, nil
}

func (d *PDF) newPage() {
	d.p.AddPage()
	d.pages++
	d.y = d.margin
	if d.footer != "" {
		d.font(8)
		d.write(d.margin, d.h-d.margin+12, fmt.Sprintf("%s · 第 %d 页", d.footer, d.pages))
	}
	d.font(d.defaultSize)
}

func (d *PDF) font(size float64) { d.size = size }

// runeWidth is the advance of r at size in the font it is set in.
func (d *PDF) runeWidth(r rune, size float64) float64 {
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
func (d *PDF) wrap(s string, width float64) []string {
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
func (d *PDF) write(x, y float64, s string) {
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
func (d *PDF) room(height float64) {
	if d.y+height > d.h-d.margin {
		d.newPage()
	}
}

// text writes wrapped text at size across the page (indented by indent points).
func (d *PDF) text(s string, size, indent float64) {
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
func (d *PDF) heading(s string, size float64) {
	d.room(size*2 + 20)
	d.y += size * 0.6
	d.text(s, size, 0)
	d.p.SetLineWidth(0.5)
	d.p.Line(d.margin, d.y, d.w-d.margin, d.y)
	d.y += 4
}

// fields writes label: value lines in two columns of labels and values.
func (d *PDF) fields(pairs [][2]string) {
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
func (d *PDF) table(header []string, widths []float64, rows [][]string, size float64) {
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
func (d *PDF) image(img image.Image, maxW, maxH float64) bool {
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

// Bytes finishes the document.
func (d *PDF) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	if _, err := d.p.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render: pdf: %w", err)
	}
	return buf.Bytes(), nil
}
