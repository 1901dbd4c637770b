package render

import (
	"archive/zip"
	"fmt"
	"io"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/xuri/excelize/v2"
)

// xlsxTable writes one sheet (more when the rows exceed a sheet's 1,048,576) with a bold header
// row and typed cells: numbers as numbers, times and dates as Excel dates in China Standard Time,
// text as strings (never formulas), defused as in CSV.
type xlsxTable struct {
	out            io.Writer
	f              *excelize.File
	sw             *excelize.StreamWriter
	cols           []Column
	sheet          string
	sheets, rowNum int
	header         int
	styles         map[ColKind]int
	vals           []any
}

// XLSXMaxRows is the number of rows of a worksheet, header included.
const XLSXMaxRows = 1_048_576

// NewXLSX starts a workbook whose rows go to the sheet named sheet; Close writes it to w.
func NewXLSX(w io.Writer, sheet string, cols []Column) (Table, error) {
	f := excelize.NewFile()
	t := &xlsxTable{out: w, f: f, cols: cols, sheet: sheet, styles: map[ColKind]int{}, vals: make([]any, len(cols))}
	var err error
	if t.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return nil, err
	}
	timeFmt, dateFmt := "yyyy-mm-dd hh:mm:ss", "yyyy-mm-dd"
	if t.styles[ColTime], err = f.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt}); err != nil {
		return nil, err
	}
	if t.styles[ColDate], err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
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
		if c.Width > 0 {
			if err := sw.SetColWidth(i+1, i+1, c.Width); err != nil {
				return err
			}
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(t.cols))
	for i, c := range t.cols {
		head[i] = excelize.Cell{StyleID: t.header, Value: c.Header()}
	}
	t.rowNum = 1
	return sw.SetRow("A1", head)
}

func (t *xlsxTable) Row(cells []Cell) error {
	if t.rowNum == XLSXMaxRows {
		if err := t.nextSheet(); err != nil {
			return err
		}
	}
	t.rowNum++
	for i, c := range cells {
		switch {
		case !c.set:
			t.vals[i] = nil
		case t.cols[i].Kind == ColInt:
			t.vals[i] = c.n
		case t.cols[i].Kind == ColTime:
			// Excel dates have no zone: write the wall clock of China Standard Time.
			wall := c.t.In(models.ChinaStandardTime)
			y, m, d := wall.Date()
			t.vals[i] = excelize.Cell{StyleID: t.styles[ColTime],
				Value: time.Date(y, m, d, wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC)}
		case t.cols[i].Kind == ColDate:
			if d, err := time.Parse(time.DateOnly, c.s); err == nil {
				t.vals[i] = excelize.Cell{StyleID: t.styles[ColDate], Value: d}
			} else {
				t.vals[i] = DefuseFormula(c.s)
			}
		default:
			t.vals[i] = DefuseFormula(c.s)
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, t.rowNum)
	if err != nil {
		return err
	}
	return t.sw.SetRow(cell, t.vals)
}

func (t *xlsxTable) Close() error {
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
