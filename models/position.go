package models

import "slices"

// CRS names a coordinate system phones report positions in: raw GPS and EXIF are WGS-84, Chinese
// map SDKs give GCJ-02 (AMap, Tencent) or BD-09 (Baidu).
type CRS string

// The coordinate systems a position may carry.
const (
	CRSWGS84 CRS = "wgs84"
	CRSGCJ02 CRS = "gcj02"
	CRSBD09  CRS = "bd09"
)

// Position is where the phone says it was, as the app recorded it.
type Position struct {
	Lat       float64  `json:"lat"`
	Lon       float64  `json:"lon"`
	AccuracyM *float64 `json:"accuracy_m,omitempty"`
	CRS       CRS      `json:"crs,omitempty"`
	Mock      bool     `json:"mock,omitempty"`
	// SourceCRS is the system the phone reported the position in; Lat/Lon are stored in WGS-84.
	SourceCRS CRS `json:"source_crs,omitempty"`
}

// ValidatePosition checks ranges and the coordinate system; an empty crs means wgs84.
func ValidatePosition(ve *ValidationError, field string, p *Position) {
	if p == nil {
		return
	}
	ValidatePoint(ve, field, &Point{Lat: p.Lat, Lon: p.Lon})
	if p.AccuracyM != nil && (*p.AccuracyM < 0 || *p.AccuracyM > 100000) {
		ve.Add(field+".accuracy_m", "out_of_range", "accuracy must be between 0 and 100000 metres")
	}
	if p.CRS == "" {
		p.CRS = CRSWGS84
	}
	if !slices.Contains([]CRS{CRSWGS84, CRSGCJ02, CRSBD09}, p.CRS) {
		ve.Add(field+".crs", "unknown", "crs must be wgs84, gcj02 or bd09")
		return
	}
	if p.CRS != CRSWGS84 && p.SourceCRS == "" {
		// Store WGS-84 and remember what the phone sent (GCJ-02 from AMap/Tencent, BD-09 from Baidu).
		p.SourceCRS = NormalizePosition(p)
	}
}
