package models

import (
	"encoding/json"
	"errors"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// RegionLevel is a region's place in the tree city → county → township → village.
type RegionLevel string

// The four levels of the region tree, from the top.
const (
	LevelCity     RegionLevel = "city"
	LevelCounty   RegionLevel = "county"
	LevelTownship RegionLevel = "township"
	LevelVillage  RegionLevel = "village"
)

var levelDepth = map[RegionLevel]int{LevelCity: 0, LevelCounty: 1, LevelTownship: 2, LevelVillage: 3}

// Depth is 0 for the city and 3 for a village; -1 for an unknown level.
func (l RegionLevel) Depth() int {
	if d, ok := levelDepth[l]; ok {
		return d
	}
	return -1
}

// ChildOf reports whether a region of level l may sit directly under a region of level parent.
func (l RegionLevel) ChildOf(parent RegionLevel) bool {
	return l.Depth() > 0 && parent.Depth() == l.Depth()-1
}

// Point is a WGS-84 position.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// UnmarshalJSON requires both lat and lon: a missing one must not silently become 0° (the Gulf
// of Guinea is far from any township).
func (p *Point) UnmarshalJSON(b []byte) error {
	var raw struct {
		Lat *float64 `json:"lat"`
		Lon *float64 `json:"lon"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw.Lat == nil || raw.Lon == nil {
		return errors.New("a point needs both lat and lon")
	}
	p.Lat, p.Lon = *raw.Lat, *raw.Lon
	return nil
}

// Region is one place of the administrative tree. Path is the materialised path of ids from the
// city down to this region ("/<city id>/<county id>/…/<own id>/"), which makes "inside this
// subtree" a prefix test.
type Region struct {
	ID        uuid.UUID
	Code      string
	Name      string
	Level     RegionLevel
	ParentID  *uuid.UUID
	Path      string
	Centre    *Point
	Boundary  json.RawMessage // GeoJSON Polygon or MultiPolygon, WGS-84
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RegionPath builds the materialised path of a region under parentPath ("" for a root).
func RegionPath(parentPath string, id uuid.UUID) string {
	if parentPath == "" {
		parentPath = "/"
	}
	return parentPath + id.String() + "/"
}

var regionCodeRE = regexp.MustCompile(`^[0-9A-Za-z_-]{1,32}$`)

// ValidateRegionCode checks a region code: 1–32 letters, digits, '_' or '-'.
func ValidateRegionCode(ve *ValidationError, field, code string) {
	if !regionCodeRE.MatchString(code) {
		ve.Add(field, "invalid", "must be 1–32 letters, digits, '_' or '-'")
	}
}

// ValidatePoint checks that p is a plausible WGS-84 coordinate.
func ValidatePoint(ve *ValidationError, field string, p *Point) {
	if p == nil {
		return
	}
	if p.Lat < -90 || p.Lat > 90 {
		ve.Add(field+".lat", "out_of_range", "latitude must be between -90 and 90")
	}
	if p.Lon < -180 || p.Lon > 180 {
		ve.Add(field+".lon", "out_of_range", "longitude must be between -180 and 180")
	}
}

// MaxBoundaryBytes bounds a region boundary's GeoJSON.
const MaxBoundaryBytes = 256 << 10

// ValidateBoundary checks a GeoJSON Polygon or MultiPolygon: parseable, closed rings of at least four
// positions, coordinates in range.
func ValidateBoundary(ve *ValidationError, field string, raw json.RawMessage) {
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	if len(raw) > MaxBoundaryBytes {
		ve.Add(field, "too_long", "must be at most %d bytes of GeoJSON", MaxBoundaryBytes)
		return
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		ve.Add(field, "invalid", "must be a GeoJSON Polygon or MultiPolygon: %v", err)
		return
	}
	var polys []orb.Polygon
	switch geom := g.Geometry().(type) {
	case orb.Polygon:
		polys = []orb.Polygon{geom}
	case orb.MultiPolygon:
		polys = geom
	default:
		ve.Add(field, "invalid", "must be a GeoJSON Polygon or MultiPolygon, not %s", g.Type)
		return
	}
	for _, poly := range polys {
		if len(poly) == 0 {
			ve.Add(field, "invalid", "polygon has no rings")
			return
		}
		for _, ring := range poly {
			if len(ring) < 4 || !ring.Closed() {
				ve.Add(field, "invalid", "every ring needs at least 4 positions and must be closed")
				return
			}
			for _, pt := range ring {
				if pt.Lon() < -180 || pt.Lon() > 180 || pt.Lat() < -90 || pt.Lat() > 90 {
					ve.Add(field, "out_of_range", "coordinates must be [lon, lat] within WGS-84 range")
					return
				}
			}
		}
	}
}
