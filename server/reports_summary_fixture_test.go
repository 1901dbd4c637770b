package server

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/google/uuid"
)

// summaryFixture is a small, hand-countable month of field work pushed through the sync engine:
// in Dongsheng town (东升镇, 康北县) and one project in Jian'an town (建安镇, 建安县). Visit days are
// relative to today (China Standard Time), the period is the 40 days ending today.
type summaryFixture struct {
	h                  *harness
	today              time.Time
	from, to           string
	kangbei, jianan    uuid.UUID // counties
	dongsheng, jiananT uuid.UUID // townships
	p1, p2, p3         uuid.UUID // projects: P1 visited, P2 never, P3 in Jian'an
	a1, a2, a3         uuid.UUID // patrol areas: A1 no boundary, A2 with a boundary, A3 never patrolled
	visits             map[string]uuid.UUID
	trackDistanceM     float64 // of the three patrols in the period
	coverages          []float64
}

const fixtureBoundary = `{"type":"Polygon","coordinates":[[[121.595,41.899],[121.605,41.899],[121.605,41.915],[121.595,41.915],[121.595,41.899]]]}`

func (f *summaryFixture) day(n int) time.Time { return f.today.AddDate(0, 0, -n).Add(9 * time.Hour) }

func (f *summaryFixture) date(n int) string { return f.today.AddDate(0, 0, n).Format(time.DateOnly) }

