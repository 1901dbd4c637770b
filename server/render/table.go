package render

import (
	"time"
)

// A report table is a header of typed columns and rows of cells, written as CSV or XLSX. Both
// writers stream: CSV row by row to the client, XLSX row by row into excelize's StreamWriter
// (which spills to a temporary file past 16 MiB) and then as a zip straight to the client, so
// memory stays flat however many rows come.

// ColKind is the type of a column's cells.
type ColKind uint8

// The column kinds.
const (
	ColText ColKind = iota
	ColInt
	ColTime // a moment, shown in China Standard Time
	ColDate // a calendar date (YYYY-MM-DD)
)

// Column is one column with its header in Chinese and English ("走访时间 Started at").
type Column struct {
	ZH, EN string
	Kind   ColKind
	Width  float64 // XLSX column width in characters
}

// Header is the column's header cell.
func (c Column) Header() string { return c.ZH + " " + c.EN }

// Cell is one value of a row; the zero Cell is empty.
type Cell struct {
	set bool
	s   string
	n   int64
	t   time.Time
}

// Text is a text cell; "" leaves the cell empty.
func Text(s string) Cell { return Cell{set: s != "", s: s} }

// Int is a number cell.
func Int(n int) Cell { return Cell{set: true, n: int64(n)} }

// Time is a moment; nil leaves the cell empty.
func Time(t *time.Time) Cell {
	if t == nil {
		return Cell{}
	}
	return Cell{set: true, t: *t}
}

// Date is a calendar date YYYY-MM-DD; "" leaves the cell empty.
func Date(d string) Cell { return Cell{set: d != "", s: d} }

// Table writes a table's rows; Close finishes the document.
type Table interface {
	Row(cells []Cell) error
	Close() error
}

// timeLayoutCST is how a CSV shows a moment (in China Standard Time).
const timeLayoutCST = "2006-01-02 15:04:05"
