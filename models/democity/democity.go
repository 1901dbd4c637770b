// Package democity is a deterministic, plausible demo city for fieldsync: a prefecture-level city in
// north-west Liaoning (辽西北) with its county-level divisions, its 176 township-level units (乡镇场街,
// as in the work-conference speech) and a few villages under each, plus a small set of demo logins, one
// or more for every role.
//
// It is pure data: no I/O, no randomness, no package-level state, and it imports nothing from the
// project, so any room (models, storage, cmd) may seed from it. Every call returns freshly built slices
// with the same content.
package democity

import "math"

// The levels of the region tree, from the top.
const (
	LevelCity     = "city"
	LevelCounty   = "county"
	LevelTownship = "township"
	LevelVillage  = "village"
)

// Region is one place in the demo region tree: the city, a county-level division (区, 县, 市), a
// township-level unit (乡, 镇, 场, 街道) or a village (村, or 社区 under a 街道).
type Region struct {
	Code       string  // GB/T 2260 style: "2115" city, "211502" county, "211502001" township, "211502001001" village
	Name       string  // Chinese name, unique among its siblings
	Level      string  // "city" | "county" | "township" | "village"
	ParentCode string  // "" for the city; otherwise a prefix of Code
	Lat, Lon   float64 // centre point, WGS-84, inside 41.5–42.6 N, 120.5–122.5 E
}

// villagesPerTownship is how many villages (or communities) the demo puts under each township.
const villagesPerTownship = 3

// goldenAngle spreads points evenly on a sunflower spiral.
const goldenAngle = 2.399963229728653

// Regions returns the whole demo region tree in level order (the city, then the 8 county-level
// divisions, then the 176 townships, then the villages), so every parent comes before its children.
// The order and content are the same on every call.
func Regions() []Region {
	counties := countyTable()
	out := []Region{{Code: cityCode, Name: cityName, Level: LevelCity, Lat: cityLat, Lon: cityLon}}
	for _, c := range counties {
		out = append(out, Region{
			Code: c.code, Name: c.name, Level: LevelCounty, ParentCode: cityCode,
			Lat: round6(c.lat), Lon: round6(c.lon),
		})
	}
	var townships []Region
	for ci, c := range counties {
		townships = append(townships, countyTownships(ci, c)...)
	}
	out = append(out, townships...)
	for ti, t := range townships {
		out = append(out, townshipVillages(ti, t)...)
	}
	return out
}

// countyTownships places the township-level units of county c (the ci-th county). Sub-districts (街道)
// cluster tightly around the county seat; towns, townships and farms spread over the county on a
// sunflower spiral, the first town at the seat when the county has no sub-districts.
func countyTownships(ci int, c countySpec) []Region {
	var out []Region
	add := func(name string, code int, lat, lon float64) {
		out = append(out, Region{
			Code: c.code + pad3(code), Name: name, Level: LevelTownship, ParentCode: c.code,
			Lat: round6(lat), Lon: round6(lon),
		})
	}
	phase := float64(ci) * 0.9
	for i, name := range c.streets {
		r := 0.02 * math.Sqrt(float64(i)/float64(len(c.streets)))
		theta := phase + float64(i)*goldenAngle
		add(name, 1+i, c.lat+r*math.Sin(theta), c.lon+1.34*r*math.Cos(theta))
	}
	type unit struct {
		name string
		code int
	}
	var rural []unit
	for i, n := range c.towns {
		rural = append(rural, unit{n, 101 + i})
	}
	for i, n := range c.xiang {
		rural = append(rural, unit{n, 201 + i})
	}
	for i, n := range c.farms {
		rural = append(rural, unit{n, 401 + i})
	}
	off := 0.0
	if len(c.streets) > 0 {
		off = 1 // the centre belongs to the sub-districts
	}
	n := float64(len(rural))
	for i, u := range rural {
		f := math.Sqrt((float64(i) + off) / (n + off))
		theta := phase + float64(i)*goldenAngle
		add(u.name, u.code, c.lat+c.latR*f*math.Sin(theta), c.lon+c.lonR*f*math.Cos(theta))
	}
	return out
}

// townshipVillages places the villages of township t (the ti-th township of the city) around it: three
// communities (社区, codes 001–003) under a 街道, three villages (村, codes 201–203) elsewhere.
func townshipVillages(ti int, t Region) []Region {
	street := isStreet(t.Name)
	names := villageNames(ti, street, villagesPerTownship)
	out := make([]Region, 0, len(names))
	for k, name := range names {
		code := 201 + k
		r := 0.012 + 0.005*float64(k)
		if street {
			code = 1 + k
			r = 0.003 + 0.001*float64(k)
		}
		theta := float64(ti)*0.7 + float64(k)*2*math.Pi/float64(len(names))
		out = append(out, Region{
			Code: t.Code + pad3(code), Name: name, Level: LevelVillage, ParentCode: t.Code,
			Lat: round6(t.Lat + r*math.Sin(theta)), Lon: round6(t.Lon + 1.34*r*math.Cos(theta)),
		})
	}
	return out
}

// pad3 formats n (0–999) as three digits.
func pad3(n int) string {
	return string([]byte{byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}

// round6 rounds a coordinate to 6 decimals (about 0.1 m), so printed values stay short.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
