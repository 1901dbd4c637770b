package server

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/google/uuid"
)

// The rules of the four kinds of field work (sync/kinds.go) and the default checklists, over HTTP:
// every push and pull below is also checked against openapi.yaml by the harness.

// kindVisitArgs is a visit.create of kind at its test site (storagetest.SiteIDs) in region, filled
// in with version 1 of the kind's default checklist and its example answers. changes are applied
// on top: a nil value removes the argument or answer; answer keys are written "answers.<key>".
func kindVisitArgs(t testing.TB, id uuid.UUID, kind models.Kind, region uuid.UUID, changes map[string]any) map[string]any {
	t.Helper()
	answers := map[string]any{}
	for k, raw := range models.DefaultChecklistExample(kind) {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		answers[k] = v
	}
	if kind == models.KindAgriInputCheck { // one product line
		answers["products"] = answers["products"].([]any)[:1]
	}
	args := map[string]any{"id": id, "kind": kind, "region_id": region, "site_id": storagetest.SiteIDs[kind],
		"checklist":  map[string]any{"id": models.DefaultChecklistID(kind), "version": 1},
		"started_at": "2026-03-14T09:12:03+08:00",
		"position":   map[string]any{"lat": 41.9, "lon": 121.6, "accuracy_m": 8, "crs": "wgs84"},
		"answers":    answers, "notes": "kind rules"}
	for k, v := range changes {
		m, key := args, k
		if len(k) > 8 && k[:8] == "answers." {
			m, key = answers, k[8:]
		}
		if v == nil {
			delete(m, key)
		} else {
			m[key] = v
		}
	}
	return args
}

// trackFixes are n fixes every 15 s walking north about 22 m a step from the test sites' location.
func trackFixes(n int, start time.Time) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"t": start.Add(time.Duration(i) * 15 * time.Second).Format(time.RFC3339),
			"lat": 41.9 + 0.0002*float64(i), "lon": 121.6, "accuracy_m": 6, "crs": "wgs84"}
	}
	return out
}

func trackAppend(visit uuid.UUID, chunk int, pts []map[string]any) syncMut {
	return syncMut{"track.append", map[string]any{"visit_id": visit, "chunk": chunk, "points": pts}}
}

func TestKindRulesOverHTTP(t *testing.T) {
	h := newHarness(t)
	p := h.syncPhone("inspector", "phone-kinds")
	town, village := h.regionID(codeDongsheng), h.regionID("211522105201")
	dealer := storagetest.SiteIDs[models.KindAgriInputCheck]
	start := time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)
	create := func(kind models.Kind, region uuid.UUID, changes map[string]any) (uuid.UUID, syncMut) {
		id := uuid.New()
		return id, syncMut{"visit.create", kindVisitArgs(t, id, kind, region, changes)}
	}
	submit := func(id uuid.UUID) syncMut { return syncMut{"visit.submit", map[string]any{"id": id}} }
	mut := func(_ uuid.UUID, m syncMut) syncMut { return m }

	patrol, patrolCreate := create(models.KindFirePatrol, town, nil)
	check, checkCreate := create(models.KindAgriInputCheck, town, nil)
	bare, bareCreate := create(models.KindFirePatrol, town, nil)
	empty, emptyCreate := create(models.KindAgriInputCheck, town, map[string]any{"answers.products": nil})

	steps := []struct {
		name        string
		m           syncMut
		code, field string // code "" = applied
	}{
		// valid work of each kind, with the default checklist
		{"project valid", mut(create(models.KindProjectVisit, town, nil)), "", ""},
		{"planting valid at a village plot", mut(create(models.KindPlantingCheck, town, nil)), "", ""},
		{"planting valid in a village without site", mut(create(models.KindPlantingCheck, village, map[string]any{"site_id": nil})), "", ""},
		{"patrol valid", patrolCreate, "", ""},
		{"patrol track", trackAppend(patrol, 0, trackFixes(3, start)), "", ""},
		{"patrol submitted with its track", submit(patrol), "", ""},
		{"input check valid", checkCreate, "", ""},
		{"input check submitted with a product", submit(check), "", ""},

		// kind rules
		{"project at a dealer", mut(create(models.KindProjectVisit, town, map[string]any{"site_id": dealer})), "wrong_site_kind", "site_id"},
		{"project without site", mut(create(models.KindProjectVisit, town, map[string]any{"site_id": nil})), "required", "site_id"},
		{"project at no such site", mut(create(models.KindProjectVisit, town, map[string]any{"site_id": uuid.New()})), "not_found", "site_id"},
		{"project without stage", mut(create(models.KindProjectVisit, town, map[string]any{"answers.stage": nil})), "required", "answers.stage"},
		{"project stage unknown", mut(create(models.KindProjectVisit, town, map[string]any{"answers.stage": "stalled"})), "invalid", "answers.stage"},
		{"planting soil moisture unknown", mut(create(models.KindPlantingCheck, town, map[string]any{"answers.soil_moisture": "wet"})), "invalid", "answers.soil_moisture"},
		{"planting in a township without site", mut(create(models.KindPlantingCheck, town, map[string]any{"site_id": nil})), "wrong_region_level", "region_id"},
		{"patrol at a dealer", mut(create(models.KindFirePatrol, town, map[string]any{"site_id": dealer})), "wrong_site_kind", "site_id"},
		{"patrol draft without track", bareCreate, "", ""},
		{"patrol submitted without track", submit(bare), "track_required", "track"},
		{"input check draft without products", emptyCreate, "", ""},
		{"input check submitted without products", submit(empty), "required", "answers.products"},
		{"input check product category unknown", mut(create(models.KindAgriInputCheck, town, map[string]any{"answers.products": []any{
			map[string]any{"category": "toy", "brand": "x", "label_compliant": true}}})), "invalid", "answers.products[0].category"},

		// the named default checklist version
		{"checklist unknown item", mut(create(models.KindProjectVisit, town, map[string]any{"answers.bogus_item": 1})), "unknown", "answers.bogus_item"},
		{"checklist number over max", mut(create(models.KindProjectVisit, town, map[string]any{"answers.workers_on_site": 100001})), "out_of_range", "answers.workers_on_site"},
		{"checklist whole number", mut(create(models.KindPlantingCheck, town, map[string]any{"answers.wells_working": 10001})), "out_of_range", "answers.wells_working"},
		{"checklist no such version", mut(create(models.KindPlantingCheck, town, map[string]any{
			"checklist": map[string]any{"id": models.DefaultChecklistID(models.KindPlantingCheck), "version": 2}})), "not_found", "checklist.version"},
		{"checklist of another kind", mut(create(models.KindPlantingCheck, town, map[string]any{
			"checklist": map[string]any{"id": models.DefaultChecklistID(models.KindFirePatrol), "version": 1}})), "invalid", "checklist.id"},
	}
	ms := make([]syncMut, len(steps))
	for i, s := range steps {
		ms[i] = s.m
	}
	out, _ := p.push(ms...)
	for i, s := range steps {
		r := out.Results[i]
		if r.ID != int64(i+1) {
			t.Fatalf("%s: result %d has id %d", s.name, i, r.ID)
		}
		if s.code == "" {
			if r.Status != "applied" || r.Entity == nil {
				t.Errorf("%s: %s %+v, want applied", s.name, r.Status, r.Error)
			}
			continue
		}
		if r.Status != "rejected" || r.Error == nil || r.Error.Code != s.code || r.Error.Field != s.field || r.Error.Message == "" {
			t.Errorf("%s: %s %+v, want rejected %s on %q", s.name, r.Status, r.Error, s.code, s.field)
		}
	}
}

