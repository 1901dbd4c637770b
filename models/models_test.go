package models

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var cheap = PasswordParams{MemoryKiB: 64, Iterations: 1, Threads: 1}

func TestPasswordRoundTrip(t *testing.T) {
	for _, p := range []PasswordParams{cheap, DefaultPasswordParams} {
		h, err := HashPassword("correct horse", p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "$argon2id$v=19$") || strings.Contains(h, "correct horse") {
			t.Fatalf("unexpected hash format %q", h)
		}
		if ok, err := CheckPassword("correct horse", h); err != nil || !ok {
			t.Fatalf("right password refused: %v %v", ok, err)
		}
		if ok, _ := CheckPassword("correct horsf", h); ok {
			t.Fatal("wrong password accepted")
		}
		h2, _ := HashPassword("correct horse", p)
		if h2 == h {
			t.Fatal("two hashes of one password are equal: salt missing")
		}
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=x,t=1,p=1$AAAA$AAAA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$AAAA", "$argon2id$v=18$m=64,t=1,p=1$AAAA$AAAA"} {
		if _, err := CheckPassword("x", h); err != ErrBadPasswordHash {
			t.Errorf("hash %q: err %v, want ErrBadPasswordHash", h, err)
		}
	}
}

func TestScopeCovers(t *testing.T) {
	county := uuid.New()
	city := Scope{}
	countyScope := Scope{RegionID: &county, RegionPath: "/c/" + county.String() + "/", Kinds: []Kind{KindFirePatrol}}
	inCounty := countyScope.RegionPath + "t1/"
	cases := []struct {
		name string
		s    Scope
		path string
		kind Kind
		want bool
	}{
		{"city sees everything", city, "/x/y/", KindProjectVisit, true},
		{"county sees its township", countyScope, inCounty, KindFirePatrol, true},
		{"county sees itself", countyScope, countyScope.RegionPath, "", true},
		{"county misses other county", countyScope, "/c/other/", KindFirePatrol, false},
		{"county misses the city above", countyScope, "/c/", "", false},
		{"kind outside scope", countyScope, inCounty, KindProjectVisit, false},
		{"prefix of an id is not a parent", countyScope, countyScope.RegionPath[:len(countyScope.RegionPath)-2] + "/", "", false},
	}
	for _, c := range cases {
		if got := c.s.Covers(c.path, c.kind); got != c.want {
			t.Errorf("%s: Covers(%q, %q) = %v, want %v", c.name, c.path, c.kind, got, c.want)
		}
	}
}

func TestValidateKinds(t *testing.T) {
	var ve ValidationError
	got := ValidateKinds(&ve, "kinds", []string{"fire_patrol", "project_visit", "fire_patrol"})
	if ve.Err() != nil || len(got) != 2 || got[0] != KindFirePatrol || got[1] != KindProjectVisit {
		t.Fatalf("got %v, %v", got, ve.Err())
	}
	ValidateKinds(&ve, "kinds", []string{"fishing"})
	if len(ve.Errors) != 1 || ve.Errors[0].Code != "unknown" {
		t.Fatalf("unknown kind not reported: %+v", ve.Errors)
	}
}

func TestValidateBoundary(t *testing.T) {
	cases := map[string]bool{
		`{"type":"Polygon","coordinates":[[[121,41],[121.1,41],[121.1,41.1],[121,41]]]}`:        true,
		`{"type":"MultiPolygon","coordinates":[[[[121,41],[121.1,41],[121.1,41.1],[121,41]]]]}`: true,
		`{"type":"Polygon","coordinates":[[[121,41],[121.1,41],[121.1,41.1],[121.2,41]]]}`:      false, // not closed
		`{"type":"Polygon","coordinates":[[[121,41],[121.1,41],[121,41]]]}`:                     false, // too few
		`{"type":"Polygon","coordinates":[[[221,41],[121.1,41],[121.1,41.1],[221,41]]]}`:        false, // out of range
		`{"type":"Point","coordinates":[121,41]}`:                                               false,
		`{"nonsense":1}`: false,
	}
	for raw, ok := range cases {
		var ve ValidationError
		ValidateBoundary(&ve, "boundary", json.RawMessage(raw))
		if (ve.Err() == nil) != ok {
			t.Errorf("%s: valid=%v, errors %+v", raw, ve.Err() == nil, ve.Errors)
		}
	}
}

func TestRegionLevels(t *testing.T) {
	if !LevelTownship.ChildOf(LevelCounty) || LevelVillage.ChildOf(LevelCounty) || LevelCity.ChildOf("") {
		t.Fatal("level ordering is wrong")
	}
	p := RegionPath(RegionPath("", uuid.Nil), uuid.Nil)
	if p != "/"+uuid.Nil.String()+"/"+uuid.Nil.String()+"/" {
		t.Fatalf("path %q", p)
	}
}

func TestValidateUserFields(t *testing.T) {
	var ve ValidationError
	ValidateUsername(&ve, "username", NormalizeUsername("  Ranger.Dongsheng "))
	ValidatePassword(&ve, "password", "long enough")
	ValidateRole(&ve, "role", RoleSupervisor)
	ValidateDevice(&ve, "device", Device{ID: "android:ab12-CD"})
	if err := ve.Err(); err != nil {
		t.Fatalf("valid input refused: %v", err)
	}
	ValidateUsername(&ve, "username", "a b")
	ValidatePassword(&ve, "password", "short")
	ValidateRole(&ve, "role", "mayor")
	ValidateDevice(&ve, "device", Device{ID: "bad id/with slash", Name: strings.Repeat("x", 101)})
	want := []string{"username", "password", "role", "device.id", "device.name"}
	if len(ve.Errors) != len(want) {
		t.Fatalf("errors %+v", ve.Errors)
	}
	for i, f := range want {
		if ve.Errors[i].Field != f {
			t.Errorf("error %d names %q, want %q", i, ve.Errors[i].Field, f)
		}
	}
}

func TestJSONHasNUL(t *testing.T) {
	cases := map[string]bool{`{"a":"x\u0000y"}`: true, `{"a":"\\u0000"}`: false, `{"a":"\\\u0000"}`: true,
		`{"a":"ok"}`: false, "{\"a\":\"\x00\"}": true, `{"a":"\u00001"}`: true, `{"a":"\u0001"}`: false}
	for in, want := range cases {
		if got := JSONHasNUL([]byte(in)); got != want {
			t.Errorf("JSONHasNUL(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestValidatePositionStoresWGS84(t *testing.T) {
	// The coordtransform reference pair (see crs_test.go): GCJ-02 39.91640428, 116.41024450 is
	// WGS-84 39.915, 116.404.
	p := &Position{Lat: 39.91640428150164, Lon: 116.41024449916938, CRS: CRSGCJ02}
	var ve ValidationError
	ValidatePosition(&ve, "position", p)
	if ve.Err() != nil || p.CRS != CRSWGS84 || p.SourceCRS != CRSGCJ02 {
		t.Fatalf("%+v %v", p, ve.Err())
	}
	if d := HaversineM(p.Lat, p.Lon, 39.915, 116.404); d > 1 {
		t.Fatalf("converted position is %.2f m from the reference", d)
	}
	again := *p
	ValidatePosition(&ve, "position", &again)
	if again != *p {
		t.Fatal("validating a stored position converted it twice")
	}
}
