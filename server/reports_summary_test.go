package server

import (
	"testing"
	"time"
)

var timeNow = time.Now

func TestSummaryScopeIsolation(t *testing.T) {
	f := newSummaryFixture(t)
	qinghe := f.h.login("supervisor.qinghe", "laptop-qinghe")
	// Another county is outside the scope: 403 naming the parameter.
	r := f.h.do("GET", "/v1/reports/summary?region=211522&from="+f.from+"&to="+f.to, qinghe, nil)
	if r.Status != 403 || r.problemType(t) != "forbidden" || r.json(t)["param"] != "region" {
		t.Fatalf("other county: %d %s", r.Status, r.Body)
	}
	// No region, or the city (which contains the scope), reports Qinghe county, where nothing happened.
	for _, q := range []string{"", "region=" + f.h.regionID("2115").String() + "&"} {
		s := f.summaryOf(t, qinghe, q+"from="+f.from+"&to="+f.to)
		if s.Region.Code != "211521" || s.By != "township" || s.Total.AllKinds.Visits != 0 ||
			s.Total.AllKinds.Findings.Total != 0 || s.Total.Projects.Projects != 0 {
			t.Fatalf("%q: Qinghe sees %+v %+v %+v", q, s.Region, s.Total.AllKinds, s.Total.Projects)
		}
		for _, row := range s.Rows {
			if row.AllKinds.Visits != 0 {
				t.Fatalf("row %s has visits", row.Region.Name)
			}
		}
	}
	// Only supervisors and admins read summaries.
	insp := f.h.login("inspector", "phone-2")
	if r := f.h.do("GET", "/v1/reports/summary", insp, nil); r.Status != 403 || r.problemType(t) != "forbidden" {
		t.Fatalf("inspector: %d %s", r.Status, r.Body)
	}
	if r := f.h.do("GET", "/v1/reports/summary", "", nil); r.Status != 401 {
		t.Fatalf("anonymous: %d", r.Status)
	}
	admin := f.h.login("admin", "admin-laptop")
	if s := f.summaryOf(t, admin, "from="+f.from+"&to="+f.to); s.Total.AllKinds.Visits != 9 {
		t.Fatalf("admin total %+v", s.Total.AllKinds)
	}
}

func TestSummaryParams(t *testing.T) {
	h := newHarness(t)
	sup := h.login("supervisor", "laptop-sup")
	for _, c := range []struct {
		query  string
		status int
		slug   string
		param  string
	}{
		{"from=2026-13-01", 400, "bad-request", "from"},
		{"to=20260301", 400, "bad-request", "to"},
		{"from=2026-3-1", 400, "bad-request", "from"},
		{"by=village", 400, "bad-request", "by"},
		{"region=no-such-region", 400, "bad-request", "region"},
		{"regoin=211522", 400, "bad-request", "regoin"},
		{"by=county&by=township", 400, "bad-request", "by"},
		{"from=2026-03-02&to=2026-03-01", 422, "validation", ""},
		{"from=2024-01-01&to=2026-03-01", 422, "validation", ""},
		{"region=211522105&by=county", 422, "validation", ""},
	} {
		r := h.do("GET", "/v1/reports/summary?"+c.query, sup, nil)
		if r.Status != c.status || r.problemType(t) != c.slug {
			t.Fatalf("%s: %d %s", c.query, r.Status, r.Body)
		}
		if c.param != "" && r.json(t)["param"] != c.param {
			t.Fatalf("%s: param %v, want %s", c.query, r.json(t)["param"], c.param)
		}
	}
	// Defaults: this month, by county for the city; a township's rows are its own.
	r := h.do("GET", "/v1/reports/summary", sup, nil)
	expectStatus(t, r, 200)
	m := r.json(t)
	today := summaryToday(timeNow())
	if m["by"] != "county" || m["from"] != today.Format("2006-01")+"-01" || m["as_of"] != today.Format("2006-01-02") {
		t.Fatalf("defaults: by %v from %v as_of %v", m["by"], m["from"], m["as_of"])
	}
	r = h.do("GET", "/v1/reports/summary?region=211522105", sup, nil)
	expectStatus(t, r, 200)
	if rows := r.json(t)["rows"].([]any); len(rows) != 1 {
		t.Fatalf("a township's summary has %d rows", len(rows))
	}
}
