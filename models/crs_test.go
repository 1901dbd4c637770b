package models

import (
	"math"
	"testing"
)

// crsRef is one published reference triple, [lon, lat] as the sources give them.
type crsRef struct {
	name         string
	wgs, gcj, bd [2]float64
}

// Reference triples from hujiulong/gcoord, test/fixtures/china-cities.json (WGS84, GCJ02, BD09
// columns), spread over China from Liaoning to Tibet.
var gcoordCities = []crsRef{
	{name: "驻马店", wgs: [2]float64{114.0164322, 33.0133556}, gcj: [2]float64{114.022306, 33.0115324}, bd: [2]float64{114.0287781, 33.0176697}},
	{name: "邢台", wgs: [2]float64{114.498916, 37.0700925}, gcj: [2]float64{114.5048503, 37.0705911}, bd: [2]float64{114.5113116, 37.0766797}},
	{name: "那曲", wgs: [2]float64{92.0499619, 31.4784436}, gcj: [2]float64{92.0512438, 31.4762063}, bd: [2]float64{92.0576832, 31.4824421}},
	{name: "郑州", wgs: [2]float64{113.6192856, 34.7478004}, gcj: [2]float64{113.6253334, 34.7466173}, bd: [2]float64{113.6317519, 34.7528605}},
	{name: "梅州", wgs: [2]float64{116.1174053, 24.2912377}, gcj: [2]float64{116.1222426, 24.2886182}, bd: [2]float64{116.1287823, 24.2944828}},
	{name: "辽阳", wgs: [2]float64{123.2312099, 41.2651725}, gcj: [2]float64{123.2369518, 41.2672464}, bd: [2]float64{123.2433178, 41.2736074}},
	{name: "沈阳", wgs: [2]float64{123.4253306, 41.8032629}, gcj: [2]float64{123.4314787, 41.8057023}, bd: [2]float64{123.438095, 41.8114013}},
	{name: "锡林浩特", wgs: [2]float64{116.0414035, 43.9312805}, gcj: [2]float64{116.0482308, 43.9334573}, bd: [2]float64{116.0546232, 43.9397782}},
	{name: "酒泉", wgs: [2]float64{98.4937175, 39.7319946}, gcj: [2]float64{98.4943595, 39.7328234}, bd: [2]float64{98.5008441, 39.7388949}},
	{name: "钦州", wgs: [2]float64{108.6503952, 21.9828281}, gcj: [2]float64{108.6541485, 21.9799392}, bd: [2]float64{108.6607283, 21.9856319}},
	{name: "泉州", wgs: [2]float64{118.6711365, 24.8770487}, gcj: [2]float64{118.6756787, 24.8741363}, bd: [2]float64{118.6821251, 24.8804872}},
}

func distM(lat1, lon1, lat2, lon2 float64) float64 { return HaversineM(lat1, lon1, lat2, lon2) }

func TestToWGS84ReferencePairs(t *testing.T) {
	worst := map[CRS]float64{}
	for _, c := range gcoordCities {
		for _, tc := range []struct {
			crs CRS
			in  [2]float64
		}{{CRSGCJ02, c.gcj}, {CRSBD09, c.bd}} {
			lat, lon := ToWGS84(tc.in[1], tc.in[0], tc.crs)
			d := distM(lat, lon, c.wgs[1], c.wgs[0])
			worst[tc.crs] = math.Max(worst[tc.crs], d)
			if d > 1 {
				t.Errorf("%s %s → wgs84: got %.7f,%.7f want %.7f,%.7f (%.2f m off)", c.name, tc.crs, lat, lon, c.wgs[1], c.wgs[0], d)
			}
		}
		for _, tc := range []struct {
			crs  CRS
			want [2]float64
		}{{CRSGCJ02, c.gcj}, {CRSBD09, c.bd}} {
			lat, lon := FromWGS84(c.wgs[1], c.wgs[0], tc.crs)
			if d := distM(lat, lon, tc.want[1], tc.want[0]); d > 1 {
				t.Errorf("%s wgs84 → %s: %.2f m off", c.name, tc.crs, d)
			}
		}
	}
	t.Logf("worst reference error to wgs84: gcj02 %.3f m, bd09 %.3f m", worst[CRSGCJ02], worst[CRSBD09])
}

