package models

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"
)

var (
	site      = Point{Lat: 22.543096, Lon: 114.057865}
	visitFrom = time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)
	visitTo   = visitFrom.Add(2 * time.Hour)
)

// north returns the point d metres north of p (along a meridian, where HaversineM is exact).
func north(p Point, d float64) Point {
	return Point{Lat: p.Lat + d/(6371008.8*math.Pi/180), Lon: p.Lon}
}

func east(p Point, d float64) Point {
	return Point{Lat: p.Lat, Lon: p.Lon + d/(6371008.8*math.Pi/180*math.Cos(p.Lat*math.Pi/180))}
}

func fptr(v float64) *float64 { return &v }

// goodInput is a photo taken at the site, 10 m accuracy, EXIF agreeing, inside the visit.
func goodInput() VerdictInput {
	at := visitFrom.Add(30 * time.Minute)
	skew := 10 * time.Second
	end := visitTo
	sp := site
	return VerdictInput{
		Attach: &PhotoAttach{Position: &Position{Lat: site.Lat, Lon: site.Lon, AccuracyM: fptr(10), CRS: CRSWGS84},
			CapturedAt: at.Format(time.RFC3339)},
		Exif:       &PhotoExif{Lat: fptr(site.Lat), Lon: fptr(site.Lon), TakenAt: &at},
		SitePoint:  &sp,
		VisitStart: visitFrom,
		VisitEnd:   &end,
		ClockSkew:  &skew,
	}
}

func movePhoto(in *VerdictInput, p Point) {
	in.Attach.Position.Lat, in.Attach.Position.Lon = p.Lat, p.Lon
	in.Exif.Lat, in.Exif.Lon = fptr(p.Lat), fptr(p.Lon)
}

// reasonsOf returns code → level of a verdict, checking that every code is a documented one.
func reasonsOf(t *testing.T, v Verdict) map[string]VerdictLevel {
	t.Helper()
	m := map[string]VerdictLevel{}
	for _, r := range v.Reasons {
		if !slices.Contains(VerdictReasonCodes, r.Code) || r.Message == "" {
			t.Fatalf("undocumented or silent reason %+v", r)
		}
		m[r.Code] = r.Level
	}
	return m
}

func expect(t *testing.T, name string, v Verdict, level VerdictLevel, reasons map[string]VerdictLevel) {
	t.Helper()
	got := reasonsOf(t, v)
	if v.Level != level || len(got) != len(reasons) {
		t.Errorf("%s: got %s %v, want %s %v", name, v.Level, v.Reasons, level, reasons)
		return
	}
	for c, l := range reasons {
		if got[c] != l {
			t.Errorf("%s: %s is %q, want %q (%v)", name, c, got[c], l, v.Reasons)
		}
	}
}

func TestEvaluatePhotoPendingAndOK(t *testing.T) {
	th := DefaultVerdictThresholds()
	in := goodInput()
	expect(t, "good", EvaluatePhoto(in, th), VerdictOK, nil)
	if v := EvaluatePhoto(in, th); v.Reasons == nil {
		t.Fatal("reasons must be an empty list, not null")
	}
	in.Exif = nil
	expect(t, "not uploaded", EvaluatePhoto(in, th), VerdictPending, nil)
	in = goodInput()
	in.Attach = nil
	expect(t, "not attached", EvaluatePhoto(in, th), VerdictPending, nil)
}

