package render

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/fieldsync/fieldsync/models"
)

// csvTable writes UTF-8 with a byte-order mark (so Excel on a Chinese Windows reads it as UTF-8),
// a header row, then one line per row. Text a spreadsheet would run as a formula is defused
// (DefuseFormula).
type csvTable struct {
	w      *csv.Writer
	cols   []Column
	fields []string
}

// NewCSV starts a CSV table on w: the byte-order mark and the header row.
func NewCSV(w io.Writer, cols []Column) (Table, error) {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return nil, err
	}
	t := &csvTable{w: csv.NewWriter(w), cols: cols, fields: make([]string, len(cols))}
	for i, c := range cols {
		t.fields[i] = c.Header()
	}
	if err := t.w.Write(t.fields); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *csvTable) Row(cells []Cell) error {
	for i, c := range cells {
		switch {
		case !c.set:
			t.fields[i] = ""
		case t.cols[i].Kind == ColInt:
			t.fields[i] = strconv.FormatInt(c.n, 10)
		case t.cols[i].Kind == ColTime:
			t.fields[i] = c.t.In(models.ChinaStandardTime).Format(timeLayoutCST)
		default:
			t.fields[i] = DefuseFormula(c.s)
		}
	}
	return t.w.Write(t.fields)
}

func (t *csvTable) Close() error {
	t.w.Flush()
	return t.w.Error()
}
