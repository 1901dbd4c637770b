package models

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// DistanceOutsideArea is how far p lies outside area, in metres: 0 inside (holes count as
// outside), else the distance to the nearest edge of any ring. Edges are measured in a local
// equirectangular projection centred on p, within about 0.1 m per km of distance (ample for
// tolerances of a few hundred metres). An empty area gives +Inf.
func DistanceOutsideArea(area orb.MultiPolygon, p Point) float64 {
	pt := orb.Point{p.Lon, p.Lat}
	if planar.MultiPolygonContains(area, pt) {
		return 0
	}
	const r = 6371008.8
	ky := r * math.Pi / 180
	kx := ky * math.Cos(p.Lat*math.Pi/180)
	proj := func(q orb.Point) (float64, float64) {
		dlon := q.Lon() - p.Lon
		if dlon > 180 {
			dlon -= 360
		} else if dlon < -180 {
			dlon += 360
		}
		return dlon * kx, (q.Lat() - p.Lat) * ky
	}
	best := math.Inf(1)
	for _, poly := range area {
		for _, ring := range poly {
			for i := range ring {
				j := i + 1
				if j == len(ring) {
					if ring.Closed() {
						break
					}
					j = 0
				}
				ax, ay := proj(ring[i])
				bx, by := proj(ring[j])
				best = math.Min(best, segDist2(0, 0, ax, ay, bx, by))
			}
		}
	}
	return math.Sqrt(best)
}
