package models

import "math"

// Coordinate conversions between WGS-84 and the two Chinese map systems.
//
// GCJ-02 ("Mars coordinates", AMap, Tencent) is WGS-84 shifted by a published-by-leak nonlinear
// offset of a few hundred metres, applied only inside mainland China (approximated, as every
// implementation does, by the bounding box lon 72.004–137.8347, lat 0.8293–55.8271). BD-09
// (Baidu) is GCJ-02 rotated and shifted once more. The forward transforms are closed formulas;
// the inverses have none, so ToWGS84 inverts them by fixed-point iteration (the offset changes
// by well under 1 % per metre, so each step gains about three decimal places) until the forward
// image of the answer is within 1e-10° (about 0.01 mm) of the input — not the common one-step
// approximation, which is off by up to a couple of metres.
//
// The tests check against published reference pairs: the WGS-84/GCJ-02/BD-09 triples of Chinese
// cities in the test fixtures of hujiulong/gcoord (test/fixtures/china-cities.json) and the
// Tiananmen example of wandergis/coordtransform (test/app.js: WGS-84 116.404, 39.915 →
// GCJ-02 116.41024449916938, 39.91640428150164; BD-09 116.404, 39.915 → GCJ-02
// 116.39762729119315, 39.90865673957631).

const (
	gcjA    = 6378245.0              // semi-major axis of the Krasovsky 1940 ellipsoid GCJ-02 uses
	gcjEE   = 0.00669342162296594323 // its first eccentricity squared
	bdXPi   = math.Pi * 3000.0 / 180.0
	invTol  = 1e-10 // degrees: the inverse stops when the forward image is this close
	invIter = 30
)

// OutOfChina reports whether a position lies outside the box where GCJ-02 applies an offset
// (there GCJ-02 equals WGS-84).
func OutOfChina(lat, lon float64) bool {
	return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271
}

func gcjDLat(x, y float64) float64 {
	r := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	r += (160.0*math.Sin(y/12.0*math.Pi) + 320.0*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return r
}

func gcjDLon(x, y float64) float64 {
	r := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	r += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return r
}

// wgsToGCJ is the forward GCJ-02 offset.
func wgsToGCJ(lat, lon float64) (float64, float64) {
	if OutOfChina(lat, lon) {
		return lat, lon
	}
	dLat := gcjDLat(lon-105.0, lat-35.0)
	dLon := gcjDLon(lon-105.0, lat-35.0)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - gcjEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = dLat * 180.0 / ((gcjA * (1 - gcjEE)) / (magic * sqrtMagic) * math.Pi)
	dLon = dLon * 180.0 / (gcjA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return lat + dLat, lon + dLon
}

func gcjToBD(lat, lon float64) (float64, float64) {
	z := math.Sqrt(lon*lon+lat*lat) + 0.00002*math.Sin(lat*bdXPi)
	theta := math.Atan2(lat, lon) + 0.000003*math.Cos(lon*bdXPi)
	return z*math.Sin(theta) + 0.006, z*math.Cos(theta) + 0.0065
}

// crsInvert finds (lat, lon) with f(lat, lon) == (tLat, tLon) by fixed-point iteration, starting
// from the target itself.
func crsInvert(f func(lat, lon float64) (float64, float64), tLat, tLon float64) (float64, float64) {
	lat, lon := tLat, tLon
	for range invIter {
		fLat, fLon := f(lat, lon)
		dLat, dLon := fLat-tLat, fLon-tLon
		if math.Abs(dLat) < invTol && math.Abs(dLon) < invTol {
			break
		}
		lat, lon = lat-dLat, lon-dLon
	}
	return lat, lon
}

// ToWGS84 converts a position given in crs to WGS-84; an empty or unknown crs is taken as WGS-84.
func ToWGS84(lat, lon float64, crs CRS) (float64, float64) {
	switch crs {
	case CRSGCJ02:
		if OutOfChina(lat, lon) {
			return lat, lon
		}
		return crsInvert(wgsToGCJ, lat, lon)
	case CRSBD09:
		gLat, gLon := crsInvert(gcjToBD, lat, lon)
		return ToWGS84(gLat, gLon, CRSGCJ02)
	default:
		return lat, lon
	}
}

// FromWGS84 converts a WGS-84 position to crs (the forward transforms; used by tests and demo
// data that need to produce what a phone's map SDK would report).
func FromWGS84(lat, lon float64, crs CRS) (float64, float64) {
	switch crs {
	case CRSGCJ02:
		return wgsToGCJ(lat, lon)
	case CRSBD09:
		return gcjToBD(wgsToGCJ(lat, lon))
	default:
		return lat, lon
	}
}

// ToWGS84Position returns a copy of p converted to WGS-84 (CRS set to wgs84) and the system p
// was given in (wgs84 when empty). The caller records the source system with the position.
func ToWGS84Position(p Position) (Position, CRS) {
	src := p.CRS
	if src == "" {
		src = CRSWGS84
	}
	p.Lat, p.Lon = ToWGS84(p.Lat, p.Lon, src)
	p.CRS = CRSWGS84
	return p, src
}

// HaversineM is the great-circle distance in metres between two WGS-84 positions (mean Earth
// radius 6,371,008.8 m).
func HaversineM(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371008.8
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	h := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// NormalizePosition converts p in place to WGS-84 and returns the system it was given in (wgs84
// when empty). Until Position records its source system, the caller keeps the returned value.
func NormalizePosition(p *Position) CRS {
	if p == nil {
		return ""
	}
	var src CRS
	*p, src = ToWGS84Position(*p)
	return src
}
