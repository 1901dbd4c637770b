package models

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

const testLat0, testLon0 = 41.9, 119.6

// offset returns the WGS-84 point x metres east and y metres north of the test origin.
func offset(x, y float64) orb.Point {
	ky := 6371008.8 * math.Pi / 180
	return orb.Point{testLon0 + x/(ky*math.Cos(testLat0*math.Pi/180)), testLat0 + y/ky}
}

func square(side float64) orb.MultiPolygon {
	return orb.MultiPolygon{{orb.Ring{offset(0, 0), offset(side, 0), offset(side, side), offset(0, side), offset(0, 0)}}}
}

func line(x0, y0, x1, y1, step float64) []orb.Point {
	n := int(math.Ceil(math.Hypot(x1-x0, y1-y0) / step))
	out := make([]orb.Point, 0, n+1)
	for i := 0; i <= n; i++ {
		f := float64(i) / float64(n)
		out = append(out, offset(x0+f*(x1-x0), y0+f*(y1-y0)))
	}
	return out
}

func TestCoverageSquare(t *testing.T) {
	area := square(1000)
	for _, tc := range []struct {
		name  string
		track []orb.Point
		want  float64
	}{
		// a 100 m strip along one side of a 1 km square: 100 × 1000 / 1000² = 0.1
		{"along the south edge", line(0, 0, 1000, 0, 20), 0.1},
		{"along the west edge, sparse fixes", line(0, 0, 0, 1000, 250), 0.1},
		{"along the edge, overshooting both corners", line(-300, 0, 1300, 0, 20), 0.1},
		// 200 m wide through the middle
		{"through the middle", line(0, 500, 1000, 500, 20), 0.2},
		// corner to corner: all but two right triangles with legs 1000 − 100·√2
		{"the diagonal", line(0, 0, 1000, 1000, 20), 1 - math.Pow(1000-100*math.Sqrt2, 2)/1e6},
		// a disc of radius 100 m around one fix in the middle: π·100² / 1000²
		{"one fix", []orb.Point{offset(500, 500)}, math.Pi * 1e4 / 1e6},
		{"far away", line(5000, 5000, 6000, 5000, 20), 0},
		{"no track", nil, 0},
	} {
		got := Coverage(area, tc.track, 100)
		if tc.want == 0 {
			if got != 0 {
				t.Errorf("%s: coverage %.4f, want 0", tc.name, got)
			}
			continue
		}
		if rel := math.Abs(got-tc.want) / tc.want; rel > 0.02 {
			t.Errorf("%s: coverage %.4f, want %.4f (%.1f %% off)", tc.name, got, tc.want, rel*100)
		} else {
			t.Logf("%s: coverage %.4f, want %.4f", tc.name, got, tc.want)
		}
	}
}

func TestCoverageHoleAndMulti(t *testing.T) {
	// the square with a 200 m × 1000 m hole along the south edge: the edge track covers nothing
	// of the hole, so of the remaining 800 000 m² it covers nothing either (the hole is 200 m deep).
	outer := orb.Ring{offset(0, 0), offset(1000, 0), offset(1000, 1000), offset(0, 1000), offset(0, 0)}
	hole := orb.Ring{offset(-1, -1), offset(-1, 200), offset(1001, 200), offset(1001, -1), offset(-1, -1)}
	if got := Coverage(orb.MultiPolygon{{outer, hole}}, line(0, 0, 1000, 0, 20), 100); got > 0.005 {
		t.Errorf("hole: %.4f", got)
	}
	// two squares 1 km apart, the track along one's edge: half of 0.1
	far := orb.Ring{offset(2000, 0), offset(3000, 0), offset(3000, 1000), offset(2000, 1000), offset(2000, 0)}
	got := Coverage(orb.MultiPolygon{{outer}, {far}}, line(0, 0, 1000, 0, 20), 100)
	if math.Abs(got-0.05)/0.05 > 0.02 {
		t.Errorf("multipolygon: %.4f, want 0.05", got)
	}
}

func TestAreaFromGeoJSON(t *testing.T) {
	poly := `{"type":"Polygon","coordinates":[[[119.6,41.9],[119.61,41.9],[119.61,41.91],[119.6,41.91],[119.6,41.9]]]}`
	for _, raw := range []string{poly, `{"type":"Feature","properties":{},"geometry":` + poly + `}`,
		`{"type":"MultiPolygon","coordinates":[[[[119.6,41.9],[119.61,41.9],[119.61,41.91],[119.6,41.9]]]]}`} {
		if mp, err := AreaFromGeoJSON(json.RawMessage(raw)); err != nil || len(mp) != 1 {
			t.Errorf("%s: %v %v", raw, mp, err)
		}
	}
	for _, raw := range []string{``, `null`, `{"type":"Point","coordinates":[1,2]}`, `{"nope":1}`, `[`} {
		if _, err := AreaFromGeoJSON(json.RawMessage(raw)); err == nil {
			t.Errorf("%q accepted", raw)
		}
	}
}

