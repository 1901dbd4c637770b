package server

import (
	"archive/zip"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/xuri/excelize/v2"
)

// A report table is a header of typed columns and rows of cells, written as CSV or XLSX. Both
// writers stream: CSV row by row to the client, XLSX row by row into excelize's StreamWriter
// (which spills to a temporary file past 16 MiB) and then as a zip straight to the client, so
// memory stays flat however many rows come.

type colKind uint8

const (
	colText colKind = iota
	colInt
	colTime // a moment, shown in China Standard Time
	colDate // a calendar date (YYYY-MM-DD)
)

// reportColumn is one column with its header in Chinese and English ("走访时间 Started at").
type reportColumn struct {
	zh, en string
	kind   colKind
	width  float64 // XLSX column width in characters
}

func (c reportColumn) header() string { return c.zh + " " + c.en }

// reportCell is one value; set false leaves the cell empty.
type reportCell struct {
	set bool
	s   string
	n   int64
	t   time.Time
}

func textCell(s string) reportCell { return reportCell{set: s != "", s: s} }
func intCell(n int) reportCell     { return reportCell{set: true, n: int64(n)} }
func timeCell(t *time.Time) reportCell {
	if t == nil {
		return reportCell{}
	}
	return reportCell{set: true, t: *t}
}
func dateCell(d string) reportCell { return reportCell{set: d != "", s: d} }

// tableWriter writes a table's rows; close finishes the document.
type tableWriter interface {
	row(cells []reportCell) error
	close() error
}

// csvTable writes UTF-8 with a byte-order mark (so Excel on a Chinese Windows reads it as UTF-8),
// a header row, then one line per row. Text that a spreadsheet would run as a formula (starting
// with = + - @ or a tab or carriage return) is prefixed with an apostrophe (OWASP's advice on CSV
// injection).
type csvTable struct {
	w      *csv.Writer
	cols   []reportColumn
	fields []string
}

const timeLayoutCST = "2006-01-02 15:04:05"

func newCSVTable(w io.Writer, cols []reportColumn) (tableWriter, error) {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return nil, err
	}
	t := &csvTable{w: csv.NewWriter(w), cols: cols, fields: make([]string, len(cols))}
	for i, c := range cols {
		t.fields[i] = c.header()
	}
	if err := t.w.Write(t.fields); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *csvTable) row(cells []reportCell) error {
	for i, c := range cells {
		switch {
		case !c.set:
			t.fields[i] = ""
		case t.cols[i].kind == colInt:
			t.fields[i] = strconv.FormatInt(c.n, 10)
		case t.cols[i].kind == colTime:
			t.fields[i] = c.t.In(models.ChinaStandardTime).Format(timeLayoutCST)
		default:
			t.fields[i] = defuseFormula(c.s)
		}
	}
	return t.w.Write(t.fields)
}

func (t *csvTable) close() error {
	t.w.Flush()
	return t.w.Error()
}

func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// xlsxTable writes one sheet (more when the rows exceed a sheet's 1,048,576) with a bold header
// row and typed cells: numbers as numbers, times and dates as Excel dates in China Standard Time.
type xlsxTable struct {
	out            io.Writer
	f              *excelize.File
	sw             *excelize.StreamWriter
	cols           []reportColumn
	sheet          string
	sheets, rowNum int
	header         int
	styles         map[colKind]int
	vals           []any
}

const xlsxMaxRows = 1_048_576

func newXLSXTable(w io.Writer, sheet string, cols []reportColumn) (tableWriter, error) {
	f := excelize.NewFile()
	t := &xlsxTable{out: w, f: f, cols: cols, sheet: sheet, styles: map[colKind]int{}, vals: make([]any, len(cols))}
	var err error
	if t.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return nil, err
	}
	timeFmt, dateFmt := "yyyy-mm-dd hh:mm:ss", "yyyy-mm-dd"
	if t.styles[colTime], err = f.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt}); err != nil {
		return nil, err
	}
	if t.styles[colDate], err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
		return nil, err
	}
	if err := t.nextSheet(); err != nil {
		f.Close()
		return nil, err
	}
	return t, nil
}

func (t *xlsxTable) nextSheet() error {
	if t.sw != nil {
		if err := t.sw.Flush(); err != nil {
			return err
		}
	}
	t.sheets++
	name := t.sheet
	if t.sheets == 1 {
		if err := t.f.SetSheetName("Sheet1", name); err != nil {
			return err
		}
	} else {
		name = fmt.Sprintf("%s (%d)", t.sheet, t.sheets)
		if _, err := t.f.NewSheet(name); err != nil {
			return err
		}
	}
	sw, err := t.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	t.sw = sw
	for i, c := range t.cols {
		if c.width > 0 {
			if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
				return err
			}
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(t.cols))
	for i, c := range t.cols {
		head[i] = excelize.Cell{StyleID: t.header, Value: c.header()}
	}
	t.rowNum = 1
	return sw.SetRow("A1", head)
}

func (t *xlsxTable) row(cells []reportCell) error {
	if t.rowNum == xlsxMaxRows {
		if err := t.nextSheet(); err != nil {
			return err
		}
	}
	t.rowNum++
	for i, c := range cells {
		switch {
		case !c.set:
			t.vals[i] = nil
		case t.cols[i].kind == colInt:
			t.vals[i] = c.n
		case t.cols[i].kind == colTime:
			// Excel dates have no zone: write the wall clock of China Standard Time.
			wall := c.t.In(models.ChinaStandardTime)
			y, m, d := wall.Date()
			t.vals[i] = excelize.Cell{StyleID: t.styles[colTime],
				Value: time.Date(y, m, d, wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC)}
		case t.cols[i].kind == colDate:
			if d, err := time.Parse(time.DateOnly, c.s); err == nil {
				t.vals[i] = excelize.Cell{StyleID: t.styles[colDate], Value: d}
			} else {
				t.vals[i] = c.s
			}
		default:
			t.vals[i] = c.s
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, t.rowNum)
	if err != nil {
		return err
	}
	return t.sw.SetRow(cell, t.vals)
}

func (t *xlsxTable) close() error {
	defer t.f.Close()
	if err := t.sw.Flush(); err != nil {
		return err
	}
	// File.WriteTo assembles the whole zip in a bytes.Buffer (300 MB for a million rows); with
	// its zip writer pointed at the client instead, the buffer stays empty and the parts (the
	// sheet copied from its temporary file) stream out.
	t.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(t.out) })
	_, err := t.f.WriteToBuffer()
	return err
}

// Content types and file names of the exports.
const (
	mimeCSV     = "text/csv; charset=utf-8"
	mimeXLSX    = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mimeGeoJSON = "application/geo+json"
)

func newTable(format string, w io.Writer, sheet string, cols []reportColumn) (tableWriter, error) {
	if format == formatXLSX {
		return newXLSXTable(w, sheet, cols)
	}
	return newCSVTable(w, cols)
}
