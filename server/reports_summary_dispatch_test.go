package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/server/render"
	"github.com/ledongthuc/pdf"
	"github.com/xuri/excelize/v2"
)

// pdfText extracts the text of a PDF with an independent reader.
func pdfText(t *testing.T, data []byte) string {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", data[:min(len(data), 40)])
	}
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := r.GetPlainText()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(rd); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestDispatchReport(t *testing.T) {
	f := newSummaryFixture(t)
	sup := f.h.login("supervisor", "laptop-sup")
	month := f.day(10).Format("2006-01") // the month of V2, P1's visit
	base := "/v1/reports/dispatch?region=211522&month=" + month
	r := f.h.do("GET", base, sup, nil)
	expectStatus(t, r, 200)
	var out render.Dispatch
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	if out.Month != month || out.Summary.By != "township" || out.Summary.Region.Code != "211522" ||
		!strings.HasPrefix(out.Summary.From, month) || !strings.HasPrefix(out.Summary.To, month) {
		t.Fatalf("header: %s %s %+v %s..%s", out.Month, out.Summary.By, out.Summary.Region, out.Summary.From, out.Summary.To)
	}
	// Overdue today: F1 only (F4 was closed late, F2 and F3 are not due).
	if len(out.OverdueFindings) != 1 || out.OverdueTruncated {
		t.Fatalf("overdue: %+v", out.OverdueFindings)
	}
	o := out.OverdueFindings[0]
	if o.DaysOverdue != 5 || o.ResponsibleUnit != "东升镇政府" || o.Severity != "major" || o.Site != "东升镇光伏产业园" ||
		o.Place.County != "康北县" || o.Place.Township != "东升镇" || o.VisitID != f.visits["V2"] || o.Deadline != f.date(-5) {
		t.Fatalf("overdue finding %+v", o)
	}
	// Projects without a visit in the month: P2 (never visited), not P1.
	var names []string
	for _, p := range out.ProjectsWithoutVisit {
		names = append(names, p.Name)
		if p.ID == f.p1 {
			t.Fatalf("P1 was visited in %s: %+v", month, p)
		}
	}
	if len(out.ProjectsWithoutVisit) != 1 || out.ProjectsWithoutVisit[0].ID != f.p2 || out.ProjectsWithoutVisit[0].LastVisit != nil ||
		out.ProjectsWithoutVisit[0].Stage != "approved" {
		t.Fatalf("projects without visit: %v %+v", names, out.ProjectsWithoutVisit)
	}

	// XLSX, read back with excelize.
	r = f.h.do("GET", base+"&format=xlsx", sup, nil)
	expectStatus(t, r, 200)
	if !strings.Contains(r.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("disposition %q", r.Header.Get("Content-Disposition"))
	}
	x, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := x.GetSheetList(); strings.Join(got, ",") != "汇总,逾期问题,未督查项目" {
		t.Fatalf("sheets %v", got)
	}
	rows, _ := x.GetRows("汇总")
	if len(rows) != 2+len(out.Summary.Rows)+1 || rows[0][0] != "地区" || rows[1][0] != "Region" ||
		!strings.HasPrefix(rows[len(rows)-1][0], "合计") {
		t.Fatalf("summary sheet: %d rows, first %v, last %v", len(rows), rows[0], rows[len(rows)-1])
	}
	overdue, _ := x.GetRows("逾期问题")
	if len(overdue) != 3 || overdue[2][6] != "东升镇政府" || overdue[2][9] != "5" || overdue[2][4] != "重大" {
		t.Fatalf("overdue sheet %v", overdue)
	}
	if v, _ := x.GetCellType("逾期问题", "J3"); v != excelize.CellTypeNumber && v != excelize.CellTypeUnset {
		t.Fatalf("days overdue is not a number cell: %v", v)
	}
	projects, _ := x.GetRows("未督查项目")
	if len(projects) != 3 || projects[2][2] != "东升镇冷链物流园" || projects[2][3] != "已批" {
		t.Fatalf("projects sheet %v", projects)
	}

	// PDF, read back with an independent text extractor.
	r = f.h.do("GET", base+"&format=pdf", sup, nil)
	expectStatus(t, r, 200)
	text := pdfText(t, r.Body)
	for _, want := range []string{"康北县", "每月调度报告", "东升镇光伏产业园", "东升镇政府", "东升镇冷链物流园"} {
		if !strings.Contains(text, want) {
			t.Fatalf("PDF text lacks %q: %s", want, text)
		}
	}
}

func TestDispatchParams(t *testing.T) {
	h := newHarness(t)
	sup := h.login("supervisor", "laptop-sup")
	for _, c := range []struct {
		query  string
		status int
		slug   string
	}{
		{"month=2026-13", 400, "bad-request"},
		{"month=26-01", 400, "bad-request"},
		{"month=2026-1", 400, "bad-request"},
		{"month=April", 400, "bad-request"},
		{"month=2099-01", 422, "validation"},
		{"format=doc", 400, "bad-request"},
		{"month=2026-01&month=2026-02", 400, "bad-request"},
		{"from=2026-01-01", 400, "bad-request"},
	} {
		r := h.do("GET", "/v1/reports/dispatch?"+c.query, sup, nil)
		if r.Status != c.status || r.problemType(t) != c.slug {
			t.Fatalf("%s: %d %s", c.query, r.Status, r.Body)
		}
	}
	expectStatus(t, h.do("GET", "/v1/reports/dispatch?month=2026-01", sup, nil), 200)
	insp := h.login("inspector", "phone")
	if r := h.do("GET", "/v1/reports/dispatch", insp, nil); r.Status != 403 {
		t.Fatalf("inspector: %d", r.Status)
	}
	// Without the font, PDFs are a 503 naming the package; JSON still works.
	nofont := newHarness(t, func(c *Config) { c.PDFFont = "/nonexistent/font.ttf" })
	sup = nofont.login("supervisor", "laptop-sup")
	r := nofont.do("GET", "/v1/reports/dispatch?format=pdf", sup, nil)
	if r.Status != 503 || r.problemType(t) != "pdf-font-missing" || r.json(t)["package"] != PDFFontPackage ||
		!strings.Contains(r.json(t)["detail"].(string), "/nonexistent/font.ttf") {
		t.Fatalf("no font: %d %s", r.Status, r.Body)
	}
	expectStatus(t, nofont.do("GET", "/v1/reports/dispatch", sup, nil), 200)
}