// wandergis/coordtransform, test/app.js: the Tiananmen example.
func TestTiananmenReference(t *testing.T) {
	// wgs84togcj02(116.404, 39.915) = [116.41024449916938, 39.91640428150164]
	lat, lon := FromWGS84(39.915, 116.404, CRSGCJ02)
	if d := distM(lat, lon, 39.91640428150164, 116.41024449916938); d > 0.01 {
		t.Errorf("forward gcj02 %.4f m off", d)
	}
	lat, lon = ToWGS84(39.91640428150164, 116.41024449916938, CRSGCJ02)
	if d := distM(lat, lon, 39.915, 116.404); d > 0.01 {
		t.Errorf("inverse gcj02 %.4f m off", d)
	}
	// bd09togcj02(116.404, 39.915) = [116.39762729119315, 39.90865673957631]: the one-step
	// formula, which our exact inverse must match within centimetres.
	gLat, gLon := crsInvert(gcjToBD, 39.915, 116.404)
	if d := distM(gLat, gLon, 39.90865673957631, 116.39762729119315); d > 0.1 {
		t.Errorf("bd09 → gcj02 %.4f m off", d)
	}
	// gcj02tobd09(116.404, 39.915) = [116.41036949371029, 39.92133699351021]
	bLat, bLon := gcjToBD(39.915, 116.404)
	if d := distM(bLat, bLon, 39.92133699351021, 116.41036949371029); d > 0.01 {
		t.Errorf("gcj02 → bd09 %.4f m off", d)
	}
}

func TestCRSRoundTripGrid(t *testing.T) {
	worst := 0.0
	for lat := 18.5; lat <= 53.5; lat += 0.73 {
		for lon := 74.0; lon <= 135.0; lon += 0.91 {
			for _, crs := range []CRS{CRSGCJ02, CRSBD09} {
				fLat, fLon := FromWGS84(lat, lon, crs)
				if d := distM(fLat, fLon, lat, lon); crs == CRSGCJ02 && (d < 1 || d > 1500) {
					t.Fatalf("gcj02 offset at %.2f,%.2f is %.1f m, implausible", lat, lon, d)
				}
				bLat, bLon := ToWGS84(fLat, fLon, crs)
				d := distM(bLat, bLon, lat, lon)
				worst = math.Max(worst, d)
				if d > 0.5 {
					t.Fatalf("%s round trip at %.3f,%.3f: %.3f m", crs, lat, lon, d)
				}
			}
		}
	}
	t.Logf("worst round-trip error: %.2e m", worst)
}

func TestCRSOutsideChina(t *testing.T) {
	for _, p := range [][2]float64{{48.8566, 2.3522}, {35.6762, 139.6503}, {-33.86, 151.21}, {0, 0}, {60.0, 100.0}, {0.5, 110}} {
		for _, crs := range []CRS{CRSWGS84, CRSGCJ02} {
			if lat, lon := ToWGS84(p[0], p[1], crs); lat != p[0] || lon != p[1] {
				t.Errorf("%s at %v changed to %v,%v", crs, p, lat, lon)
			}
			if lat, lon := FromWGS84(p[0], p[1], crs); lat != p[0] || lon != p[1] {
				t.Errorf("from %s at %v changed to %v,%v", crs, p, lat, lon)
			}
		}
		// BD-09 still shifts outside China (Baidu's own offset), and round-trips.
		bLat, bLon := FromWGS84(p[0], p[1], CRSBD09)
		if lat, lon := ToWGS84(bLat, bLon, CRSBD09); distM(lat, lon, p[0], p[1]) > 0.01 {
			t.Errorf("bd09 round trip outside China at %v: %v,%v", p, lat, lon)
		}
	}
}

func TestToWGS84Position(t *testing.T) {
	acc := 5.0
	c := gcoordCities[5]
	in := Position{Lat: c.gcj[1], Lon: c.gcj[0], AccuracyM: &acc, CRS: CRSGCJ02, Mock: true}
	out, src := ToWGS84Position(in)
	if src != CRSGCJ02 || out.CRS != CRSWGS84 || out.AccuracyM != &acc || !out.Mock {
		t.Fatalf("got %+v from %s", out, src)
	}
	if d := distM(out.Lat, out.Lon, c.wgs[1], c.wgs[0]); d > 1 {
		t.Fatalf("%.2f m off", d)
	}
	if in.CRS != CRSGCJ02 || in.Lat != c.gcj[1] {
		t.Fatal("the input was changed")
	}
	out, src = ToWGS84Position(Position{Lat: 41.9, Lon: 121.6})
	if src != CRSWGS84 || out.Lat != 41.9 || out.Lon != 121.6 || out.CRS != CRSWGS84 {
		t.Fatalf("empty crs: %+v %s", out, src)
	}
}

func TestNormalizePosition(t *testing.T) {
	c := gcoordCities[0]
	p := &Position{Lat: c.bd[1], Lon: c.bd[0], CRS: CRSBD09}
	if src := NormalizePosition(p); src != CRSBD09 || p.CRS != CRSWGS84 || distM(p.Lat, p.Lon, c.wgs[1], c.wgs[0]) > 1 {
		t.Fatalf("got %+v from %s", p, src)
	}
	if NormalizePosition(nil) != "" {
		t.Fatal("nil position")
	}
}