func TestEvaluatePhotoSiteDistance(t *testing.T) {
	th := DefaultVerdictThresholds()
	for _, c := range []struct {
		d     float64
		level VerdictLevel
	}{{0, VerdictOK}, {199.5, VerdictOK}, {200.5, VerdictWarn}, {999.5, VerdictWarn}, {1000.5, VerdictFail}} {
		in := goodInput()
		movePhoto(&in, north(site, c.d))
		v := EvaluatePhoto(in, th)
		want := map[string]VerdictLevel{}
		if c.level != VerdictOK {
			want[ReasonFarFromSite] = c.level
			if r := v.Reasons[0]; math.Abs(*r.Value-c.d) > 0.1 || (*r.Threshold != 200 && *r.Threshold != 1000) {
				t.Errorf("%.1f m: value %v threshold %v", c.d, *r.Value, *r.Threshold)
			}
		}
		expect(t, "site", v, c.level, want)
	}
	// No app position: the EXIF one is checked, and its accuracy is unknown.
	in := goodInput()
	movePhoto(&in, north(site, 300))
	in.Attach.Position = nil
	expect(t, "exif position", EvaluatePhoto(in, th), VerdictWarn,
		map[string]VerdictLevel{ReasonFarFromSite: VerdictWarn, ReasonNoAccuracy: VerdictWarn})
	in.Exif.Lat, in.Exif.Lon = nil, nil
	expect(t, "no position", EvaluatePhoto(in, th), VerdictWarn,
		map[string]VerdictLevel{ReasonNoPosition: VerdictWarn, ReasonNoExifGPS: VerdictWarn})
	// No site point and no area: no place rule.
	in = goodInput()
	movePhoto(&in, north(site, 5000))
	in.SitePoint = nil
	expect(t, "no site", EvaluatePhoto(in, th), VerdictOK, nil)
}

