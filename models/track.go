package models

import (
	"cmp"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Limits and defaults of patrol tracks.
const (
	MaxTrackChunkPoints    = 2000    // points in one track.append
	MaxTrackPoints         = 50000   // points kept per track (about 8 days of one fix every 15 s)
	MaxTrackChunk          = 1 << 30 // the largest chunk number a phone may send
	DefaultCoverageBufferM = 100.0   // distance from the track within which the patrol area counts as covered
	MovingMinSpeedMS       = 0.5     // a step between fixes counts as moving at this speed or more …
	MovingMaxGap           = 5 * time.Minute
	coverageMaxCells       = 1000 // per side of the coverage raster (1 MB at most)
)

// TrackPoint is one GPS fix of a patrol track, stored in WGS-84. CRS is the system the phone
// reported it in (wgs84, gcj02, bd09).
type TrackPoint struct {
	T         time.Time `json:"t"`
	Lat       float64   `json:"lat"`
	Lon       float64   `json:"lon"`
	AccuracyM *float64  `json:"accuracy_m,omitempty"`
	CRS       CRS       `json:"crs"`
}

// TrackPointIn is a fix as a phone sends it.
type TrackPointIn struct {
	T         string   `json:"t"`
	Lat       *float64 `json:"lat"`
	Lon       *float64 `json:"lon"`
	AccuracyM *float64 `json:"accuracy_m"`
	CRS       CRS      `json:"crs"`
}

// TrackStats sums up a track. Coverage is nil when the visit has no patrol area.
type TrackStats struct {
	Points          int      `json:"points"`
	DistanceM       float64  `json:"distance_m"`
	DurationS       float64  `json:"duration_s"`
	MovingS         float64  `json:"moving_s"`
	LargestGapS     float64  `json:"largest_gap_s"`
	Coverage        *float64 `json:"coverage"`
	CoverageBufferM float64  `json:"coverage_buffer_m"`
}

// Track is the data of a track record (type "track", id = the visit's id).
type Track struct {
	VisitID string       `json:"visit_id"`
	Chunks  []int        `json:"chunks"`
	Points  []TrackPoint `json:"points"`
	Stats   TrackStats   `json:"stats"`
}

// ConvertTrackPoints validates the fixes of one chunk (field is e.g. "points") and converts them
// to WGS-84. Time must be RFC 3339, lat/lon present and in range, accuracy 0–100,000 m, crs
// known (empty means wgs84).
func ConvertTrackPoints(ve *ValidationError, field string, in []TrackPointIn) []TrackPoint {
	if len(in) == 0 {
		ve.Add(field, "required", "a chunk needs at least one point")
		return nil
	}
	if len(in) > MaxTrackChunkPoints {
		ve.Add(field, "too_long", "a chunk holds at most %d points", MaxTrackChunkPoints)
		return nil
	}
	out := make([]TrackPoint, 0, len(in))
	for i, p := range in {
		f := field + "[" + strconv.Itoa(i) + "]"
		n := len(ve.Errors)
		t := ParseTime(ve, f+".t", p.T, true)
		if p.Lat == nil || p.Lon == nil {
			ve.Add(f, "required", "a point needs lat and lon")
		} else {
			ValidatePoint(ve, f, &Point{Lat: *p.Lat, Lon: *p.Lon})
			if math.IsNaN(*p.Lat) || math.IsNaN(*p.Lon) {
				ve.Add(f, "invalid", "lat and lon must be numbers")
			}
		}
		if p.AccuracyM != nil && (*p.AccuracyM < 0 || *p.AccuracyM > 100000) {
			ve.Add(f+".accuracy_m", "out_of_range", "accuracy must be between 0 and 100000 metres")
		}
		crs := p.CRS
		if crs == "" {
			crs = CRSWGS84
		}
		if !slices.Contains([]CRS{CRSWGS84, CRSGCJ02, CRSBD09}, crs) {
			ve.Add(f+".crs", "unknown", "crs must be wgs84, gcj02 or bd09")
		}
		if len(ve.Errors) > n {
			if len(ve.Errors) > 20 { // enough to fix the chunk; do not build a megabyte of messages
				return nil
			}
			continue
		}
		lat, lon := ToWGS84(*p.Lat, *p.Lon, crs)
		out = append(out, TrackPoint{T: t.UTC(), Lat: lat, Lon: lon, AccuracyM: p.AccuracyM, CRS: crs})
	}
	return out
}

func cmpOptFloat(a, b *float64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1 // a known accuracy sorts first
	case b == nil:
		return -1
	}
	return cmp.Compare(*a, *b)
}