func newSummaryFixture(t *testing.T) *summaryFixture {
	h := newHarness(t)
	f := &summaryFixture{h: h, today: summaryToday(time.Now()), visits: map[string]uuid.UUID{}}
	f.from, f.to = f.date(-40), f.date(0)
	f.kangbei, f.jianan = h.regionID("211522"), h.regionID("211523")
	f.dongsheng, f.jiananT = h.regionID(codeDongsheng), h.regionID("211523101")
	insp := h.syncPhone("inspector", "phone-summary") // stores the test sites: P1, plot, A1, D1
	f.p1, f.a1 = storagetest.SiteIDs[models.KindProjectVisit], storagetest.SiteIDs[models.KindFirePatrol]
	admin := h.login("admin", "admin-laptop")
	site := func(body map[string]any) uuid.UUID {
		r := h.do("POST", "/v1/admin/sites", admin, body)
		expectStatus(t, r, 201)
		return uuid.MustParse(r.json(t)["id"].(string))
	}
	project := func(name, region string) map[string]any {
		return map[string]any{"kind": "project", "name": name, "region_code": region,
			"location": map[string]any{"lat": 41.9, "lon": 121.6}, "investment_wan": 1000, "stage": "approved",
			"responsible_leader": "王明", "lead_unit": "发改委"}
	}
	area := func(name string, boundary string) map[string]any {
		return map[string]any{"kind": "patrol_area", "name": name, "region_code": codeDongsheng,
			"boundary": json.RawMessage(boundary), "responsible_person": "李强"}
	}
	f.p2 = site(project("东升镇冷链物流园", codeDongsheng))
	f.p3 = site(project("建安镇新材料产业园", "211523101"))
	f.a2 = site(area("东升镇 2 号包保片区", fixtureBoundary))
	f.a3 = site(area("东升镇 3 号包保片区", `{"type":"Polygon","coordinates":[[[121.7,42.0],[121.71,42.0],[121.71,42.01],[121.7,42.01],[121.7,42.0]]]}`))

	var muts []syncMut
	visit := func(name string, kind models.Kind, region, siteID uuid.UUID, daysAgo int, answers map[string]any) uuid.UUID {
		id := uuid.New()
		changes := map[string]any{"site_id": siteID, "started_at": f.day(daysAgo).Format(time.RFC3339)}
		for k, v := range answers {
			changes["answers."+k] = v
		}
		muts = append(muts, syncMut{"visit.create", kindVisitArgs(t, id, kind, region, changes)})
		f.visits[name] = id
		return id
	}
	patrol := func(name string, areaID uuid.UUID, daysAgo int) {
		id := visit(name, models.KindFirePatrol, f.dongsheng, areaID, daysAgo, nil)
		muts = append(muts, trackAppend(id, 0, trackFixes(40, f.day(daysAgo))))
	}
	submit := func(name string) { muts = append(muts, syncMut{"visit.submit", map[string]any{"id": f.visits[name]}}) }

	visit("V1", models.KindProjectVisit, f.dongsheng, f.p1, 35, map[string]any{"works_status": "started", "blockers": []string{"land", "power"}})
	visit("V2", models.KindProjectVisit, f.dongsheng, f.p1, 10, map[string]any{"works_status": "resumed", "blockers": []string{"power"}})
	patrol("V3", f.a2, 20)
	patrol("V4", f.a2, 20)
	patrol("V5", f.a1, 15)
	visit("V6", models.KindAgriInputCheck, f.dongsheng, storagetest.SiteIDs[models.KindAgriInputCheck], 12,
		map[string]any{"samples_taken": 2, "outcome": "rectification_notice"})
	visit("V7", models.KindAgriInputCheck, f.dongsheng, storagetest.SiteIDs[models.KindAgriInputCheck], 11,
		map[string]any{"samples_taken": 3, "outcome": "case_filed"})
	visit("V8", models.KindPlantingCheck, h.regionID("211522105201"), storagetest.SiteIDs[models.KindPlantingCheck], 5, nil)
	visit("V9", models.KindProjectVisit, f.dongsheng, f.p2, 3, nil) // a draft: never submitted
	visit("V10", models.KindProjectVisit, f.dongsheng, f.p1, 50, map[string]any{"blockers": []string{"water"}})
	visit("V11", models.KindProjectVisit, f.jiananT, f.p3, 8, map[string]any{"works_status": "not_started", "blockers": []string{"funding"}})
	patrol("V12", f.a3, 45) // before the period
	for _, n := range []string{"V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "V10", "V11", "V12"} {
		submit(n)
	}
	// Findings, recorded today: on V2 (project) F1 major overdue, F3 serious closed on time, F4
	// serious closed late; on V3 (patrol) F2 ordinary, not yet due.
	finding := func(id, visitID uuid.UUID, severity, deadline string) {
		muts = append(muts, syncMut{"finding.create", map[string]any{"id": id, "visit_id": visitID, "category": "安全",
			"severity": severity, "description": "现场问题", "responsible_unit": "东升镇政府", "deadline": deadline}})
	}
	fs := [4]uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	finding(fs[0], f.visits["V2"], "major", f.date(-5))
	finding(fs[1], f.visits["V3"], "ordinary", f.date(10))
	finding(fs[2], f.visits["V2"], "serious", f.date(5))
	finding(fs[3], f.visits["V2"], "serious", f.date(-2))
	out, _ := insp.push(muts...)
	for _, r := range out.Results {
		if r.Status != "applied" {
			t.Fatalf("fixture mutation %d: %s %+v", r.ID, r.Status, r.Error)
		}
	}
	sup := h.syncPhone("supervisor", "phone-supervisor")
	var steps []syncMut
	for _, id := range []uuid.UUID{fs[2], fs[3]} {
		steps = append(steps, syncMut{"finding.rectify", map[string]any{"id": id, "notes": "已整改"}},
			syncMut{"finding.recheck", map[string]any{"id": id, "passed": true}})
	}
	out, _ = sup.push(steps...)
	for _, r := range out.Results {
		if r.Status != "applied" {
			t.Fatalf("finding step %d: %s %+v", r.ID, r.Status, r.Error)
		}
	}
	// Distances and coverages as the engine measured them (models.ComputeTrackStats, models.Coverage).
	for _, n := range []string{"V3", "V4", "V5"} {
		var stats models.TrackStats
		var raw []byte
		if err := h.store.SQL().QueryRow(`SELECT data->'stats' FROM records WHERE type = 'track' AND id = $1`, f.visits[n]).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &stats); err != nil {
			t.Fatal(err)
		}
		f.trackDistanceM += stats.DistanceM
		if stats.Coverage != nil {
			f.coverages = append(f.coverages, *stats.Coverage)
		}
	}
	if len(f.coverages) != 2 || f.coverages[0] <= 0 {
		t.Fatalf("coverages %v: want two (the patrols of A2)", f.coverages)
	}
	return f
}

