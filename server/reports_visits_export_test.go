package server

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/xuri/excelize/v2"
)

// readCSV parses a CSV export with encoding/csv after checking and removing its UTF-8 BOM.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	bom := []byte("\xEF\xBB\xBF")
	if !bytes.HasPrefix(body, bom) {
		t.Fatalf("CSV does not start with a UTF-8 BOM: %q", body[:min(len(body), 16)])
	}
	rows, err := csv.NewReader(bytes.NewReader(body[len(bom):])).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	if len(rows) == 0 {
		t.Fatal("CSV without a header row")
	}
	return rows
}

func TestReportVisitsCSV(t *testing.T) {
	e := newReportEnv(t)
	query := "kind=project_visit&has_findings=true"
	page := e.visits(t, "supervisor", query+"&limit=1000")
	r := e.h.do("GET", "/v1/reports/visits?format=csv&"+query, e.token("supervisor"), nil)
	expectStatus(t, r, 200)
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="visits-`) || !strings.HasSuffix(cd, `.csv"`) {
		t.Fatalf("Content-Disposition %q", cd)
	}
	rows := readCSV(t, r.Body)
	if rows[0][0] != "走访编号 Visit ID" || rows[0][9] != "走访时间 Started at" || len(rows[0]) != len(render.VisitColumns) {
		t.Fatalf("header %q", rows[0])
	}
	if len(rows)-1 != len(page.Items) || len(page.Items) == 0 {
		t.Fatalf("%d CSV rows, %d in JSON", len(rows)-1, len(page.Items))
	}
	for i, it := range page.Items {
		row := rows[i+1]
		started, _ := time.Parse(time.RFC3339, *it.StartedAt)
		var links []string
		for _, p := range it.Photos {
			links = append(links, p.URL)
		}
		want := []string{it.ID.String(), string(it.Kind), it.Status, it.SiteID.String(), *it.SiteName, *it.County,
			deref(it.Township), it.InspectorID.String(), *it.InspectorName,
			started.In(models.ChinaStandardTime).Format("2006-01-02 15:04:05")}
		if !slices.Equal(row[:10], want) {
			t.Fatalf("row %d:\n got %q\nwant %q", i, row[:10], want)
		}
		if row[11] != strconv.Itoa(it.Findings) || row[12] != strconv.Itoa(it.OverdueFindings) ||
			row[13] != deref(it.Location) || row[14] != strconv.Itoa(it.PhotoCount) || row[15] != strings.Join(links, " ") {
			t.Fatalf("row %d counts or links: %q", i, row[11:])
		}
	}
	// an explicit limit caps an export
	r = e.h.do("GET", "/v1/reports/visits?format=csv&limit=3&"+query, e.token("supervisor"), nil)
	expectStatus(t, r, 200)
	if rows := readCSV(t, r.Body); len(rows) != 4 || rows[3][0] != page.Items[2].ID.String() {
		t.Fatalf("limit=3 gave %d rows", len(rows)-1)
	}
}

// TestReportVisitsExportBatches exports more rows than one batch of the export reads.
func TestReportVisitsExportBatches(t *testing.T) {
	e := newReportEnv(t)
	// copies of the demo visits (new ids, same data) to pass one batch
	if _, err := e.h.store.SQL().ExecContext(e.ctx, `INSERT INTO records (type, id, kind, region_id, region_path, status, version, data)
		SELECT 'visit', gen_random_uuid(), kind, region_id, region_path, status, 1, data
		FROM records, generate_series(1, 8) WHERE type = 'visit'`); err != nil {
		t.Fatal(err)
	}
	var want int
	if err := e.h.store.SQL().QueryRowContext(e.ctx, `SELECT count(*) FROM records WHERE type = 'visit'`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	r := e.h.do("GET", "/v1/reports/visits?format=csv", e.token("supervisor"), nil)
	expectStatus(t, r, 200)
	rows := readCSV(t, r.Body)
	if len(rows)-1 != want || want <= 2000 {
		t.Fatalf("CSV has %d rows, want %d (more than one batch)", len(rows)-1, want)
	}
	ids := map[string]bool{}
	for _, row := range rows[1:] {
		ids[row[0]] = true
	}
	if len(ids) != want {
		t.Fatalf("%d distinct visits in %d rows", len(ids), want)
	}
	for _, limit := range []int{2000, 2001, 2500} {
		r = e.h.do("GET", "/v1/reports/visits?format=csv&limit="+strconv.Itoa(limit), e.token("supervisor"), nil)
		if got := readCSV(t, r.Body); len(got)-1 != limit || !slices.EqualFunc(got[1:], rows[1:limit+1], slices.Equal) {
			t.Fatalf("limit %d: %d rows, or not the first ones", limit, len(got)-1)
		}
	}
}

func TestReportVisitsXLSX(t *testing.T) {
	e := newReportEnv(t)
	query := "region=211521"
	page := e.visits(t, "supervisor", query+"&limit=1000")
	r := e.h.do("GET", "/v1/reports/visits?format=xlsx&"+query, e.token("supervisor"), nil)
	expectStatus(t, r, 200)
	if ct := r.Header.Get("Content-Type"); ct != mimeXLSX {
		t.Fatalf("Content-Type %q", ct)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); !slices.Equal(sheets, []string{"Visits"}) {
		t.Fatalf("sheets %q", sheets)
	}
	rows, err := f.GetRows("Visits", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != len(page.Items) || rows[0][9] != "走访时间 Started at" || rows[0][11] != "问题数 Findings" {
		t.Fatalf("%d rows (want %d), header %q", len(rows)-1, len(page.Items), rows[0])
	}
	for i, it := range page.Items {
		row := i + 2
		cell := func(col int) string {
			name, _ := excelize.CoordinatesToCellName(col+1, row)
			return name
		}
		if v, _ := f.GetCellValue("Visits", cell(0)); v != it.ID.String() {
			t.Fatalf("row %d id %q", row, v)
		}
		// started_at is a date cell: a number with a date format, China Standard Time
		if typ, _ := f.GetCellType("Visits", cell(9)); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Fatalf("started_at cell type %v", typ)
		}
		raw, _ := f.GetCellValue("Visits", cell(9), excelize.Options{RawCellValue: true})
		serial, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			t.Fatalf("started_at %q is not a number", raw)
		}
		got, err := excelize.ExcelDateToTime(serial, false)
		if err != nil {
			t.Fatal(err)
		}
		started, _ := time.Parse(time.RFC3339, *it.StartedAt)
		if wall := started.In(models.ChinaStandardTime); got.Sub(time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(),
			wall.Minute(), wall.Second(), 0, time.UTC)).Abs() > time.Second {
			t.Fatalf("started_at %v, want %v CST", got, wall)
		}
		styleID, _ := f.GetCellStyle("Visits", cell(9))
		style, _ := f.GetStyle(styleID)
		if style.CustomNumFmt == nil || !strings.Contains(*style.CustomNumFmt, "yyyy") {
			t.Fatalf("started_at is not formatted as a date: %+v", style)
		}
		for col, want := range map[int]int{11: it.Findings, 12: it.OverdueFindings, 14: it.PhotoCount} {
			if typ, _ := f.GetCellType("Visits", cell(col)); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
				t.Fatalf("column %d is not a number cell: %v", col, typ)
			}
			if v, _ := f.GetCellValue("Visits", cell(col)); v != strconv.Itoa(want) {
				t.Fatalf("row %d column %d = %q, want %d", row, col, v, want)
			}
		}
		if v, _ := f.GetCellValue("Visits", cell(4)); v != *it.SiteName {
			t.Fatalf("site %q, want %q", v, *it.SiteName)
		}
	}
}

func TestReportVisitsGeoJSON(t *testing.T) {
	e := newReportEnv(t)
	o := e.oracle
	page := e.visits(t, "supervisor", "limit=1000")
	r := e.h.do("GET", "/v1/reports/visits?format=geojson", e.token("supervisor"), nil)
	expectStatus(t, r, 200)
	if ct := r.Header.Get("Content-Type"); ct != mimeGeoJSON {
		t.Fatalf("Content-Type %q", ct)
	}
	if !bytes.HasPrefix(r.Body, []byte(`{"type":"FeatureCollection"`)) {
		t.Fatalf("not a FeatureCollection: %.60s", r.Body)
	}
	fc, err := geojson.UnmarshalFeatureCollection(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != len(page.Items) {
		t.Fatalf("%d features, %d visits", len(fc.Features), len(page.Items))
	}
	tracks := loadTracks(t, e)
	lines := 0
	for i, f := range fc.Features {
		id, _ := f.ID.(string)
		if id != page.Items[i].ID.String() || f.Properties["id"] != id {
			t.Fatalf("feature %d id %v, want %s", i, f.ID, page.Items[i].ID)
		}
		ov := o.byID[uuid.MustParse(id)]
		switch g := f.Geometry.(type) {
		case orb.LineString:
			lines++
			track := tracks[ov.rec.ID]
			if ov.v.Kind != models.KindFirePatrol || len(g) != len(track) || f.Properties["geometry_source"] != "track" {
				t.Fatalf("feature %s: a line of %d points for a %s with %d fixes", id, len(g), ov.v.Kind, len(track))
			}
			for j, p := range g { // RFC 7946: [lon, lat]
				if p[0] != track[j].Lon || p[1] != track[j].Lat {
					t.Fatalf("feature %s point %d = %v, want [lon %v, lat %v]", id, j, p, track[j].Lon, track[j].Lat)
				}
			}
		case orb.Point:
			if ov.v.Kind == models.KindFirePatrol || g[0] != ov.v.Position.Lon || g[1] != ov.v.Position.Lat {
				t.Fatalf("feature %s: point %v for a %s at lat %v lon %v", id, g, ov.v.Kind, ov.v.Position.Lat, ov.v.Position.Lon)
			}
		default:
			t.Fatalf("feature %s: geometry %T", id, f.Geometry)
		}
		// every coordinate lies in the city (lat ≈ 41–43, lon ≈ 119–124): lon first
		b := f.Geometry.Bound()
		if b.Min[0] < 115 || b.Max[0] > 128 || b.Min[1] < 38 || b.Max[1] > 45 {
			t.Fatalf("feature %s: bound %v is not [lon, lat] in the city", id, b)
		}
	}
	if lines != 60 {
		t.Fatalf("%d track lines, want the 60 patrols", lines)
	}
}

// loadTracks reads every patrol track's fixes straight from the records.
func loadTracks(t *testing.T, e *reportEnv) map[uuid.UUID][]models.TrackPoint {
	t.Helper()
	recs, err := e.h.store.ScanRecords(e.ctx, models.TypeTrack, models.Scope{}, uuid.Nil, 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uuid.UUID][]models.TrackPoint{}
	for _, r := range recs {
		var tr models.Track
		if err := json.Unmarshal(r.Data, &tr); err != nil {
			t.Fatal(err)
		}
		out[r.ID] = tr.Points
	}
	return out
}

// TestReportVisitsExportClosedEarly stops an export after its first batch, as when the client
// goes away: Close must end the goroutines reading ahead and the query.
func TestReportVisitsExportClosedEarly(t *testing.T) {
	e := newReportEnv(t)
	if _, err := e.h.store.SQL().ExecContext(e.ctx, `INSERT INTO records (type, id, kind, region_id, region_path, status, version, data)
		SELECT 'visit', gen_random_uuid(), kind, region_id, region_path, status, 1, data
		FROM records, generate_series(1, 30) WHERE type = 'visit'`); err != nil {
		t.Fatal(err)
	}
	exp, err := e.h.store.ExportVisits(e.ctx, storage.VisitReportFilter{Today: todayCST(time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := exp.Next(e.ctx)
	if err != nil || len(batch) != storage.ExportVisitBatch {
		t.Fatalf("first batch: %d rows, %v", len(batch), err)
	}
	done := make(chan error, 1)
	go func() { done <- exp.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Close did not return")
	}
	// Close ends the connection's query; PostgreSQL notices a closed client asynchronously (when it
	// next writes to it), so the backend gets a few seconds to stop, then must be idle.
	var busy int
	for range 100 {
		if err := e.h.store.SQL().QueryRowContext(e.ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'active' AND query LIKE '%fieldsync_time%' AND pid <> pg_backend_pid()`).
			Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if busy == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%d export queries still running 10 s after Close", busy)
}