// compareTrackPoints is a total order on fixes: time, lat, lon, then the best accuracy first.
func compareTrackPoints(a, b TrackPoint) int {
	return cmp.Or(a.T.Compare(b.T), cmp.Compare(a.Lat, b.Lat), cmp.Compare(a.Lon, b.Lon),
		cmpOptFloat(a.AccuracyM, b.AccuracyM), cmp.Compare(a.CRS, b.CRS))
}

// MergeTrackPoints returns the union of two point sets sorted by time and de-duplicated by
// (t, lat, lon), keeping the fix with the best accuracy; the result does not depend on the
// order or multiplicity in which points arrive.
func MergeTrackPoints(a, b []TrackPoint) []TrackPoint {
	all := make([]TrackPoint, 0, len(a)+len(b))
	all = append(append(all, a...), b...)
	slices.SortFunc(all, compareTrackPoints)
	return slices.CompactFunc(all, func(x, y TrackPoint) bool {
		return x.T.Equal(y.T) && x.Lat == y.Lat && x.Lon == y.Lon
	})
}

// MergeChunks returns the sorted union of chunk numbers.
func MergeChunks(a []int, more ...int) []int {
	out := append(slices.Clone(a), more...)
	slices.Sort(out)
	return slices.Compact(out)
}

// ComputeTrackStats measures a track whose points are sorted by time (as MergeTrackPoints gives
// them): distance along the fixes, duration first to last, moving time (steps of at most
// MovingMaxGap at MovingMinSpeedMS or faster) and the largest gap between fixes. Coverage is left
// for the caller (see Coverage).
func ComputeTrackStats(pts []TrackPoint) TrackStats {
	s := TrackStats{Points: len(pts)}
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		d := HaversineM(a.Lat, a.Lon, b.Lat, b.Lon)
		dt := b.T.Sub(a.T).Seconds()
		s.DistanceM += d
		s.LargestGapS = math.Max(s.LargestGapS, dt)
		if dt > 0 && dt <= MovingMaxGap.Seconds() && d/dt >= MovingMinSpeedMS {
			s.MovingS += dt
		}
	}
	if len(pts) > 1 {
		s.DurationS = pts[len(pts)-1].T.Sub(pts[0].T).Seconds()
	}
	s.DistanceM = math.Round(s.DistanceM*100) / 100
	return s
}

// TrackOrbPoints returns a track's fixes as orb points ([lon, lat]).
func TrackOrbPoints(pts []TrackPoint) []orb.Point {
	out := make([]orb.Point, len(pts))
	for i, p := range pts {
		out[i] = orb.Point{p.Lon, p.Lat}
	}
	return out
}

// AreaFromGeoJSON reads a patrol area: a GeoJSON Polygon or MultiPolygon (a bare geometry or a
// Feature holding one).
func AreaFromGeoJSON(raw json.RawMessage) (orb.MultiPolygon, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("models: no area")
	}
	var g orb.Geometry
	if f, err := geojson.UnmarshalFeature(raw); err == nil && f.Geometry != nil {
		g = f.Geometry
	} else {
		gg, err := geojson.UnmarshalGeometry(raw)
		if err != nil {
			return nil, errors.New("models: area is not GeoJSON: " + err.Error())
		}
		g = gg.Geometry()
	}
	switch geom := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{geom}, nil
	case orb.MultiPolygon:
		return geom, nil
	}
	return nil, errors.New("models: area must be a Polygon or MultiPolygon")
}

