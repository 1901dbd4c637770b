package render

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
	"github.com/ledongthuc/pdf"
)

// testFont is the CJK font Debian's fonts-droid-fallback installs (the server's default).
const testFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

func readTestFont(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(testFont)
	if err != nil {
		t.Fatalf("%v: install it with apt-get install fonts-droid-fallback", err)
	}
	return b
}

// pdfText extracts the text of a PDF with an independent reader, white space removed.
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
	// The reader breaks lines where the font changes (CJK and Latin runs): compare without spaces.
	return strings.Join(strings.Fields(b.String()), "")
}

func TestPDFTablesWrapAndRepeatTheirHeader(t *testing.T) {
	d, err := NewPDF(readTestFont(t), true, "页脚 footer")
	if err != nil {
		t.Fatal(err)
	}
	d.text("标题 Title 2026", 18, 0)
	var rows [][]string
	for i := range 80 {
		rows = append(rows, []string{strings.Repeat("很长的问题描述", 3) + " row", string(rune('A' + i%26))})
	}
	d.table([]string{"问题", "列"}, []float64{3, 1}, rows, 9)
	if d.pages < 2 {
		t.Fatalf("80 rows fit on %d page", d.pages)
	}
	data, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, data)
	for _, want := range []string{"标题", "Title", "页脚", "第2页"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF text lacks %q", want)
		}
	}
	if n := strings.Count(text, "问题列"); n < d.pages {
		t.Errorf("the table header appears %d times on %d pages", n, d.pages)
	}
}

func TestNewPDFRefusesABadFont(t *testing.T) {
	if _, err := NewPDF([]byte("not a font"), false, ""); err == nil {
		t.Fatal("a font that is not TrueType was accepted")
	}
}

func TestVisitPDF(t *testing.T) {
	visit := models.Visit{ID: uuid.New(), Kind: models.KindProjectVisit, StartedAt: "2026-04-01T02:00:00Z",
		Notes: "备注 notes", Answers: map[string]json.RawMessage{"works_started": []byte("true"), "extra": []byte(`"x"`)}}
	data, _ := json.Marshal(visit)
	photoID := uuid.New()
	photo, _ := json.Marshal(models.PhotoData{Status: models.PhotoPendingUpload,
		Blob: &models.PhotoBlob{SHA256: "ab" + strings.Repeat("0", 62), ContentType: models.ContentJPEG, Size: 10}})
	rep, err := BuildVisitReport(&storage.VisitDetail{Visit: models.Record{ID: visit.ID, Data: data, Status: models.VisitSubmitted},
		Inspector: "王五", Photos: []models.Record{{ID: photoID, Data: photo}}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewPDF(readTestFont(t), false, "footer")
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	VisitPDF(context.Background(), d, rep, func(ctx context.Context, key string) (io.ReadCloser, error) {
		opened++
		return nil, errors.New("gone")
	})
	out, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, out)
	for _, want := range []string{"重点项目现场督查报告", "王五", "备注", "现场照片（1张）", "未能嵌入", "extra"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF text lacks %q", want)
		}
	}
	if opened == 0 {
		t.Error("the photo was never looked for")
	}
}
