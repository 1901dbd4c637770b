package sync

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

const trackLat0, trackLon0 = 41.9, 119.6

// trackXY is the WGS-84 position x metres east and y metres north of the test origin.
func trackXY(x, y float64) (lat, lon float64) {
	ky := 6371008.8 * math.Pi / 180
	return trackLat0 + y/ky, trackLon0 + x/(ky*math.Cos(trackLat0*math.Pi/180))
}

// trackEnv is an engine for the track tests (DefaultRegistry has track.append and the track pull
// type).
func trackEnv(t *testing.T) *env { return newEnv(t) }

// patrolArea stores a site of kind patrol_area in township 211522105 whose boundary is a square
// of side metres with its south-west corner at the origin.
func (e *env) patrolArea(side float64) uuid.UUID {
	e.t.Helper()
	town := e.region("211522105")
	var ring [][2]float64
	for _, c := range [][2]float64{{0, 0}, {side, 0}, {side, side}, {0, side}, {0, 0}} {
		lat, lon := trackXY(c[0], c[1])
		ring = append(ring, [2]float64{lon, lat})
	}
	data, _ := json.Marshal(map[string]any{"kind": "patrol_area", "name": "东升镇 3 号包保片区",
		"boundary": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}}})
	id := uuid.New()
	rec := models.Record{Type: models.TypeSite, ID: id, Kind: models.KindFirePatrol, RegionID: &town.ID, RegionPath: town.Path,
		Version: 1, Data: data, FieldMeta: map[string]models.FieldMeta{}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := e.store.SaveRecords(e.ctx, []models.Record{rec}, true); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// visit creates a visit of kind in township 211522105 (on site when given) and returns its id.
func (p *phone) visit(kind models.Kind, site *uuid.UUID) uuid.UUID {
	p.e.t.Helper()
	id := uuid.New()
	args := visitArgs(id, kind, p.e.region("211522105"))
	if site != nil {
		delete(args, "region_id")
		args["site_id"] = *site
	}
	expectStatus(p.e.t, p.push(mut("visit.create", args)).Results[0], models.StatusApplied)
	return id
}

type fix struct {
	T        string  `json:"t"`
	Lat      float64 `json:"lat"`
	Lon      float64 `json:"lon"`
	Accuracy float64 `json:"accuracy_m"`
	CRS      string  `json:"crs,omitempty"`
}

// walk is a ranger's fixes every 15 s along a straight line in 20 m steps.
func walk(x0, y0, x1, y1 float64, start time.Time) []fix {
	n := int(math.Ceil(math.Hypot(x1-x0, y1-y0) / 20))
	out := make([]fix, 0, n+1)
	for i := 0; i <= n; i++ {
		f := float64(i) / float64(n)
		lat, lon := trackXY(x0+f*(x1-x0), y0+f*(y1-y0))
		out = append(out, fix{T: start.Add(time.Duration(i) * 15 * time.Second).Format(time.RFC3339), Lat: lat, Lon: lon, Accuracy: 6})
	}
	return out
}

func appendArgs(visit uuid.UUID, chunk int, pts []fix) map[string]any {
	return map[string]any{"visit_id": visit, "chunk": chunk, "points": pts}
}

func (e *env) track(id uuid.UUID) (models.Record, models.Track) {
	e.t.Helper()
	rec, err := e.store.GetRecord(e.ctx, models.TypeTrack, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var tr models.Track
	if err := json.Unmarshal(rec.Data, &tr); err != nil {
		e.t.Fatal(err)
	}
	return rec, tr
}

func TestTrackAppendOrderAndDuplicatesDoNotMatter(t *testing.T) {
	e := trackEnv(t)
	ranger := e.phone("ranger.dongsheng")
	site := e.patrolArea(1000)
	inOrder, shuffled, noSite := ranger.visit(models.KindFirePatrol, &site), ranger.visit(models.KindFirePatrol, &site),
		ranger.visit(models.KindFirePatrol, nil)

	// along the south edge of the 1 km square, then a 10-minute rest, then 200 m north
	start := time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)
	pts := walk(0, 0, 1000, 0, start)
	pts = append(pts, walk(1000, 0, 1000, 200, start.Add(time.Duration(len(pts)-1)*15*time.Second+10*time.Minute))...)
	var chunks [][]fix
	for i := 0; i < len(pts); i += 10 {
		chunks = append(chunks, pts[i:min(i+10, len(pts))])
	}

	for i, c := range chunks {
		expectStatus(t, ranger.push(mut("track.append", appendArgs(inOrder, i, c))).Results[0], models.StatusApplied)
	}
	rng := rand.New(rand.NewPCG(4, 2))
	order := rng.Perm(len(chunks))
	order = append(order, order[:3]...) // three chunks arrive twice
	var ms []Mutation
	for _, i := range order {
		c := append([]fix(nil), chunks[i]...)
		c = append(c, c[rng.IntN(len(c))]) // a point twice within the chunk
		rng.Shuffle(len(c), func(a, b int) { c[a], c[b] = c[b], c[a] })
		ms = append(ms, mut("track.append", appendArgs(shuffled, i, c)))
		ranger.push(mut("track.append", appendArgs(noSite, i, c)))
	}
	for _, r := range ranger.push(ms...).Results {
		expectStatus(t, r, models.StatusApplied)
	}

	recA, a := e.track(inOrder)
	recB, b := e.track(shuffled)
	_, c := e.track(noSite)
	if !reflect.DeepEqual(a.Points, b.Points) || !reflect.DeepEqual(a.Chunks, b.Chunks) || !reflect.DeepEqual(a.Stats, b.Stats) {
		t.Fatalf("in order: %+v\nshuffled: %+v", a.Stats, b.Stats)
	}
	if !reflect.DeepEqual(a.Points, c.Points) || c.Stats.Coverage != nil {
		t.Fatalf("without a site: coverage %v, %d points", c.Stats.Coverage, len(c.Points))
	}
	s := a.Stats
	t.Logf("stats %+v coverage %.4f", s, *s.Coverage)
	if s.Points != len(pts) || len(a.Chunks) != len(chunks) || a.VisitID != inOrder.String() {
		t.Fatalf("%d points, chunks %v", s.Points, a.Chunks)
	}
	if math.Abs(s.DistanceM-1200)/1200 > 0.005 {
		t.Errorf("distance %.1f m, want 1200", s.DistanceM)
	}
	if s.LargestGapS != 600 || s.DurationS != float64((len(pts)-2)*15+600) || s.MovingS != float64((len(pts)-2)*15) {
		t.Errorf("times: %+v", s)
	}
	// the 100 m strip along the south edge (0.1), plus what the northward leg up the east edge
	// adds: 100 m (inside the square) × 100 m above the strip, and a quarter disc of 100 m
	// radius beyond its end
	want := 0.1 + (100*100+math.Pi*100*100/4)/1e6
	if s.CoverageBufferM != 100 || s.Coverage == nil || math.Abs(*s.Coverage-want)/want > 0.02 {
		t.Errorf("coverage %v with buffer %v, want %.4f", s.Coverage, s.CoverageBufferM, want)
	}
	if recA.Kind != models.KindFirePatrol || recA.ParentID == nil || *recA.ParentID != inOrder || recA.RegionPath != e.region("211522105").Path {
		t.Errorf("record %+v", recA)
	}

	// a chunk again changes nothing: same version
	res := ranger.push(mut("track.append", appendArgs(shuffled, 2, chunks[2])))
	expectStatus(t, res.Results[0], models.StatusApplied)
	if again, _ := e.track(shuffled); again.Version != recB.Version || res.Results[0].Entity.Version != recB.Version {
		t.Fatalf("version %d after a repeated chunk, want %d", again.Version, recB.Version)
	}

	// the ranger's phone receives the tracks
	ranger.pullAll(500)
	got, ok := ranger.has(models.TypeTrack, inOrder)
	if !ok || got.Version != recA.Version || dataOf(t, got)["stats"].(map[string]any)["points"].(float64) != float64(len(pts)) {
		t.Fatalf("pulled %v %+v", ok, got)
	}
}

func TestTrackAppendCRS(t *testing.T) {
	e := trackEnv(t)
	ranger := e.phone("ranger.dongsheng")
	v := ranger.visit(models.KindFirePatrol, nil)
	pts := walk(0, 0, 200, 0, time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC))
	var gcj []fix
	for _, p := range pts {
		lat, lon := models.FromWGS84(p.Lat, p.Lon, models.CRSGCJ02)
		gcj = append(gcj, fix{T: p.T, Lat: lat, Lon: lon, Accuracy: p.Accuracy, CRS: "gcj02"})
	}
	expectStatus(t, ranger.push(mut("track.append", appendArgs(v, 0, gcj))).Results[0], models.StatusApplied)
	_, tr := e.track(v)
	for i, p := range tr.Points {
		if p.CRS != models.CRSGCJ02 || models.HaversineM(p.Lat, p.Lon, pts[i].Lat, pts[i].Lon) > 0.01 {
			t.Fatalf("point %d: %+v, want WGS-84 %v,%v", i, p, pts[i].Lat, pts[i].Lon)
		}
	}
}