// summaryOf fetches a summary as a supervisor and decodes it.
func (f *summaryFixture) summaryOf(t *testing.T, token, query string) render.Summary {
	t.Helper()
	r := f.h.do("GET", "/v1/reports/summary?"+query, token, nil)
	expectStatus(t, r, 200)
	var out render.Summary
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func rowFor(t *testing.T, s render.Summary, id uuid.UUID) *summaryRowJSON {
	t.Helper()
	for _, r := range s.Rows {
		if r.Region.ID == id {
			b, _ := json.Marshal(r)
			var out summaryRowJSON
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatal(err)
			}
			return &out
		}
	}
	t.Fatalf("no row for region %s", id)
	return nil
}

// summaryRowJSON is a row as a client reads it (pointers decoded to values for comparison).
type summaryRowJSON struct {
	Kinds    map[string]kindJSON `json:"kinds"`
	AllKinds kindJSON            `json:"all_kinds"`
	Projects struct {
		Projects      int            `json:"projects"`
		Visited30d    int            `json:"visited_30d"`
		Visited30dPct *float64       `json:"visited_30d_pct"`
		Works         int            `json:"works_started_or_resumed"`
		Blockers      map[string]int `json:"blockers"`
	} `json:"projects"`
	Patrols struct {
		Patrols      int      `json:"patrols"`
		PatrolDays   int      `json:"patrol_days"`
		DistanceKm   float64  `json:"distance_km"`
		MeanCoverage *float64 `json:"mean_coverage_pct"`
		Areas        int      `json:"areas"`
		Patrolled    int      `json:"areas_patrolled"`
		NotPatrolled int      `json:"areas_not_patrolled"`
		List         []struct {
			ID   uuid.UUID `json:"id"`
			Name string    `json:"name"`
		} `json:"areas_not_patrolled_list"`
	} `json:"patrols"`
	Dealers struct {
		Checks, Samples int
		Dealers         int `json:"dealers_checked"`
		Notices         int `json:"rectification_notices"`
		Held            int `json:"evidence_held"`
		Cases           int `json:"cases_filed"`
	} `json:"dealers"`
}

type kindJSON struct {
	Visits   int `json:"visits"`
	Findings struct {
		Ordinary, Serious, Major, Total int
	} `json:"findings"`
	OnTime int      `json:"rectified_on_time"`
	Due    int      `json:"rectification_due"`
	Pct    *float64 `json:"rectified_on_time_pct"`
	Over   int      `json:"overdue"`
}

func eqPtr(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }

