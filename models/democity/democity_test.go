package democity

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRegionCounts(t *testing.T) {
	counts := map[string]int{}
	for _, r := range Regions() {
		counts[r.Level]++
	}
	tests := []struct {
		level string
		want  int
	}{
		{LevelCity, 1},
		{LevelCounty, 8},
		{LevelTownship, 176},
		{LevelVillage, 176 * villagesPerTownship},
	}
	for _, tt := range tests {
		if got := counts[tt.level]; got != tt.want {
			t.Errorf("%s: got %d regions, want %d", tt.level, got, tt.want)
		}
	}
	if len(counts) != len(tests) {
		t.Errorf("unexpected levels: %v", counts)
	}
}

func TestRegionTree(t *testing.T) {
	parentLevel := map[string]string{
		LevelCounty: LevelCity, LevelTownship: LevelCounty, LevelVillage: LevelTownship,
	}
	codeLen := map[string]int{LevelCity: 4, LevelCounty: 6, LevelTownship: 9, LevelVillage: 12}
	byCode := map[string]Region{}
	names := map[string]bool{} // parent code + "/" + name
	for i, r := range Regions() {
		if _, dup := byCode[r.Code]; dup {
			t.Errorf("#%d %s %s: duplicate code", i, r.Code, r.Name)
		}
		if len(r.Code) != codeLen[r.Level] || strings.Trim(r.Code, "0123456789") != "" {
			t.Errorf("#%d %s %s: code is not %d digits", i, r.Code, r.Name, codeLen[r.Level])
		}
		if r.Name == "" || !utf8.ValidString(r.Name) {
			t.Errorf("#%d %s: bad name %q", i, r.Code, r.Name)
		}
		key := r.ParentCode + "/" + r.Name
		if names[key] {
			t.Errorf("#%d %s %s: name not unique within parent %q", i, r.Code, r.Name, r.ParentCode)
		}
		names[key] = true
		if r.Level == LevelCity {
			if r.ParentCode != "" {
				t.Errorf("city %s has parent %q", r.Code, r.ParentCode)
			}
		} else {
			p, ok := byCode[r.ParentCode]
			switch {
			case !ok:
				t.Errorf("#%d %s %s: parent %q missing or after child", i, r.Code, r.Name, r.ParentCode)
			case p.Level != parentLevel[r.Level]:
				t.Errorf("#%d %s %s: parent level %s, want %s", i, r.Code, r.Name, p.Level, parentLevel[r.Level])
			case !strings.HasPrefix(r.Code, r.ParentCode):
				t.Errorf("#%d %s %s: code not prefixed by parent %s", i, r.Code, r.Name, r.ParentCode)
			}
		}
		byCode[r.Code] = r
	}
}

func TestRegionCoordinates(t *testing.T) {
	for _, r := range Regions() {
		if r.Lat < 41.5 || r.Lat > 42.6 || r.Lon < 120.5 || r.Lon > 122.5 {
			t.Errorf("%s %s: (%f, %f) outside north-west Liaoning box", r.Code, r.Name, r.Lat, r.Lon)
		}
	}
}

func TestTownshipNamesAndMix(t *testing.T) {
	suffixes := []string{"街道", "镇", "乡", "场"}
	kinds := map[string]int{}
	for _, r := range Regions() {
		if r.Level != LevelTownship {
			continue
		}
		found := false
		for _, s := range suffixes {
			if strings.HasSuffix(r.Name, s) {
				kinds[s]++
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s %s: township name has no 乡/镇/场/街道 suffix", r.Code, r.Name)
		}
	}
	for _, s := range suffixes {
		if kinds[s] == 0 {
			t.Errorf("no township ends in %s", s)
		}
	}
}

func TestDeterministic(t *testing.T) {
	tests := []struct {
		name string
		call func() any
	}{
		{"Regions", func() any { return Regions() }},
		{"Users", func() any { return Users() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := tt.call(), tt.call(); !reflect.DeepEqual(a, b) {
				t.Errorf("%s differs between two calls", tt.name)
			}
		})
	}
}

func TestUsers(t *testing.T) {
	regions := map[string]Region{}
	for _, r := range Regions() {
		regions[r.Code] = r
	}
	validKinds := map[string]bool{
		kindProjectVisit: true, kindPlantingCheck: true, kindFirePatrol: true, kindAgriInputCheck: true,
	}
	roles := map[string]int{}
	usernames := map[string]bool{}
	for _, u := range Users() {
		if usernames[u.Username] {
			t.Errorf("%s: duplicate username", u.Username)
		}
		usernames[u.Username] = true
		if u.Username == "" || strings.Trim(u.Username, "abcdefghijklmnopqrstuvwxyz0123456789._-") != "" {
			t.Errorf("%q: username is not lower-case ascii", u.Username)
		}
		if len(u.Password) < 10 {
			t.Errorf("%s: password shorter than 10 characters", u.Username)
		}
		if u.Name == "" || u.Note == "" {
			t.Errorf("%s: missing name or note", u.Username)
		}
		roles[u.Role]++
		if u.RegionCode != "" {
			r, ok := regions[u.RegionCode]
			if !ok {
				t.Errorf("%s: region %q not in Regions()", u.Username, u.RegionCode)
			} else if u.Role == roleTownshipOfficer && r.Level != LevelTownship {
				t.Errorf("%s: township officer assigned to a %s", u.Username, r.Level)
			}
		}
		seen := map[string]bool{}
		for _, k := range u.Kinds {
			if !validKinds[k] || seen[k] {
				t.Errorf("%s: invalid or repeated kind %q", u.Username, k)
			}
			seen[k] = true
		}
		if u.Kinds != nil && len(u.Kinds) == 0 {
			t.Errorf("%s: empty non-nil kinds; use nil for all kinds", u.Username)
		}
	}
	for _, role := range []string{roleInspector, roleTownshipOfficer, roleDepartment, roleSupervisor, roleAdmin} {
		if roles[role] == 0 {
			t.Errorf("no user with role %s", role)
		}
	}
}

func TestUserScopes(t *testing.T) {
	names := map[string]string{}
	for _, r := range Regions() {
		names[r.Code] = r.Name
	}
	users := map[string]User{}
	for _, u := range Users() {
		users[u.Username] = u
	}
	tests := []struct {
		username, role, region string // region as a Chinese name; "" = whole city
		kinds                  []string
	}{
		{"admin", roleAdmin, "", nil},
		{"supervisor", roleSupervisor, "", nil},
		{"supervisor.qinghe", roleSupervisor, "青河县", nil},
		{"inspector", roleInspector, "", nil},
		{"inspector.jianan", roleInspector, "建安县", []string{kindProjectVisit}},
		{"ranger.dongsheng", roleTownshipOfficer, "东升镇", []string{kindFirePatrol, kindPlantingCheck}},
		{"dept.market", roleDepartment, "", []string{kindAgriInputCheck}},
		{"dept.agri", roleDepartment, "", []string{kindPlantingCheck, kindAgriInputCheck}},
	}
	for _, tt := range tests {
		t.Run(tt.username, func(t *testing.T) {
			u, ok := users[tt.username]
			if !ok {
				t.Fatalf("no user %s", tt.username)
			}
			if u.Role != tt.role || names[u.RegionCode] != tt.region || !reflect.DeepEqual(u.Kinds, tt.kinds) {
				t.Errorf("got role %s region %q kinds %v, want %s %q %v",
					u.Role, names[u.RegionCode], u.Kinds, tt.role, tt.region, tt.kinds)
			}
		})
	}
}
