package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/fieldsync/fieldsync/server/pdffont"
)

// TestPDFFontChoice: a configured font wins (and a missing one is the 503), else the system's Droid
// Sans Fallback, else the subset built into the binary.
func TestPDFFontChoice(t *testing.T) {
	dir := t.TempDir()
	system := filepath.Join(dir, "system.ttf")
	configured := filepath.Join(dir, "configured.ttf")
	os.WriteFile(system, []byte("system"), 0o644)
	os.WriteFile(configured, []byte("configured"), 0o644)
	for _, c := range []struct {
		configured, system, want string
	}{
		{configured, system, "configured"},
		{"", system, "system"},
		{"", filepath.Join(dir, "absent.ttf"), "builtin"},
	} {
		got, err := loadPDFFont(c.configured, c.system)
		if err != nil {
			t.Fatal(err)
		}
		name := string(got)
		if bytes.Equal(got, pdffont.CJK()) {
			name = "builtin"
		}
		if name != c.want {
			t.Errorf("configured %q, system %q: got the %s font, want %s", c.configured, c.system, name, c.want)
		}
	}
	if _, err := loadPDFFont(filepath.Join(dir, "absent.ttf"), system); err == nil || !strings.Contains(err.Error(), "pdf-font-missing") &&
		!strings.Contains(err.Error(), "PDF font missing") {
		t.Errorf("a configured font that is missing: %v", err)
	}
}

// TestBuiltInPDFFontPrintsTheDemoCity: a PDF typeset with the built-in subset only holds every
// region, site and person name of the demo city and the reports' own labels, as an independent
// PDF reader extracts them.
func TestBuiltInPDFFontPrintsTheDemoCity(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	s.font.data = pdffont.CJK()
	doc, err := s.newPDF(false, "现场督查报告")
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
	data, err := doc.bytes()
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