func TestSummaryMatchesHandCountedFixture(t *testing.T) {
	f := newSummaryFixture(t)
	sup := f.h.login("supervisor", "laptop-sup")
	s := f.summaryOf(t, sup, "region="+f.kangbei.String()+"&by=township&from="+f.from+"&to="+f.to)
	if s.By != models.LevelTownship || s.From != f.from || s.To != f.to || s.Region.ID != f.kangbei || len(s.Rows) < 20 {
		t.Fatalf("header: by %s from %s to %s region %+v, %d rows", s.By, s.From, s.To, s.Region, len(s.Rows))
	}
	d := rowFor(t, s, f.dongsheng)
	want := map[string][2]int{"project_visit": {2, 3}, "fire_patrol": {3, 1}, "agri_input_check": {2, 0}, "planting_check": {1, 0}}
	for k, w := range want {
		if d.Kinds[k].Visits != w[0] || d.Kinds[k].Findings.Total != w[1] {
			t.Fatalf("%s: %+v, want %d visits, %d findings", k, d.Kinds[k], w[0], w[1])
		}
	}
	pv := d.Kinds["project_visit"]
	if pv.Findings.Major != 1 || pv.Findings.Serious != 2 || pv.Findings.Ordinary != 0 || pv.OnTime != 1 || pv.Due != 3 ||
		!eqPtr(pv.Pct, 33.3) || pv.Over != 1 {
		t.Fatalf("project findings %+v", pv)
	}
	fp := d.Kinds["fire_patrol"]
	if fp.Findings.Ordinary != 1 || fp.Due != 0 || fp.Pct != nil || fp.Over != 0 {
		t.Fatalf("patrol findings %+v", fp)
	}
	if a := d.AllKinds; a.Visits != 8 || a.Findings.Total != 4 || a.OnTime != 1 || a.Due != 3 || a.Over != 1 {
		t.Fatalf("all kinds %+v", a)
	}
	p := d.Projects
	if p.Projects != 2 || p.Visited30d != 1 || !eqPtr(p.Visited30dPct, 50) || p.Works != 1 ||
		p.Blockers["land"] != 1 || p.Blockers["power"] != 1 || p.Blockers["water"] != 0 || p.Blockers["funding"] != 0 {
		t.Fatalf("projects %+v", p)
	}
	pt := d.Patrols
	meanCov := math.Round((f.coverages[0]+f.coverages[1])/2*1000) / 10
	if pt.Patrols != 3 || pt.PatrolDays != 2 || math.Abs(pt.DistanceKm-math.Round(f.trackDistanceM/100)/10) > 1e-9 ||
		!eqPtr(pt.MeanCoverage, meanCov) || pt.Areas != 3 || pt.Patrolled != 2 || pt.NotPatrolled != 1 ||
		len(pt.List) != 1 || pt.List[0].ID != f.a3 || pt.List[0].Name != "东升镇 3 号包保片区" {
		t.Fatalf("patrols %+v (distance %.1f m, coverages %v)", pt, f.trackDistanceM, f.coverages)
	}
	if dl := d.Dealers; dl.Checks != 2 || dl.Dealers != 1 || dl.Samples != 5 || dl.Notices != 1 || dl.Cases != 1 || dl.Held != 0 {
		t.Fatalf("dealers %+v", dl)
	}
	// The county's total is Dongsheng's (nothing else happened in 康北县); other townships are zeros.
	tb, _ := json.Marshal(s.Total)
	db, _ := json.Marshal(rowFor(t, s, f.dongsheng))
	var tot summaryRowJSON
	json.Unmarshal(tb, &tot)
	tb, _ = json.Marshal(tot)
	if string(tb) != string(db) {
		t.Fatalf("total %s\n!= Dongsheng %s", tb, db)
	}
	for _, r := range s.Rows {
		if r.Region.ID != f.dongsheng && (r.AllKinds.Visits != 0 || r.Projects.Projects != 0) {
			t.Fatalf("row %s has figures: %+v", r.Region.Name, r.AllKinds)
		}
	}

	// By county for the city: Jian'an has P3 (visited 8 days ago, not started, funding).
	c := f.summaryOf(t, sup, "from="+f.from+"&to="+f.to)
	if c.By != models.LevelCounty || c.Total.AllKinds.Visits != 9 || c.Total.Projects.Projects != 3 || c.Total.Projects.Visited30d != 2 {
		t.Fatalf("city: by %s, total %+v %+v", c.By, c.Total.AllKinds, c.Total.Projects)
	}
	j := rowFor(t, c, f.jianan)
	if j.AllKinds.Visits != 1 || j.Projects.Projects != 1 || j.Projects.Visited30d != 1 || j.Projects.Works != 0 ||
		j.Projects.Blockers["funding"] != 1 || j.Patrols.Areas != 0 || j.Patrols.MeanCoverage != nil {
		t.Fatalf("Jian'an %+v", j)
	}
	// The 30 days end at `to`: to 40 days ago they hold V10 (50 days ago) but not V1 (35).
	early := f.summaryOf(t, sup, "region=211522&by=township&from="+f.date(-60)+"&to="+f.date(-40))
	if e := rowFor(t, early, f.dongsheng); e.Projects.Visited30d != 1 || e.Kinds["project_visit"].Visits != 1 ||
		e.Projects.Blockers["water"] != 1 || e.Patrols.Patrols != 1 || e.Patrols.PatrolDays != 1 || e.Patrols.Patrolled != 1 {
		t.Fatalf("earlier period: %+v %+v", e.Projects, e.Patrols)
	}
	later := f.summaryOf(t, sup, "region=211522&by=township&from="+f.date(-60)+"&to="+f.date(-15))
	if e := rowFor(t, later, f.dongsheng); e.Projects.Visited30d != 1 || e.Kinds["project_visit"].Visits != 2 ||
		e.Projects.Blockers["water"] != 1 || e.Patrols.Patrols != 4 || e.Patrols.PatrolDays != 3 {
		t.Fatalf("earlier period: %+v %+v", e.Projects, e.Patrols)
	}
}
