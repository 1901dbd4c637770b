package server

import (
	"testing"
)

func regionCodes(t *testing.T, r resp) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, x := range r.json(t)["regions"].([]any) {
		m := x.(map[string]any)
		out[m["code"].(string)] = m
	}
	return out
}

func TestRegionsFollowScope(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		user  string
		count int
		has   string
		lacks string
	}{
		{"inspector", 713, "2115", ""},
		{"ranger.dongsheng", 4, "211522105", "211522"},
		{"supervisor.qinghe", 1 + 28 + 28*3, "211521", "2115"},
		{"inspector.jianan", 1 + 26 + 26*3, "211523", "211521"},
	}
	for _, c := range cases {
		t.Run(c.user, func(t *testing.T) {
			r := h.do("GET", "/v1/regions", h.login(c.user, "phone-"+c.user), nil)
			expectStatus(t, r, 200)
			codes := regionCodes(t, r)
			if len(codes) != c.count {
				t.Fatalf("%s sees %d regions, want %d", c.user, len(codes), c.count)
			}
			if codes[c.has] == nil {
				t.Fatalf("%s does not see %s", c.user, c.has)
			}
			if c.lacks != "" && codes[c.lacks] != nil {
				t.Fatalf("%s sees %s outside their scope", c.user, c.lacks)
			}
		})
	}
	tok := h.login("inspector", "p")
	r := h.do("GET", "/v1/regions?max_level=county", tok, nil)
	if n := len(regionCodes(t, r)); n != 9 {
		t.Fatalf("max_level=county gives %d", n)
	}
	expectStatus(t, h.do("GET", "/v1/regions?max_level=planet", tok, nil), 400)
}

func TestAdminRegions(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin", "admin-laptop")
	all := regionCodes(t, h.do("GET", "/v1/admin/regions", admin, nil))
	county, other := all["211522"], all["211521"]
	boundary := map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{121, 41.9}, {121.1, 41.9}, {121.1, 42}, {121, 41.9}}}}
	r := h.do("POST", "/v1/admin/regions", admin, map[string]any{"code": "211522199", "name": "新林场", "level": "township",
		"parent_id": county["id"], "centre": map[string]any{"lat": 41.95, "lon": 121.05}, "boundary": boundary})
	expectStatus(t, r, 201)
	created := r.json(t)
	if created["parent_id"] != county["id"] || created["boundary"] == nil {
		t.Fatalf("created %v", created)
	}
	id := created["id"].(string)
	r = h.do("POST", "/v1/admin/regions", admin, map[string]any{"code": "211522199", "name": "重复", "level": "township", "parent_code": "211522"})
	expectStatus(t, r, 409)
	for name, body := range map[string]map[string]any{
		"village under county": {"code": "x1", "name": "村", "level": "village", "parent_code": "211522"},
		"no parent":            {"code": "x2", "name": "乡", "level": "township"},
		"bad centre":           {"code": "x3", "name": "乡", "level": "township", "parent_code": "211522", "centre": map[string]any{"lat": 91, "lon": 0}},
		"open ring": {"code": "x4", "name": "乡", "level": "township", "parent_code": "211522",
			"boundary": map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{121, 41}, {122, 41}, {122, 42}, {121, 42}}}}},
		"bad code": {"code": "has space", "name": "乡", "level": "township", "parent_code": "211522"},
	} {
		r := h.do("POST", "/v1/admin/regions", admin, body)
		if r.Status != 422 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// A village under the new township, then move the township to another county: the ranger of
	// the old county no longer sees it, a supervisor of the new county does.
	r = h.do("POST", "/v1/admin/regions", admin, map[string]any{"code": "211522199201", "name": "林场村", "level": "village", "parent_id": id})
	expectStatus(t, r, 201)
	r = h.do("PATCH", "/v1/admin/regions/"+id, admin, map[string]any{"parent_id": other["id"], "name": "新林场(迁)", "boundary": nil})
	expectStatus(t, r, 200)
	moved := r.json(t)
	if moved["parent_id"] != other["id"] || moved["name"] != "新林场(迁)" {
		t.Fatalf("moved %v", moved)
	}
	sup := regionCodes(t, h.do("GET", "/v1/regions", h.login("supervisor.qinghe", "p1"), nil))
	if sup["211522199"] == nil || sup["211522199201"] == nil {
		t.Fatal("the moved township and its village are not under the new county")
	}
	r = h.do("PATCH", "/v1/admin/regions/"+id, admin, map[string]any{"parent_id": all["2115"]["id"]})
	expectStatus(t, r, 422)
	expectStatus(t, h.do("PATCH", "/v1/admin/regions/"+id, admin, map[string]any{"level": "county"}), 400)
}