func TestTrackAppendRejections(t *testing.T) {
	e := trackEnv(t)
	ranger := e.phone("ranger.dongsheng")
	inspector := e.phone("inspector")
	supervisor := e.phone("supervisor")
	admin := e.phone("admin")
	patrol := ranger.visit(models.KindFirePatrol, nil)
	planting := ranger.visit(models.KindPlantingCheck, nil)
	othersPatrol := inspector.visit(models.KindFirePatrol, nil)
	deleted := ranger.visit(models.KindFirePatrol, nil)
	expectStatus(t, ranger.push(mut("visit.delete", map[string]any{"id": deleted})).Results[0], models.StatusApplied)
	ok := walk(0, 0, 100, 0, time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC))
	bad := func(mod func(*fix)) []fix {
		c := append([]fix(nil), ok...)
		mod(&c[1])
		return c
	}
	many := make([]fix, models.MaxTrackChunkPoints+1)
	for i := range many {
		lat, lon := trackXY(float64(i), 0)
		many[i] = fix{T: time.Date(2026, 3, 14, 1, 0, i, 0, time.UTC).Format(time.RFC3339), Lat: lat, Lon: lon, Accuracy: 5}
	}

	for _, tc := range []struct {
		name  string
		p     *phone
		args  map[string]any
		code  string
		field string
	}{
		{"not a fire patrol", ranger, appendArgs(planting, 0, ok), "invalid_kind", "visit_id"},
		{"no such visit", ranger, appendArgs(uuid.New(), 0, ok), "not_found", "visit_id"},
		{"deleted visit", ranger, appendArgs(deleted, 0, ok), "not_found", "visit_id"},
		{"someone else's patrol", ranger, appendArgs(othersPatrol, 0, ok), "forbidden", "visit_id"},
		{"admin", admin, appendArgs(patrol, 0, ok), "forbidden_role", ""},
		{"latitude", ranger, appendArgs(patrol, 0, bad(func(f *fix) { f.Lat = 95 })), "out_of_range", "points[1].lat"},
		{"longitude", ranger, appendArgs(patrol, 0, bad(func(f *fix) { f.Lon = 181 })), "out_of_range", "points[1].lon"},
		{"time", ranger, appendArgs(patrol, 0, bad(func(f *fix) { f.T = "14/03/2026" })), "invalid", "points[1].t"},
		{"crs", ranger, appendArgs(patrol, 0, bad(func(f *fix) { f.CRS = "cgcs2000" })), "unknown", "points[1].crs"},
		{"no points", ranger, appendArgs(patrol, 0, nil), "required", "points"},
		{"too many points", ranger, appendArgs(patrol, 0, many), "too_long", "points"},
		{"negative chunk", ranger, appendArgs(patrol, -1, ok), "out_of_range", "chunk"},
		{"no chunk", ranger, map[string]any{"visit_id": patrol, "points": ok}, "required", "chunk"},
		{"no visit", ranger, map[string]any{"chunk": 0, "points": ok}, "required", "visit_id"},
		{"malformed", ranger, map[string]any{"visit_id": patrol, "chunk": "first", "points": ok}, "invalid", "args"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.p.push(mut("track.append", tc.args)).Results[0]
			expectStatus(t, r, models.StatusRejected)
			if r.Error.Code != tc.code || r.Error.Field != tc.field {
				t.Fatalf("error %+v, want %s on %q", r.Error, tc.code, tc.field)
			}
		})
	}
	if recs, _ := e.store.GetRecords(e.ctx, models.TypeTrack, []uuid.UUID{patrol, planting, othersPatrol, deleted}); len(recs) != 0 {
		t.Fatalf("rejected appends stored %d tracks", len(recs))
	}
	// a supervisor may add to a ranger's patrol
	expectStatus(t, supervisor.push(mut("track.append", appendArgs(patrol, 0, ok))).Results[0], models.StatusApplied)
}

