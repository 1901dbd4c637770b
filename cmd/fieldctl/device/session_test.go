package device_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/google/uuid"
)

// gpxTrack is a GPX file of n fixes 5 s apart walking north-east from lat, lon.
func gpxTrack(n int, lat, lon float64, start time.Time) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>`)
	for i := range n {
		fmt.Fprintf(&b, `<trkpt lat="%.6f" lon="%.6f"><time>%s</time><hdop>1.2</hdop></trkpt>`,
			lat+float64(i)*1e-5, lon+float64(i)*1e-5, start.Add(time.Duration(i)*5*time.Second).UTC().Format(time.RFC3339))
	}
	b.WriteString(`</trkseg></trk></gpx>`)
	return b.String()
}

// firstSite is the first pulled site of a site kind.
func firstSite(t *testing.T, d *device.Device, kind string) string {
	t.Helper()
	s, err := d.Sites(context.Background(), device.Filter{Kind: kind, Limit: 1})
	if err != nil || len(s) == 0 {
		t.Fatalf("no %s site pulled: %v", kind, err)
	}
	return s[0].ID
}

// A scripted session: log in, go offline, record visits of all four kinds with
// findings, photos and a patrol track, bring the server back, sync, and find everything on the
// server exactly once.
func TestOfflineSessionSyncsEverythingOnce(t *testing.T) {
	srv := newTestServer(t)
	ctx := context.Background()
	d, _ := bootstrapped(t, srv, "inspector")
	srv.Stop() // offline from here on

	pos := &device.Position{Lat: 41.9, Lon: 121.6, CRS: "wgs84", AccuracyM: new(8.0)}
	visits := map[string]device.VisitInput{
		"project_visit": {SiteID: firstSite(t, d, "project"), Answers: map[string]any{
			"stage": "under_construction", "workers_on_site": 120, "progress_pct": 45.5}},
		"planting_check": {SiteID: firstSite(t, d, "village_plot"), Answers: map[string]any{
			"soil_moisture": "slightly_dry", "planned_area_mu": 300, "sown_area_mu": 120}},
		"fire_patrol": {SiteID: firstSite(t, d, "patrol_area"), Answers: map[string]any{}},
		"agri_input_check": {SiteID: firstSite(t, d, "dealer"), Answers: map[string]any{
			"products": []any{map[string]any{"category": "seed", "name": "玉米种子"}}}},
	}
	ids := map[string]uuid.UUID{}
	photos := 0
	dir := t.TempDir()
	for kind, in := range visits {
		in.Kind, in.Position, in.Notes = kind, pos, "offline "+kind
		id, err := d.NewVisit(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ids[kind] = id
		for i := range 2 {
			if _, err := d.AddPhoto(ctx, device.PhotoInput{VisitID: id, Position: pos,
				Path: writeJPEG(t, dir, fmt.Sprintf("%s-%d.jpg", kind, i))}); err != nil {
				t.Fatal(err)
			}
			photos++
		}
	}
	finding, err := d.NewFinding(ctx, device.FindingInput{VisitID: ids["project_visit"], Category: "safety",
		Severity: "serious", Description: "塔吊无检验合格证", ResponsibleUnit: "建设单位", Deadline: "2026-12-31", Position: pos})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := d.ImportTrack(ctx, ids["fire_patrol"], strings.NewReader(gpxTrack(2500, 41.9, 121.6, time.Now().Add(-4*time.Hour))))
	if err != nil || imp.Points != 2500 || imp.Chunks != 2 {
		t.Fatalf("track import: %+v %v", imp, err)
	}
	for _, id := range ids {
		if err := d.SubmitVisit(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	queued, _ := d.Queue(ctx)
	if _, err := d.Sync(ctx, device.SyncOptions{Retry: fastRetry(nil)}); err == nil {
		t.Fatal("a sync with the server down succeeded")
	}
	if again, _ := d.Queue(ctx); len(again) != len(queued) {
		t.Fatalf("the failed sync changed the queue: %d → %d", len(queued), len(again))
	}

	srv.Start() // back online
	rep := syncOK(t, d, device.SyncOptions{ChunkSize: 64 << 10})
	if rep.Queue != 0 || rep.Pushed != len(queued) {
		t.Fatalf("sync: %+v (queued %d)", rep, len(queued))
	}
	if rep.PhotosUploaded != photos || rep.PhotosFailed != 0 {
		t.Fatalf("uploads: %+v", rep)
	}
	rep = syncOK(t, d, device.SyncOptions{}) // a second sync changes nothing
	if rep.Pushed != 0 || rep.PhotosUploaded != 0 {
		t.Fatalf("second sync pushed again: %+v", rep)
	}

	// The server holds each visit, the finding and the track once; every mutation has one result.
	last, byStatus := serverMutations(t, srv, d.ClientID())
	if last != int64(len(queued)) || byStatus["applied"]+byStatus["rejected"] != len(queued) {
		t.Fatalf("server: last %d, results %v, queued %d", last, byStatus, len(queued))
	}
	var n int
	srv.store.SQL().QueryRow(`SELECT count(*) FROM sync_mutations WHERE client_id = $1 AND result->>'status' = 'rejected'
		`, d.ClientID()).Scan(&n)
	if n != 0 {
		rj, _ := d.Rejections(ctx)
		t.Fatalf("%d field-work mutations rejected: %+v", n, rj)
	}
	for kind, id := range ids {
		rec, err := srv.store.GetRecord(ctx, "visit", id)
		if err != nil || rec.Status != "submitted" || string(rec.Kind) != kind {
			t.Fatalf("%s visit on the server: %+v %v", kind, rec, err)
		}
	}
	if rec, err := srv.store.GetRecord(ctx, "finding", finding); err != nil || rec.Version != 1 {
		t.Fatalf("finding: %+v %v", rec, err)
	}
	track, err := srv.store.GetRecord(ctx, "track", ids["fire_patrol"])
	var td struct {
		Points []json.RawMessage `json:"points"`
		Chunks []int             `json:"chunks"`
	}
	if err != nil || json.Unmarshal(track.Data, &td) != nil || len(td.Points) != 2500 || len(td.Chunks) != 2 {
		t.Fatalf("track: %d points, chunks %v, %v", len(td.Points), td.Chunks, err)
	}
	srv.store.SQL().QueryRow(`SELECT count(*) FROM records WHERE type = 'visit' AND created_by = (SELECT id FROM users WHERE username = 'inspector')
		AND data->>'notes' LIKE 'offline %'`).Scan(&n)
	if n != 4 {
		t.Fatalf("%d offline visits on the server, want 4", n)
	}
	// The phone now holds the server's copies.
	for _, id := range ids {
		if r, _ := d.Record(ctx, "visit", id.String()); r == nil || r.Local || r.Version < 2 {
			t.Fatalf("visit %s on the phone: %+v", id, r)
		}
	}
	if st, _ := d.Status(ctx); st.PendingPhotos != 0 {
		t.Fatalf("photos waiting: %d", st.PendingPhotos)
	}
	srv.store.SQL().QueryRow(`SELECT count(*) FROM records WHERE type = 'photo' AND data->>'status' = 'ready'
		AND parent_id = ANY($1)`, visitIDs(ids)).Scan(&n)
	if n != photos {
		t.Fatalf("%d ready photos on the server, want %d", n, photos)
	}
}

func visitIDs(ids map[string]uuid.UUID) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, id.String())
	}
	return out
}