func TestTrackOverHTTP(t *testing.T) {
	h := newHarness(t)
	p := h.syncPhone("inspector", "phone-track")
	p.pullAll(5000)
	town := h.regionID(codeDongsheng)
	patrol, project := uuid.New(), uuid.New()
	start := time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)
	pts := trackFixes(5, start)
	out, _ := p.push(
		syncMut{"visit.create", kindVisitArgs(t, patrol, models.KindFirePatrol, town, nil)},
		trackAppend(patrol, 1, pts[3:]), // chunks may arrive out of order
		trackAppend(patrol, 0, pts[:3]),
		trackAppend(patrol, 0, pts[:3]), // a chunk sent twice changes nothing
		syncMut{"visit.create", kindVisitArgs(t, project, models.KindProjectVisit, town, nil)},
		trackAppend(project, 0, pts),
		syncMut{"visit.submit", map[string]any{"id": patrol}},
	)
	expectResult(t, out.Results[0], "applied", 1)
	expectResult(t, out.Results[1], "applied", 1)
	expectResult(t, out.Results[2], "applied", 2)
	expectResult(t, out.Results[3], "applied", 2)
	expectResult(t, out.Results[4], "applied", 1)
	expectRejected(t, out.Results[5], "invalid_kind", "visit_id")
	expectResult(t, out.Results[6], "applied", 2)
	if e := out.Results[1].Entity; e.Type != "track" || e.ID != patrol.String() {
		t.Fatalf("track.append entity %+v", e)
	}

	changes, _ := p.pullAll(500)
	c, ok := findChange(changes, "track", patrol.String())
	if !ok || c.Op != "put" || c.Version != 2 {
		t.Fatalf("pulled track %+v (found %v)", c, ok)
	}
	var tr struct {
		VisitID string           `json:"visit_id"`
		Chunks  []int            `json:"chunks"`
		Points  []map[string]any `json:"points"`
		Stats   struct {
			Points          int      `json:"points"`
			DistanceM       float64  `json:"distance_m"`
			DurationS       float64  `json:"duration_s"`
			Coverage        *float64 `json:"coverage"`
			CoverageBufferM float64  `json:"coverage_buffer_m"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(c.Data, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.VisitID != patrol.String() || len(tr.Chunks) != 2 || tr.Chunks[0] != 0 || tr.Chunks[1] != 1 || len(tr.Points) != 5 {
		t.Fatalf("track %s", c.Data)
	}
	// 4 steps of 0.0002° latitude ≈ 89 m, one minute
	if tr.Stats.Points != 5 || tr.Stats.DistanceM < 80 || tr.Stats.DistanceM > 100 || tr.Stats.DurationS != 60 {
		t.Fatalf("stats %+v", tr.Stats)
	}
	if tr.Stats.Coverage != nil || tr.Stats.CoverageBufferM <= 0 { // the test patrol area has no boundary
		t.Fatalf("coverage %v, buffer %v", tr.Stats.Coverage, tr.Stats.CoverageBufferM)
	}
	if v, ok := findChange(changes, "visit", patrol.String()); !ok || changeData(t, v)["status"] != "submitted" {
		t.Fatalf("patrol visit %+v", v)
	}
	if _, ok := findChange(changes, "track", project.String()); ok {
		t.Fatal("a project visit got a track")
	}
}
