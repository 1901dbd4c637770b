package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
