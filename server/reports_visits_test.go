package server

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/google/uuid"
)

// visitPage is the JSON visit report as a client reads it.
type visitPage struct {
	Items      []render.VisitItem `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

func (e *reportEnv) visits(t *testing.T, user, query string) visitPage {
	t.Helper()
	r := e.h.do("GET", "/v1/reports/visits?"+query, e.token(user), nil)
	expectStatus(t, r, 200)
	var p visitPage
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func itemIDs(items []render.VisitItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID.String()
	}
	return out
}

func TestReportVisitsFilters(t *testing.T) {
	e := newReportEnv(t)
	o := e.oracle
	city := models.Scope{}
	qinghe, _ := e.h.store.GetRegionByCode(e.ctx, "211521")
	var township models.Region // a township of 青河县 with visits
	for _, ov := range o.visits {
		r := o.regions[*ov.rec.RegionID]
		if r.Level == models.LevelTownship && strings.HasPrefix(r.Path, qinghe.Path) {
			township = r
			break
		}
	}
	someVisit := o.visits[10].v
	drc, _ := e.h.store.GetUserByUsername(e.ctx, "dept.drc")
	now := time.Now().In(models.ChinaStandardTime)
	from, to := now.AddDate(0, 0, -10).Format(time.DateOnly), now.AddDate(0, 0, -5).Format(time.DateOnly)
	fromT, _ := time.ParseInLocation(time.DateOnly, from, models.ChinaStandardTime)
	toT, _ := time.ParseInLocation(time.DateOnly, to, models.ChinaStandardTime)
	toT = toT.AddDate(0, 0, 1)
	inPeriod := func(ov *oracleVisit) bool { return !ov.started.Before(fromT) && ov.started.Before(toT) }
	under := func(path string) func(*oracleVisit) bool {
		return func(ov *oracleVisit) bool { return strings.HasPrefix(ov.rec.RegionPath, path) }
	}
	cases := []struct {
		name  string
		query string
		keep  func(*oracleVisit) bool
		min   int // the fixture must give the filter something to keep
	}{
		{"everything", "", func(*oracleVisit) bool { return true }, 300},
		{"kind", "kind=fire_patrol", func(ov *oracleVisit) bool { return ov.v.Kind == models.KindFirePatrol }, 60},
		{"region by code", "region=211521", under(qinghe.Path), 10},
		{"region by id", "region=" + township.ID.String(), under(township.Path), 1},
		{"site", "site=" + someVisit.SiteID.String(), func(ov *oracleVisit) bool { return *ov.v.SiteID == *someVisit.SiteID }, 1},
		{"inspector", "inspector=" + drc.ID.String(), func(ov *oracleVisit) bool { return ov.v.InspectorID == drc.ID }, 10},
		{"status draft", "status=draft", func(ov *oracleVisit) bool { return ov.rec.Status == models.VisitDraft }, 1},
		{"status submitted", "status=submitted", func(ov *oracleVisit) bool { return ov.rec.Status == models.VisitSubmitted }, 200},
		{"period by dates", "from=" + from + "&to=" + to, inPeriod, 20},
		{"period by times", "from=" + url.QueryEscape(fromT.Format(time.RFC3339)) + "&to=" + url.QueryEscape(toT.UTC().Format(time.RFC3339)), inPeriod, 20},
		{"location ok", "location=ok", func(ov *oracleVisit) bool { return ov.location == "ok" }, 1},
		{"location fail", "location=fail", func(ov *oracleVisit) bool { return ov.location == "fail" }, 1},
		{"location none", "location=none", func(ov *oracleVisit) bool { return ov.location == "" }, 200},
		{"has findings", "has_findings=true", func(ov *oracleVisit) bool { return ov.findings > 0 }, 75},
		{"has no findings", "has_findings=false", func(ov *oracleVisit) bool { return ov.findings == 0 }, 200},
		{"overdue findings", "overdue_findings=true", func(ov *oracleVisit) bool { return ov.overdue > 0 }, 1},
		{"no overdue findings", "overdue_findings=false", func(ov *oracleVisit) bool { return ov.overdue == 0 }, 200},
		{"three filters", "kind=project_visit&region=211521&from=" + from,
			func(ov *oracleVisit) bool {
				return ov.v.Kind == models.KindProjectVisit && under(qinghe.Path)(ov) && !ov.started.Before(fromT)
			}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := o.expectVisits(city, false, c.keep)
			if len(want) < c.min {
				t.Fatalf("fixture: the filter keeps %d visits, want at least %d", len(want), c.min)
			}
			p := e.visits(t, "supervisor", c.query+"&limit=1000")
			if got := itemIDs(p.Items); !slices.Equal(got, want) {
				t.Fatalf("got %d visits, want %d (or another order)", len(got), len(want))
			}
			if p.NextCursor != nil {
				t.Fatalf("next_cursor %q on the only page", *p.NextCursor)
			}
			for _, it := range p.Items {
				checkVisitItem(t, o, it)
			}
		})
	}
}

// checkVisitItem compares one row with the oracle, field by field.
func checkVisitItem(t *testing.T, o *reportOracle, it render.VisitItem) {
	t.Helper()
	ov := o.byID[it.ID]
	if ov == nil {
		t.Fatalf("unknown visit %s", it.ID)
	}
	site := o.sites[*ov.v.SiteID]
	region := o.regions[*ov.rec.RegionID]
	wantTownship := ""
	for _, r := range o.regions {
		if r.Level == models.LevelTownship && strings.HasPrefix(region.Path, r.Path) {
			wantTownship = r.Name
		}
	}
	started, _ := time.Parse(time.RFC3339, *it.StartedAt)
	var photos []uuid.UUID
	for _, p := range it.Photos {
		photos = append(photos, p.ID)
		if p.URL != "/v1/photos/"+p.ID.String()+"/content" || p.ThumbnailURL != "/v1/photos/"+p.ID.String()+"/thumbnail" {
			t.Errorf("photo links %q %q", p.URL, p.ThumbnailURL)
		}
	}
	slices.SortFunc(photos, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	wantPhotos := slices.Clone(ov.photos)
	slices.SortFunc(wantPhotos, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	got := []any{it.Kind, it.Status, *it.SiteID, *it.SiteName, *it.County, deref(it.Township), *it.InspectorID,
		*it.InspectorName, started.Equal(ov.started), it.Findings, it.OverdueFindings, deref(it.Location), it.PhotoCount,
		it.Position.Lat, it.Position.Lon}
	want := []any{ov.v.Kind, ov.rec.Status, *ov.v.SiteID, site.Name, o.countyOf(ov.rec.RegionPath), wantTownship,
		ov.v.InspectorID, o.users[ov.v.InspectorID], true, ov.findings, ov.overdue, ov.location, len(ov.photos),
		ov.v.Position.Lat, ov.v.Position.Lon}
	if !slices.EqualFunc(got, want, func(a, b any) bool { return a == b }) || !slices.Equal(photos, wantPhotos) {
		t.Fatalf("visit %s:\n got %v %v\nwant %v %v", it.ID, got, photos, want, wantPhotos)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestReportVisitsPagination(t *testing.T) {
	e := newReportEnv(t)
	for _, sort := range []string{"", "&sort=started_at", "&sort=-started_at"} {
		for _, filter := range []string{"", "&kind=planting_check&has_findings=false"} {
			whole := e.visits(t, "supervisor", "limit=1000"+sort+filter)
			var joined []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("pagination does not end")
				}
				p := e.visits(t, "supervisor", "limit=7"+sort+filter+cursor)
				if len(p.Items) > 7 {
					t.Fatalf("page of %d", len(p.Items))
				}
				joined = append(joined, itemIDs(p.Items)...)
				if p.NextCursor == nil {
					break
				}
				cursor = "&cursor=" + *p.NextCursor
			}
			if !slices.Equal(joined, itemIDs(whole.Items)) {
				t.Fatalf("sort %q filter %q: pages joined give %d visits, one page %d", sort, filter, len(joined), len(whole.Items))
			}
			if want := e.oracle.expectVisits(models.Scope{}, sort == "&sort=started_at", func(ov *oracleVisit) bool {
				return filter == "" || (ov.v.Kind == models.KindPlantingCheck && ov.findings == 0)
			}); !slices.Equal(joined, want) {
				t.Fatalf("sort %q filter %q: order differs from the oracle's", sort, filter)
			}
		}
	}
}

func TestReportVisitsScope(t *testing.T) {
	e := newReportEnv(t)
	o := e.oracle
	qinghe, _ := e.h.store.GetRegionByCode(e.ctx, "211521")
	kangbei, _ := e.h.store.GetRegionByCode(e.ctx, "211522")
	seen := map[string][]string{}
	for user, region := range map[string]models.Region{"supervisor.qinghe": qinghe, "supervisor.kangbei": kangbei} {
		scope := models.Scope{RegionID: &region.ID, RegionPath: region.Path}
		want := o.expectVisits(scope, false, func(*oracleVisit) bool { return true })
		if len(want) == 0 {
			t.Fatalf("fixture: no visits in %s", region.Name)
		}
		for _, query := range []string{"limit=1000", "limit=1000&region=" + o.regionCity().Code} {
			p := e.visits(t, user, query)
			if got := itemIDs(p.Items); !slices.Equal(got, want) {
				t.Fatalf("%s %s: %d visits, want the %d of %s", user, query, len(got), len(want), region.Name)
			}
			for _, it := range p.Items {
				if *it.County != region.Name {
					t.Fatalf("%s sees a visit in %s", user, *it.County)
				}
			}
		}
		seen[user] = want
		// exports keep the scope too
		r := e.h.do("GET", "/v1/reports/visits?format=csv", e.token(user), nil)
		expectStatus(t, r, 200)
		if rows := readCSV(t, r.Body); len(rows)-1 != len(want) {
			t.Fatalf("%s: CSV has %d rows, want %d", user, len(rows)-1, len(want))
		}
	}
	for _, id := range seen["supervisor.qinghe"] {
		if slices.Contains(seen["supervisor.kangbei"], id) {
			t.Fatalf("visit %s seen by both county supervisors", id)
		}
	}
	// a county supervisor naming the other county is refused, naming the parameter
	r := e.h.do("GET", "/v1/reports/visits?region=211522", e.token("supervisor.qinghe"), nil)
	expectStatus(t, r, 403)
	if r.json(t)["param"] != "region" {
		t.Fatalf("403 without param: %s", r.Body)
	}
	// the admin sees everything; field roles may not read reports
	if p := e.visits(t, "admin", "limit=1000"); len(p.Items) != len(o.visits) {
		t.Fatalf("admin sees %d visits, want %d", len(p.Items), len(o.visits))
	}
	for _, user := range []string{"inspector", "ranger.dongsheng", "dept.drc"} {
		for _, path := range []string{"/v1/reports/visits", "/v1/reports/findings"} {
			r := e.h.do("GET", path, e.token(user), nil)
			expectStatus(t, r, 403)
			if typ := r.problemType(t); typ != "forbidden" {
				t.Fatalf("%s %s: problem %s", user, path, typ)
			}
		}
	}
	if r := e.h.do("GET", "/v1/reports/visits", "", nil); r.Status != 401 {
		t.Fatalf("no token: %d", r.Status)
	}
}

func (o *reportOracle) regionCity() models.Region {
	for _, r := range o.regions {
		if r.Level == models.LevelCity {
			return r
		}
	}
	return models.Region{}
}

func TestReportVisitsBadParams(t *testing.T) {
	e := newReportEnv(t)
	cases := []struct{ query, param string }{
		{"kind=forestry", "kind"},
		{"region=999999", "region"},
		{"site=abc", "site"},
		{"inspector=42", "inspector"},
		{"status=done", "status"},
		{"from=yesterday", "from"},
		{"to=2026-13-01", "to"},
		{"from=2026-03-10&to=2026-03-01", "to"},
		{"location=maybe", "location"},
		{"has_findings=yes", "has_findings"},
		{"overdue_findings=2", "overdue_findings"},
		{"sort=site", "sort"},
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"cursor=!!", "cursor"},
		{"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("x|y")), "cursor"},
		{"format=pdf", "format"},
		{"format=csv&cursor=abc", "cursor"},
		{"format=csv&limit=0", "limit"},
		{"has_finding=true", "has_finding"},
		{"kind=fire_patrol&kind=project_visit", "kind"},
		{"site=" + strings.Repeat("a", 201), "site"},
	}
	for _, c := range cases {
		r := e.h.do("GET", "/v1/reports/visits?"+c.query, e.token("supervisor"), nil)
		expectStatus(t, r, 400)
		if typ := r.problemType(t); typ != "bad-request" && (c.param != "cursor" || typ != "bad-cursor") {
			t.Fatalf("%s: problem %s", c.query, typ)
		}
		if m := r.json(t); m["param"] != c.param || !strings.HasPrefix(m["detail"].(string), c.param+":") {
			t.Fatalf("%s: want param %q named: %s", c.query, c.param, r.Body)
		}
	}
}