func fixes(start time.Time, pts []orb.Point, every time.Duration) []TrackPoint {
	out := make([]TrackPoint, len(pts))
	for i, p := range pts {
		acc := 5.0
		out[i] = TrackPoint{T: start.Add(time.Duration(i) * every).UTC(), Lat: p.Lat(), Lon: p.Lon(), AccuracyM: &acc, CRS: CRSWGS84}
	}
	return out
}

func TestTrackDistanceStraightLine(t *testing.T) {
	// 0.1° of latitude along a meridian: R·0.1·π/180 = 11 119.5 m
	var pts []orb.Point
	for i := 0; i <= 500; i++ {
		pts = append(pts, orb.Point{119.6, 42.0 + 0.1*float64(i)/500})
	}
	s := ComputeTrackStats(fixes(time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC), pts, 15*time.Second))
	want := 6371008.8 * 0.1 * math.Pi / 180
	if rel := math.Abs(s.DistanceM-want) / want; rel > 0.005 {
		t.Fatalf("distance %.1f m, want %.1f", s.DistanceM, want)
	}
	// 5 km due east, in 20 m steps
	s = ComputeTrackStats(fixes(time.Now(), line(0, 0, 5000, 0, 20), 15*time.Second))
	if rel := math.Abs(s.DistanceM-5000) / 5000; rel > 0.005 {
		t.Fatalf("east: distance %.1f m, want 5000", s.DistanceM)
	}
}

func TestTrackStatsTimes(t *testing.T) {
	start := time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)
	walk := fixes(start, line(0, 0, 2000, 0, 20), 15*time.Second) // 101 fixes, 100 steps of 20 m / 15 s
	endWalk := walk[len(walk)-1].T
	var stand []TrackPoint // 10 minutes later: 20 fixes at the same spot
	for i := range 20 {
		p := walk[len(walk)-1]
		p.T = endWalk.Add(10*time.Minute + time.Duration(i)*15*time.Second)
		stand = append(stand, p)
	}
	// then 1 km in 3 minutes in one step: fast enough and within 5 minutes, so moving
	jump := stand[len(stand)-1]
	jump.T = jump.T.Add(3 * time.Minute)
	jump.Lon = offset(3000, 0).Lon()
	pts := MergeTrackPoints(nil, append(append(walk, stand...), jump))
	s := ComputeTrackStats(pts)
	wantDur := pts[len(pts)-1].T.Sub(start).Seconds()
	if s.Points != 122 || s.DurationS != wantDur || s.LargestGapS != 600 {
		t.Fatalf("stats %+v, want 122 points, duration %v, largest gap 600", s, wantDur)
	}
	if s.MovingS != 100*15+180 {
		t.Fatalf("moving %v s, want %v (walk + the jump; standing and the 10-minute gap are not moving)", s.MovingS, 100*15+180)
	}
	if math.Abs(s.DistanceM-3000) > 15 {
		t.Fatalf("distance %.1f", s.DistanceM)
	}
	if one := ComputeTrackStats(pts[:1]); one.Points != 1 || one.DistanceM != 0 || one.DurationS != 0 {
		t.Fatalf("one fix: %+v", one)
	}
}