// squareWithHole is a GeoJSON polygon ~1 km wide around site, with a 200 m hole in its middle.
func squareWithHole(t *testing.T) json.RawMessage {
	sw, ne := north(east(site, -500), -500), north(east(site, 500), 500)
	hsw, hne := north(east(site, -100), -100), north(east(site, 100), 100)
	g := map[string]any{"type": "Polygon", "coordinates": [][][2]float64{
		{{sw.Lon, sw.Lat}, {ne.Lon, sw.Lat}, {ne.Lon, ne.Lat}, {sw.Lon, ne.Lat}, {sw.Lon, sw.Lat}},
		{{hsw.Lon, hsw.Lat}, {hne.Lon, hsw.Lat}, {hne.Lon, hne.Lat}, {hsw.Lon, hne.Lat}, {hsw.Lon, hsw.Lat}},
	}}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEvaluatePhotoArea(t *testing.T) {
	th := DefaultVerdictThresholds()
	area := squareWithHole(t)
	edge := east(site, 500) // on the east edge
	for _, c := range []struct {
		name  string
		p     Point
		level VerdictLevel
	}{
		{"inside", east(site, 300), VerdictOK},
		{"just outside, within tolerance", east(edge, 99.5), VerdictOK},
		{"beyond tolerance", east(edge, 100.5), VerdictWarn},
		{"far", east(edge, 999.5), VerdictWarn},
		{"beyond fail", east(edge, 1000.5), VerdictFail},
		{"in the hole, 80 m from its edge", east(site, 20), VerdictOK},
		{"north of the area", north(site, 500+150), VerdictWarn},
	} {
		in := goodInput()
		in.SiteArea = area
		movePhoto(&in, c.p)
		want := map[string]VerdictLevel{}
		if c.level != VerdictOK {
			want[ReasonOutsideArea] = c.level
		}
		expect(t, c.name, EvaluatePhoto(in, th), c.level, want)
	}
	// The area wins over the site point: 700 m from the site but inside the area is fine…
	in := goodInput()
	in.SiteArea = area
	movePhoto(&in, north(east(site, 450), 450))
	expect(t, "area over point", EvaluatePhoto(in, th), VerdictOK, nil)
	// …and an unreadable area falls back to the point.
	in.SiteArea = json.RawMessage(`{"type":"Point","coordinates":[1,2]}`)
	expect(t, "bad area", EvaluatePhoto(in, th), VerdictWarn, map[string]VerdictLevel{ReasonFarFromSite: VerdictWarn})
}

func TestDistanceOutsideAreaMatchesHaversine(t *testing.T) {
	area, err := AreaFromGeoJSON(squareWithHole(t))
	if err != nil {
		t.Fatal(err)
	}
	edge := east(site, 500)
	for _, d := range []float64{1, 100, 1000, 3000} {
		p := east(edge, d)
		got := DistanceOutsideArea(area, p)
		want := HaversineM(p.Lat, p.Lon, edge.Lat, edge.Lon)
		if math.Abs(got-want) > 1 {
			t.Errorf("%g m east: got %.2f, haversine %.2f", d, got, want)
		}
	}
	if d := DistanceOutsideArea(area, east(site, 20)); math.Abs(d-80) > 1 {
		t.Errorf("in the hole: %.2f, want 80", d)
	}
}

func TestEvaluatePhotoAccuracyAndExif(t *testing.T) {
	th := DefaultVerdictThresholds()
	for _, c := range []struct {
		acc   *float64
		code  string
		level VerdictLevel
	}{
		{fptr(50), "", VerdictOK}, {fptr(50.1), ReasonLowAccuracy, VerdictWarn},
		{fptr(200), ReasonLowAccuracy, VerdictWarn}, {fptr(200.1), ReasonLowAccuracy, VerdictFail},
		{nil, ReasonNoAccuracy, VerdictWarn},
	} {
		in := goodInput()
		in.Attach.Position.AccuracyM = c.acc
		want := map[string]VerdictLevel{}
		if c.code != "" {
			want[c.code] = c.level
		}
		expect(t, "accuracy", EvaluatePhoto(in, th), c.level, want)
	}
	for _, c := range []struct {
		d     float64
		level VerdictLevel
	}{{99.5, VerdictOK}, {100.5, VerdictWarn}, {499.5, VerdictWarn}, {500.5, VerdictFail}} {
		in := goodInput()
		p := north(site, c.d)
		in.Exif.Lat, in.Exif.Lon = &p.Lat, &p.Lon
		want := map[string]VerdictLevel{}
		if c.level != VerdictOK {
			want[ReasonExifAppMismatch] = c.level
		}
		expect(t, "exif vs app", EvaluatePhoto(in, th), c.level, want)
	}
	in := goodInput()
	in.Exif.Lat, in.Exif.Lon = nil, nil
	expect(t, "no exif gps", EvaluatePhoto(in, th), VerdictWarn, map[string]VerdictLevel{ReasonNoExifGPS: VerdictWarn})
	in = goodInput()
	in.Attach.Position.Mock = true
	expect(t, "mock", EvaluatePhoto(in, th), VerdictFail, map[string]VerdictLevel{ReasonMockLocation: VerdictFail})
}

func TestEvaluatePhotoTimeAndClock(t *testing.T) {
	th := DefaultVerdictThresholds()
	for _, c := range []struct {
		name  string
		at    time.Time
		open  bool
		level VerdictLevel
	}{
		{"29 min early", visitFrom.Add(-29 * time.Minute), false, VerdictOK},
		{"31 min early", visitFrom.Add(-31 * time.Minute), false, VerdictWarn},
		{"29 min late", visitTo.Add(29 * time.Minute), false, VerdictOK},
		{"23 h late", visitTo.Add(23 * time.Hour), false, VerdictWarn},
		{"25 h late", visitTo.Add(25 * time.Hour), false, VerdictFail},
		{"open visit, 11 h in", visitFrom.Add(11 * time.Hour), true, VerdictOK},
		{"open visit, 12 h 31 min in", visitFrom.Add(12*time.Hour + 31*time.Minute), true, VerdictWarn},
	} {
		in := goodInput()
		in.Exif.TakenAt = &c.at
		if c.open {
			in.VisitEnd = nil
		}
		want := map[string]VerdictLevel{}
		if c.level != VerdictOK {
			want[ReasonOutsideVisitWindow] = c.level
		}
		expect(t, c.name, EvaluatePhoto(in, th), c.level, want)
	}
	// Without EXIF time the app's capture time counts.
	in := goodInput()
	in.Exif.TakenAt = nil
	in.Attach.CapturedAt = visitTo.Add(2 * time.Hour).Format(time.RFC3339)
	expect(t, "app time", EvaluatePhoto(in, th), VerdictWarn, map[string]VerdictLevel{ReasonOutsideVisitWindow: VerdictWarn})

	for _, c := range []struct {
		skew  time.Duration
		level VerdictLevel
	}{{5 * time.Minute, VerdictOK}, {-5*time.Minute - time.Second, VerdictWarn}, {61 * time.Minute, VerdictFail}, {-2 * time.Hour, VerdictFail}} {
		in := goodInput()
		in.ClockSkew = &c.skew
		want := map[string]VerdictLevel{}
		if c.level != VerdictOK {
			want[ReasonClockSkew] = c.level
		}
		expect(t, "skew "+c.skew.String(), EvaluatePhoto(in, th), c.level, want)
	}
}

func TestEvaluatePhotoWorstLevelAndOrder(t *testing.T) {
	in := goodInput()
	in.Attach.Position.Mock = true
	in.Attach.Position.AccuracyM = nil
	movePhoto(&in, north(site, 300))
	v := EvaluatePhoto(in, DefaultVerdictThresholds())
	expect(t, "several", v, VerdictFail, map[string]VerdictLevel{
		ReasonMockLocation: VerdictFail, ReasonFarFromSite: VerdictWarn, ReasonNoAccuracy: VerdictWarn})
	if v.Reasons[0].Code != ReasonMockLocation {
		t.Fatalf("order: %v", v.Reasons)
	}
}

func TestVerdictThresholdsValidate(t *testing.T) {
	if err := DefaultVerdictThresholds().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(*VerdictThresholds){
		"warn above fail":  func(t *VerdictThresholds) { t.SiteWarnM = 2000 },
		"negative":         func(t *VerdictThresholds) { t.AccuracyWarnM = -1 },
		"NaN":              func(t *VerdictThresholds) { t.ExifAppFailM = math.NaN() },
		"slack above fail": func(t *VerdictThresholds) { t.WindowSlack = 48 * time.Hour },
		"skew negative":    func(t *VerdictThresholds) { t.ClockSkewWarn = -time.Second },
		"area":             func(t *VerdictThresholds) { t.AreaFailM = 50 },
	} {
		th := DefaultVerdictThresholds()
		f(&th)
		if th.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRollUpVerdict(t *testing.T) {
	r := func(code string, l VerdictLevel, v float64) VerdictReason {
		return VerdictReason{Code: code, Level: l, Value: &v, Message: code}
	}
	ok := Verdict{Level: VerdictOK, Reasons: []VerdictReason{}}
	pending := Verdict{Level: VerdictPending, Reasons: []VerdictReason{}}
	warn300 := Verdict{Level: VerdictWarn, Reasons: []VerdictReason{r(ReasonFarFromSite, VerdictWarn, 300)}}
	warn500 := Verdict{Level: VerdictWarn, Reasons: []VerdictReason{r(ReasonFarFromSite, VerdictWarn, 500), r(ReasonNoExifGPS, VerdictWarn, 0)}}
	fail := Verdict{Level: VerdictFail, Reasons: []VerdictReason{r(ReasonFarFromSite, VerdictFail, 1200)}}

	if v := RollUpVerdict(nil); v.Level != VerdictPending || v.Reasons == nil || len(v.Reasons) != 0 {
		t.Fatalf("no photos: %+v", v)
	}
	for name, c := range map[string]struct {
		in    []Verdict
		level VerdictLevel
	}{
		"all ok":         {[]Verdict{ok, ok}, VerdictOK},
		"ok and pending": {[]Verdict{ok, pending}, VerdictPending},
		"warn, pending":  {[]Verdict{pending, warn300}, VerdictWarn},
		"fail wins":      {[]Verdict{warn300, fail, pending}, VerdictFail},
	} {
		if v := RollUpVerdict(c.in); v.Level != c.level {
			t.Errorf("%s: %s", name, v.Level)
		}
	}
	v := RollUpVerdict([]Verdict{warn300, warn500, ok})
	if len(v.Reasons) != 2 || v.Reasons[0].Code != ReasonFarFromSite || *v.Reasons[0].Value != 500 {
		t.Fatalf("dedup keeps the largest value: %+v", v.Reasons)
	}
	v = RollUpVerdict([]Verdict{fail, warn500})
	if len(v.Reasons) != 2 || v.Reasons[0].Level != VerdictFail || *v.Reasons[0].Value != 1200 {
		t.Fatalf("dedup keeps the worst level: %+v", v.Reasons)
	}
}

func TestVerdictReasonCodesComplete(t *testing.T) {
	want := []string{"far_from_site", "outside_area", "low_accuracy", "no_accuracy", "exif_app_mismatch",
		"no_exif_gps", "outside_visit_window", "mock_location", "clock_skew", "no_position"}
	for _, c := range want {
		if !slices.Contains(VerdictReasonCodes, c) {
			t.Errorf("%s missing", c)
		}
	}
	if len(VerdictReasonCodes) != len(want) {
		t.Errorf("codes %v", VerdictReasonCodes)
	}
}
