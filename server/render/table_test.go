package render

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var testColumns = []Column{
	{"名称", "Name", ColText, 20},
	{"数量", "Count", ColInt, 8},
	{"时间", "At", ColTime, 20},
	{"期限", "Deadline", ColDate, 12},
}

// hostileCells are rows whose text cells a spreadsheet would evaluate, with what each must become.
var hostileCells = []struct{ in, want string }{
	{"=1+1", "'=1+1"},
	{" =HYPERLINK(\"http://evil.example\",\"x\")", "' =HYPERLINK(\"http://evil.example\",\"x\")"},
	{"\t@SUM(A1)", "'\t@SUM(A1)"},
	{"\n-2", "'\n-2"},
	{"＝1+1", "'＝1+1"},
	{"\u3000＋1", "'\u3000＋1"},
	{"|calc", "'|calc"},
	{"东升镇", "东升镇"},
}

func TestCSVTable(t *testing.T) {
	var buf bytes.Buffer
	tw, err := NewCSV(&buf, testColumns)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 1, 1, 2, 3, 0, time.UTC)
	for _, h := range hostileCells {
		if err := tw.Row([]Cell{Text(h.in), Int(-3), Time(&at), Date(h.in)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Row([]Cell{Text(""), Int(0), Time(nil), Date("2026-04-30")}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	body, ok := bytes.CutPrefix(buf.Bytes(), []byte("\uFEFF"))
	if !ok {
		t.Fatal("no byte-order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], []string{"名称 Name", "数量 Count", "时间 At", "期限 Deadline"}) {
		t.Fatalf("header %q", rows[0])
	}
	for i, h := range hostileCells {
		want := []string{h.want, "-3", "2026-04-01 09:02:03", h.want}
		if !slices.Equal(rows[i+1], want) {
			t.Errorf("row %d = %q, want %q", i+1, rows[i+1], want)
		}
	}
	if last := rows[len(rows)-1]; !slices.Equal(last, []string{"", "0", "", "2026-04-30"}) {
		t.Errorf("last row %q", last)
	}
}

func TestXLSXTable(t *testing.T) {
	var buf bytes.Buffer
	tw, err := NewXLSX(&buf, "Things", testColumns)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 1, 1, 2, 3, 0, time.UTC)
	for _, h := range hostileCells {
		if err := tw.Row([]Cell{Text(h.in), Int(7), Time(&at), Date("2026-04-30")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if xml := sheetXML(t, buf.Bytes(), "xl/worksheets/sheet1.xml"); strings.Contains(xml, "<f>") || strings.Contains(xml, "<f ") {
		t.Fatalf("the sheet holds a formula: %.300s", xml)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); !slices.Equal(sheets, []string{"Things"}) {
		t.Fatalf("sheets %q", sheets)
	}
	for i, h := range hostileCells {
		name, _ := excelize.CoordinatesToCellName(1, i+2)
		if typ, _ := f.GetCellType("Things", name); typ != excelize.CellTypeInlineString {
			t.Errorf("%s: cell type %v, want an inline string", name, typ)
		}
		if v, _ := f.GetCellValue("Things", name); v != h.want {
			t.Errorf("%s = %q, want %q", name, v, h.want)
		}
		if formula, _ := f.GetCellFormula("Things", name); formula != "" {
			t.Errorf("%s has the formula %q", name, formula)
		}
	}
	if v, _ := f.GetCellValue("Things", "B2"); v != "7" {
		t.Errorf("B2 = %q", v)
	}
	raw, _ := f.GetCellValue("Things", "C2", excelize.Options{RawCellValue: true})
	if got, err := excelize.ExcelDateToTime(mustFloat(t, raw), false); err != nil || got.Sub(time.Date(2026, 4, 1, 9, 2, 3, 0, time.UTC)).Abs() > time.Second {
		t.Errorf("C2 = %s (%v), want 2026-04-01 09:02:03 CST wall clock", raw, got)
	}
}

// sheetXML reads one part of an XLSX file.
func sheetXML(t *testing.T, data []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return f
}