// The same points, shuffled, duplicated and split into chunks that arrive out of order and
// twice, give the same track and the same stats and coverage.
func TestTrackMergeOrderIndependent(t *testing.T) {
	start := time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)
	all := fixes(start, append(line(0, 0, 1000, 0, 20), line(1000, 0, 1000, 1000, 20)...), 15*time.Second)
	ref := MergeTrackPoints(nil, all)
	refStats := ComputeTrackStats(ref)
	area := square(1000)
	refCov := Coverage(area, TrackOrbPoints(ref), 100)
	if math.Abs(refCov-0.19)/0.19 > 0.02 { // two edges: 0.1 + 0.1 − the 100 m × 100 m corner
		t.Fatalf("two edges: coverage %.4f, want 0.19", refCov)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 20 {
		pts := append([]TrackPoint(nil), all...)
		for range len(all) / 3 { // duplicates, some with a worse accuracy
			d := all[rng.IntN(len(all))]
			worse := 50.0
			if rng.IntN(2) == 0 {
				d.AccuracyM = &worse
			}
			pts = append(pts, d)
		}
		rng.Shuffle(len(pts), func(i, j int) { pts[i], pts[j] = pts[j], pts[i] })
		var chunks [][]TrackPoint
		for len(pts) > 0 {
			n := min(1+rng.IntN(40), len(pts))
			chunks = append(chunks, pts[:n])
			pts = pts[n:]
		}
		order := rng.Perm(len(chunks))
		order = append(order, order[:len(order)/2]...) // half of them arrive twice
		var got []TrackPoint
		for _, i := range order {
			// each round trips through JSON as the stored record does
			b, _ := json.Marshal(Track{Points: MergeTrackPoints(got, chunks[i])})
			var tr Track
			if err := json.Unmarshal(b, &tr); err != nil {
				t.Fatal(err)
			}
			got = tr.Points
		}
		if !reflect.DeepEqual(got, ref) {
			t.Fatalf("trial %d: %d points, want %d", trial, len(got), len(ref))
		}
		if s := ComputeTrackStats(got); s != refStats {
			t.Fatalf("trial %d: stats %+v, want %+v", trial, s, refStats)
		}
		if c := Coverage(area, TrackOrbPoints(got), 100); c != refCov {
			t.Fatalf("trial %d: coverage %v, want %v", trial, c, refCov)
		}
	}
	if got := MergeChunks([]int{3, 1}, 2, 3, 0); !reflect.DeepEqual(got, []int{0, 1, 2, 3}) {
		t.Fatalf("chunks %v", got)
	}
}

func TestConvertTrackPoints(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	ok := TrackPointIn{T: "2026-03-14T09:12:03+08:00", Lat: f(41.9), Lon: f(119.6), AccuracyM: f(8)}
	var ve ValidationError
	got := ConvertTrackPoints(&ve, "points", []TrackPointIn{ok})
	if ve.Err() != nil || len(got) != 1 || got[0].CRS != CRSWGS84 || got[0].T.Location() != time.UTC ||
		got[0].T.Hour() != 1 || got[0].Lat != 41.9 {
		t.Fatalf("valid point: %+v %v", got, ve.Err())
	}
	// a GCJ-02 fix is stored in WGS-84 with its source recorded
	c := gcoordCities[6]
	ve = ValidationError{}
	got = ConvertTrackPoints(&ve, "points", []TrackPointIn{{T: ok.T, Lat: f(c.gcj[1]), Lon: f(c.gcj[0]), CRS: CRSGCJ02}})
	if ve.Err() != nil || got[0].CRS != CRSGCJ02 || HaversineM(got[0].Lat, got[0].Lon, c.wgs[1], c.wgs[0]) > 1 {
		t.Fatalf("gcj02 point: %+v %v", got, ve.Err())
	}
	many := make([]TrackPointIn, MaxTrackChunkPoints+1)
	for i := range many {
		many[i] = ok
	}
	for _, tc := range []struct {
		name  string
		in    []TrackPointIn
		field string
		code  string
	}{
		{"empty", nil, "points", "required"},
		{"too many", many, "points", "too_long"},
		{"latitude", []TrackPointIn{ok, {T: ok.T, Lat: f(91), Lon: f(119.6)}}, "points[1].lat", "out_of_range"},
		{"longitude", []TrackPointIn{{T: ok.T, Lat: f(41), Lon: f(-181)}}, "points[0].lon", "out_of_range"},
		{"missing lon", []TrackPointIn{{T: ok.T, Lat: f(41)}}, "points[0]", "required"},
		{"time", []TrackPointIn{{T: "yesterday", Lat: f(41), Lon: f(119)}}, "points[0].t", "invalid"},
		{"no time", []TrackPointIn{{Lat: f(41), Lon: f(119)}}, "points[0].t", "required"},
		{"crs", []TrackPointIn{{T: ok.T, Lat: f(41), Lon: f(119), CRS: "utm"}}, "points[0].crs", "unknown"},
		{"accuracy", []TrackPointIn{{T: ok.T, Lat: f(41), Lon: f(119), AccuracyM: f(-1)}}, "points[0].accuracy_m", "out_of_range"},
	} {
		ve := ValidationError{}
		ConvertTrackPoints(&ve, "points", tc.in)
		if len(ve.Errors) == 0 || ve.Errors[0].Field != tc.field || ve.Errors[0].Code != tc.code {
			t.Errorf("%s: errors %+v, want %s %s", tc.name, ve.Errors, tc.field, tc.code)
		}
	}
}

func BenchmarkCoverage(b *testing.B) {
	area := square(5000)
	var track []orb.Point
	for y := 0.0; y <= 5000; y += 400 { // a lawn-mower patrol, fixes every 20 m
		track = append(track, line(0, y, 5000, y, 20)...)
	}
	for b.Loop() {
		Coverage(area, track, 100)
	}
}