func TestTrackAppendTooLong(t *testing.T) {
	e := trackEnv(t)
	ranger := e.phone("ranger.dongsheng")
	v := ranger.visit(models.KindFirePatrol, nil)
	// a stored track at the cap, then one more point
	start := time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)
	pts := make([]models.TrackPoint, models.MaxTrackPoints)
	for i := range pts {
		lat, lon := trackXY(float64(i%1000), float64(i/1000))
		acc := 5.0
		pts[i] = models.TrackPoint{T: start.Add(time.Duration(i) * time.Second), Lat: lat, Lon: lon, AccuracyM: &acc, CRS: models.CRSWGS84}
	}
	stats := models.ComputeTrackStats(pts)
	stats.CoverageBufferM = models.DefaultCoverageBufferM
	data, _ := json.Marshal(models.Track{VisitID: v.String(), Chunks: []int{0}, Points: pts, Stats: stats})
	town := e.region("211522105")
	rec := models.Record{Type: models.TypeTrack, ID: v, Kind: models.KindFirePatrol, RegionID: &town.ID, RegionPath: town.Path,
		ParentID: &v, Version: 1, Data: data, FieldMeta: map[string]models.FieldMeta{}}
	if err := e.store.SaveRecords(e.ctx, []models.Record{rec}, true); err != nil {
		t.Fatal(err)
	}
	lat, lon := trackXY(0, 0)
	more := []fix{{T: start.Add(-time.Minute).Format(time.RFC3339), Lat: lat, Lon: lon, Accuracy: 5}}
	r := ranger.push(mut("track.append", appendArgs(v, 1, more))).Results[0]
	expectStatus(t, r, models.StatusRejected)
	if r.Error.Code != "too_long" {
		t.Fatalf("error %+v", r.Error)
	}
	// points already stored do not count twice
	again := []fix{{T: pts[7].T.Format(time.RFC3339), Lat: pts[7].Lat, Lon: pts[7].Lon, Accuracy: 5}}
	expectStatus(t, ranger.push(mut("track.append", appendArgs(v, 0, again))).Results[0], models.StatusApplied)
	if got, _ := e.track(v); got.Version != 1 {
		t.Fatalf("version %d, want 1", got.Version)
	}
}
