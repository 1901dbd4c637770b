package render

import (
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/fieldsync/fieldsync/server/pdffont"
)

// TestBuiltInPDFFontPrintsTheDemoCity: a PDF typeset with the built-in subset only holds every
// region, site and person name of the demo city and the reports' own labels, as an independent
// PDF reader extracts them.
func TestBuiltInPDFFontPrintsTheDemoCity(t *testing.T) {
	doc, err := NewPDF(pdffont.CJK(), false, "现场督查报告")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range democity.Regions() {
		lines = append(lines, r.Name)
	}
	for _, site := range democity.Sites() {
		lines = append(lines, site.Name)
	}
	for _, u := range democity.Users() {
		lines = append(lines, u.Name)
	}
	lines = append(lines, "整改期限 逾期问题 未督查项目 已销号（复查通过）", "ABC abc 0123 ±5 m")
	for _, l := range lines {
		doc.text(l, 10, 0)
	}
	data, err := doc.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(pdfText(t, data)), "")
	for _, l := range lines {
		if want := strings.Join(strings.Fields(l), ""); !strings.Contains(got, want) {
			t.Errorf("the PDF lacks %q (a glyph missing from the built-in font?)", l)
		}
	}
}