// Coverage estimates the share (0..1) of area lying within bufferM metres of the track polyline.
// It projects to metres around the centre of the area's bounds (equirectangular, ample for areas
// of a few tens of kilometres), lays a raster of square cells over the area (bufferM/20 wide, at
// most coverageMaxCells per side, at least 100 per side for small areas), and counts the cells
// whose centre lies inside the area (even-odd rule, so holes are excluded) and within bufferM of
// a track segment. A single fix covers a disc. An empty area gives 0.
func Coverage(area orb.MultiPolygon, track []orb.Point, bufferM float64) float64 {
	b := area.Bound()
	if len(area) == 0 || b.IsEmpty() || bufferM < 0 {
		return 0
	}
	lat0, lon0 := (b.Min.Lat()+b.Max.Lat())/2, (b.Min.Lon()+b.Max.Lon())/2
	const r = 6371008.8
	ky := r * math.Pi / 180
	kx := ky * math.Cos(lat0*math.Pi/180)
	proj := func(p orb.Point) [2]float64 { return [2]float64{(p.Lon() - lon0) * kx, (p.Lat() - lat0) * ky} }

	minX, minY := (b.Min.Lon()-lon0)*kx, (b.Min.Lat()-lat0)*ky
	w, h := (b.Max.Lon()-lon0)*kx-minX, (b.Max.Lat()-lat0)*ky-minY
	span := math.Max(w, h)
	cell := math.Min(bufferM/20, span/100)
	cell = math.Max(cell, span/coverageMaxCells)
	if cell <= 0 || math.IsNaN(cell) {
		return 0
	}
	nx, ny := int(math.Ceil(w/cell)), int(math.Ceil(h/cell))
	nx, ny = max(nx, 1), max(ny, 1)

	// inside[j*nx+i]: 0 outside, 1 inside, 2 inside and covered.
	inside := make([]uint8, nx*ny)
	var edges [][4]float64
	for _, poly := range area {
		for _, ring := range poly {
			for k := 0; k+1 < len(ring); k++ {
				p, q := proj(ring[k]), proj(ring[k+1])
				edges = append(edges, [4]float64{p[0], p[1], q[0], q[1]})
			}
			if len(ring) > 1 && !ring.Closed() {
				p, q := proj(ring[len(ring)-1]), proj(ring[0])
				edges = append(edges, [4]float64{p[0], p[1], q[0], q[1]})
			}
		}
	}
	total := 0
	xs := make([]float64, 0, 16)
	for j := range ny {
		y := minY + (float64(j)+0.5)*cell
		xs = xs[:0]
		for _, e := range edges {
			if (e[1] > y) != (e[3] > y) {
				xs = append(xs, e[0]+(y-e[1])*(e[2]-e[0])/(e[3]-e[1]))
			}
		}
		slices.Sort(xs)
		for k := 0; k+1 < len(xs); k += 2 {
			i0 := int(math.Ceil((xs[k]-minX)/cell - 0.5))
			i1 := int(math.Floor((xs[k+1]-minX)/cell - 0.5))
			for i := max(i0, 0); i <= min(i1, nx-1); i++ {
				if inside[j*nx+i] == 0 {
					inside[j*nx+i] = 1
					total++
				}
			}
		}
	}
	if total == 0 || len(track) == 0 {
		return 0
	}
	covered := 0
	bb := bufferM * bufferM
	mark := func(ax, ay, bx, by float64) {
		i0 := max(int(math.Floor((math.Min(ax, bx)-bufferM-minX)/cell)), 0)
		i1 := min(int(math.Ceil((math.Max(ax, bx)+bufferM-minX)/cell)), nx-1)
		j0 := max(int(math.Floor((math.Min(ay, by)-bufferM-minY)/cell)), 0)
		j1 := min(int(math.Ceil((math.Max(ay, by)+bufferM-minY)/cell)), ny-1)
		for j := j0; j <= j1; j++ {
			cy := minY + (float64(j)+0.5)*cell
			for i := i0; i <= i1; i++ {
				if inside[j*nx+i] != 1 {
					continue
				}
				cx := minX + (float64(i)+0.5)*cell
				if segDist2(cx, cy, ax, ay, bx, by) <= bb {
					inside[j*nx+i] = 2
					covered++
				}
			}
		}
	}
	prev := proj(track[0])
	if len(track) == 1 {
		mark(prev[0], prev[1], prev[0], prev[1])
	}
	for _, p := range track[1:] {
		cur := proj(p)
		mark(prev[0], prev[1], cur[0], cur[1])
		prev = cur
	}
	return float64(covered) / float64(total)
}

// segDist2 is the squared distance from (px, py) to the segment (ax, ay)–(bx, by).
func segDist2(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/l2))
	}
	ex, ey := ax+t*dx-px, ay+t*dy-py
	return ex*ex + ey*ey
}
