package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// siteApp is the harness seen from the site tests: every exchange goes through the real router
// and is checked against openapi.yaml.
type siteApp struct {
	t testing.TB
	h *harness
}

func newSiteApp(t testing.TB) *siteApp {
	t.Helper()
	return &siteApp{t: t, h: newHarness(t)}
}

func (a *siteApp) do(method, path, token string, body any) resp {
	a.t.Helper()
	return a.h.do(method, path, token, body)
}

// Demo regions: a county, two of its towns, a village of the first.
const (
	demoCounty   = "211521"
	demoTown     = "211521101"
	demoTown2    = "211521102"
	demoVillage  = "211521101201"
	demoBoundary = `{"type":"Polygon","coordinates":[[[121.30,42.30],[121.40,42.30],[121.40,42.40],[121.30,42.40],[121.30,42.30]]]}`
)

// validSites returns one valid create body per site kind.
func validSites() map[string]map[string]any {
	return map[string]map[string]any{
		"project": {"kind": "project", "name": "年产10万吨生物可降解材料项目", "region_code": demoTown,
			"location": map[string]any{"lat": 42.36, "lon": 121.35}, "investment_wan": 52000, "stage": "under_construction",
			"development_zone": "青河经济开发区", "responsible_leader": "王志强", "lead_unit": "市发改委",
			"planned_start": "2026-03-15", "planned_finish": "2027-10-31"},
		"village_plot": {"kind": "village_plot", "name": "一组玉米地", "region_code": demoVillage,
			"location": map[string]any{"lat": 42.37, "lon": 121.36}, "crop": "玉米", "planned_area_mu": 850.5},
		"patrol_area": {"kind": "patrol_area", "name": "青河镇北山林区", "region_code": demoTown,
			"boundary": json.RawMessage(demoBoundary), "responsible_person": "赵刚"},
		"dealer": {"kind": "dealer", "name": "丰收农资店", "region_code": demoTown,
			"location": map[string]any{"lat": 42.361, "lon": 121.351}, "licence_number": "91211521MA0XYZ123K", "owner": "刘春生"},
	}
}

func withFields(base map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<delete>" {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func regionByCode(t testing.TB, st *storage.Store, code string) models.Region {
	t.Helper()
	r, err := st.GetRegionByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAdminSiteCreateEachKind(t *testing.T) {
	a := newSiteApp(t)
	admin := a.h.login("admin", "admin-laptop")
	ctx := context.Background()
	work := map[string]models.Kind{"project": models.KindProjectVisit, "village_plot": models.KindPlantingCheck,
		"patrol_area": models.KindFirePatrol, "dealer": models.KindAgriInputCheck}
	for kind, body := range validSites() {
		r := a.do("POST", "/v1/admin/sites", admin, body)
		expectStatus(t, r, 201)
		got := r.json(t)
		if got["kind"] != kind || got["work_kind"] != string(work[kind]) || got["status"] != "active" ||
			got["version"] != float64(1) || got["archived_at"] != nil || got["name"] != body["name"] {
			t.Fatalf("%s: created %s", kind, r.Body)
		}
		id := uuid.MustParse(got["id"].(string))
		region := regionByCode(t, a.h.store, body["region_code"].(string))
		rec, err := a.h.store.GetRecord(ctx, models.TypeSite, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Kind != work[kind] || rec.RegionPath != region.Path || *rec.RegionID != region.ID || rec.Status != "active" {
			t.Fatalf("%s: stored %+v", kind, rec)
		}
		expectStatus(t, a.do("GET", "/v1/admin/sites/"+id.String(), admin, nil), 200)
		// Phones whose scope covers the region and the kind see the site; others do not.
		if cs := siteChanges(t, a.h.store, models.Scope{RegionPath: region.Path, Kinds: []models.Kind{work[kind]}}, id); len(cs) != 1 || cs[0].Op != "put" {
			t.Fatalf("%s: changes %+v", kind, cs)
		}
		other := models.KindProjectVisit
		if work[kind] == other {
			other = models.KindFirePatrol
		}
		if cs := siteChanges(t, a.h.store, models.Scope{Kinds: []models.Kind{other}}, id); len(cs) != 0 {
			t.Fatalf("%s: a %s phone hears of it: %+v", kind, other, cs)
		}
	}
	if got := a.do("GET", "/v1/admin/sites/"+uuid.NewString(), admin, nil); got.Status != 404 || got.problemType(t) != "not-found" {
		t.Fatalf("unknown site: %d %s", got.Status, got.Body)
	}
	expectStatus(t, a.do("GET", "/v1/admin/sites/not-a-uuid", admin, nil), 404)

	// A client-chosen id is kept; creating it again is a 409.
	id := uuid.NewString()
	body := withFields(validSites()["dealer"], "id", id)
	r := a.do("POST", "/v1/admin/sites", admin, body)
	expectStatus(t, r, 201)
	if r.json(t)["id"] != id {
		t.Fatalf("id not kept: %s", r.Body)
	}
	r = a.do("POST", "/v1/admin/sites", admin, body)
	if r.Status != 409 || r.problemType(t) != "conflict" {
		t.Fatalf("duplicate id: %d %s", r.Status, r.Body)
	}
	entries, err := a.h.store.ListAudit(ctx, storage.AuditFilter{Action: "site.create", Limit: 100})
	if err != nil || len(entries) != 5 {
		t.Fatalf("audit: %d entries, %v", len(entries), err)
	}
}

// siteChanges returns the change-log rows of one site that a phone of the scope would read.
func siteChanges(t testing.TB, st *storage.Store, scope models.Scope, id uuid.UUID) []models.Change {
	t.Helper()
	cs, _, err := st.Changes(context.Background(), storage.ChangeFilter{Limit: 10000, Scope: scope, UserID: uuid.New(), ClientID: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	var out []models.Change
	for _, c := range cs {
		if c.RecordType == models.TypeSite && c.RecordID == id.String() {
			out = append(out, c)
		}
	}
	return out
}

func TestAdminSiteValidation(t *testing.T) {
	a := newSiteApp(t)
	admin := a.h.login("admin", "admin-laptop")
	v := validSites()
	openRing := `{"type":"Polygon","coordinates":[[[121.3,42.3],[121.4,42.3],[121.4,42.4],[121.3,42.4]]]}`
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"unknown kind", withFields(v["dealer"], "kind", "shop"), "kind"},
		{"missing kind", withFields(v["dealer"], "kind", "<delete>"), "kind"},
		{"blank name", withFields(v["dealer"], "name", "  "), "name"},
		{"long name", withFields(v["dealer"], "name", strings.Repeat("农", 201)), "name"},
		{"NUL in name", withFields(v["dealer"], "name", "a\x00b"), "name"},
		{"no region", withFields(v["dealer"], "region_code", "<delete>"), "region_id"},
		{"unknown region", withFields(v["dealer"], "region_code", "999999"), "region_code"},
		{"unknown region id", withFields(v["dealer"], "region_code", "<delete>", "region_id", uuid.NewString()), "region_id"},
		{"region id and code", withFields(v["dealer"], "region_id", uuid.NewString()), "region_code"},
		{"dealer in a village", withFields(v["dealer"], "region_code", demoVillage), "region_code"},
		{"dealer in a county", withFields(v["dealer"], "region_code", demoCounty), "region_code"},
		{"plot in a township", withFields(v["village_plot"], "region_code", demoTown), "region_code"},
		{"patrol area in a village", withFields(v["patrol_area"], "region_code", demoVillage), "region_code"},
		{"project in a village", withFields(v["project"], "region_code", demoVillage), "region_code"},
		{"nil id", withFields(v["dealer"], "id", uuid.Nil.String()), "id"},
		{"latitude out of range", withFields(v["dealer"], "location", map[string]any{"lat": 91, "lon": 121}), "location.lat"},
		{"longitude out of range", withFields(v["project"], "location", map[string]any{"lat": 42, "lon": -181}), "location.lon"},
		{"no location", withFields(v["village_plot"], "location", "<delete>"), "location"},
		{"negative investment", withFields(v["project"], "investment_wan", -1), "investment_wan"},
		{"huge investment", withFields(v["project"], "investment_wan", 2e8), "investment_wan"},
		{"no investment", withFields(v["project"], "investment_wan", "<delete>"), "investment_wan"},
		{"unknown stage", withFields(v["project"], "stage", "dreaming"), "stage"},
		{"no stage", withFields(v["project"], "stage", "<delete>"), "stage"},
		{"no responsible leader", withFields(v["project"], "responsible_leader", ""), "responsible_leader"},
		{"no lead unit", withFields(v["project"], "lead_unit", "<delete>"), "lead_unit"},
		{"long development zone", withFields(v["project"], "development_zone", strings.Repeat("区", 101)), "development_zone"},
		{"bad start date", withFields(v["project"], "planned_start", "2026-13-01"), "planned_start"},
		{"finish before start", withFields(v["project"], "planned_finish", "2026-03-14"), "planned_finish"},
		{"no crop", withFields(v["village_plot"], "crop", "<delete>"), "crop"},
		{"zero area", withFields(v["village_plot"], "planned_area_mu", 0), "planned_area_mu"},
		{"no area", withFields(v["village_plot"], "planned_area_mu", "<delete>"), "planned_area_mu"},
		{"no boundary", withFields(v["patrol_area"], "boundary", "<delete>"), "boundary"},
		{"open ring", withFields(v["patrol_area"], "boundary", json.RawMessage(openRing)), "boundary"},
		{"point boundary", withFields(v["patrol_area"], "boundary", json.RawMessage(`{"type":"Point","coordinates":[121.3,42.3]}`)), "boundary"},
		{"no responsible person", withFields(v["patrol_area"], "responsible_person", "<delete>"), "responsible_person"},
		{"bad licence", withFields(v["dealer"], "licence_number", "no. 12"), "licence_number"},
		{"no licence", withFields(v["dealer"], "licence_number", "<delete>"), "licence_number"},
		{"no owner", withFields(v["dealer"], "owner", "<delete>"), "owner"},
		{"field of another kind", withFields(v["dealer"], "crop", "玉米"), "crop"},
		{"boundary on a dealer", withFields(v["dealer"], "boundary", json.RawMessage(demoBoundary)), "boundary"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do("POST", "/v1/admin/sites", admin, tc.body)
			if r.Status != 422 || r.problemType(t) != "validation" {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			var fields []string
			for _, e := range r.json(t)["errors"].([]any) {
				fields = append(fields, e.(map[string]any)["field"].(string))
			}
			if len(fields) != 1 || fields[0] != tc.field {
				t.Fatalf("errors on %v, want only %s: %s", fields, tc.field, r.Body)
			}
		})
	}
	expectStatus(t, a.do("POST", "/v1/admin/sites", admin, withFields(v["dealer"], "surprise", true)), 400)
	expectStatus(t, a.do("POST", "/v1/admin/sites", admin, withFields(v["dealer"], "location", map[string]any{"lat": 42})), 400)
	// Nothing was stored by the bad requests.
	r := a.do("GET", "/v1/admin/sites", admin, nil)
	expectStatus(t, r, 200)
	if n := len(r.json(t)["sites"].([]any)); n != 0 {
		t.Fatalf("bad requests created %d sites", n)
	}
}

func TestAdminSitesNeedAdmin(t *testing.T) {
	a := newSiteApp(t)
	id := uuid.NewString()
	for _, who := range []string{"inspector", "supervisor", "ranger.dongsheng", "dept.market"} {
		tok := a.h.login(who, "phone-"+who)
		for _, rq := range []struct{ method, path string }{{"GET", "/v1/admin/sites"}, {"POST", "/v1/admin/sites"},
			{"GET", "/v1/admin/sites/" + id}, {"PATCH", "/v1/admin/sites/" + id}, {"POST", "/v1/admin/sites/" + id + "/archive"}} {
			var body any
			if rq.method != "GET" {
				body = validSites()["dealer"]
			}
			r := a.do(rq.method, rq.path, tok, body)
			if r.Status != 403 || r.problemType(t) != "forbidden" {
				t.Fatalf("%s %s as %s: %d %s", rq.method, rq.path, who, r.Status, r.Body)
			}
		}
	}
	expectStatus(t, a.do("GET", "/v1/admin/sites", "", nil), 401)
	expectStatus(t, a.do("POST", "/v1/admin/sites", "", validSites()["dealer"]), 401)
}

func TestAdminSiteListFilters(t *testing.T) {
	a := newSiteApp(t)
	admin := a.h.login("admin", "admin-laptop")
	v := validSites()
	ids := map[string]string{}
	for _, b := range []map[string]any{v["project"], v["village_plot"], v["patrol_area"], v["dealer"],
		withFields(v["dealer"], "name", "绿源种子站", "region_code", demoTown2),
		withFields(v["project"], "name", "县城供热管网改造", "region_code", demoCounty)} {
		r := a.do("POST", "/v1/admin/sites", admin, b)
		expectStatus(t, r, 201)
		ids[b["name"].(string)] = r.json(t)["id"].(string)
	}
	list := func(query string) []string {
		t.Helper()
		r := a.do("GET", "/v1/admin/sites"+query, admin, nil)
		expectStatus(t, r, 200)
		var names []string
		for _, s := range r.json(t)["sites"].([]any) {
			names = append(names, s.(map[string]any)["name"].(string))
		}
		return names
	}
	if n := list(""); len(n) != 6 {
		t.Fatalf("all: %v", n)
	}
	if n := list("?kind=dealer"); len(n) != 2 {
		t.Fatalf("dealers: %v", n)
	}
	if n := list("?kind=dealer&region=" + demoTown2); len(n) != 1 || n[0] != "绿源种子站" {
		t.Fatalf("dealers of town 2: %v", n)
	}
	if n := list("?region=" + demoTown); len(n) != 4 { // the village plot lies under the town
		t.Fatalf("town 1: %v", n)
	}
	if n := list("?region=" + demoCounty + "&kind=project"); len(n) != 2 {
		t.Fatalf("county projects: %v", n)
	}
	if n := list("?q=" + url.QueryEscape("种子")); len(n) != 1 || n[0] != "绿源种子站" {
		t.Fatalf("q: %v", n)
	}
	if n := list("?q=" + url.QueryEscape("%")); len(n) != 0 {
		t.Fatalf("q=%% matches %v", n)
	}
	expectStatus(t, a.do("POST", "/v1/admin/sites/"+ids["丰收农资店"]+"/archive", admin, nil), 200)
	if n := list("?status=archived"); len(n) != 1 || n[0] != "丰收农资店" {
		t.Fatalf("archived: %v", n)
	}
	if n := list("?status=active"); len(n) != 5 {
		t.Fatalf("active: %v", n)
	}
	// Pages of 4 walk the same list in the same order.
	all := list("")
	var walked []string
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		q := "/v1/admin/sites?limit=4"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := a.do("GET", q, admin, nil)
		expectStatus(t, r, 200)
		page := r.json(t)
		for _, s := range page["sites"].([]any) {
			walked = append(walked, s.(map[string]any)["name"].(string))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(walked, ",") != strings.Join(all, ",") {
		t.Fatalf("pages %v, one list %v", walked, all)
	}
	for _, q := range []string{"?kind=shop", "?region=nowhere", "?status=gone", "?limit=0", "?cursor=***",
		"?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("not-a-uuid")), "?q=" + strings.Repeat("x", 65)} {
		expectStatus(t, a.do("GET", "/v1/admin/sites"+q, admin, nil), 400)
	}
}

func TestAdminSiteUpdateAndMove(t *testing.T) {
	a := newSiteApp(t)
	admin := a.h.login("admin", "admin-laptop")
	ctx := context.Background()
	r := a.do("POST", "/v1/admin/sites", admin, validSites()["patrol_area"])
	expectStatus(t, r, 201)
	id := uuid.MustParse(r.json(t)["id"].(string))
	path := "/v1/admin/sites/" + id.String()
	town, town2 := regionByCode(t, a.h.store, demoTown), regionByCode(t, a.h.store, demoTown2)

	// Rules are checked on the whole site after the change; a refused change stores nothing.
	for body, field := range map[string]string{
		`{"responsible_person": null}`:                     "responsible_person",
		`{"boundary": null}`:                               "boundary",
		`{"location": {"lat": 100, "lon": 121}}`:           "location.lat",
		`{"region_code": "` + demoVillage + `"}`:           "region_code",
		`{"region_id": null}`:                              "region_id",
		`{"crop": "玉米"}`:                                   "crop",
		`{"name": ""}`:                                     "name",
		`{"region_code": "` + demoTown2 + `", "name": ""}`: "name",
	} {
		r := a.do("PATCH", path, admin, json.RawMessage(body))
		if r.Status != 422 || !strings.Contains(string(r.Body), `"field":"`+field+`"`) {
			t.Fatalf("%s: %d %s", body, r.Status, r.Body)
		}
	}
	expectStatus(t, a.do("PATCH", path, admin, map[string]any{"kind": "dealer"}), 400)
	expectStatus(t, a.do("PATCH", "/v1/admin/sites/"+uuid.NewString(), admin, map[string]any{"name": "x"}), 404)
	rec, _ := a.h.store.GetRecord(ctx, models.TypeSite, id)
	if rec.Version != 1 || rec.RegionPath != town.Path {
		t.Fatalf("refused patches changed the site: %+v", rec)
	}
	// An empty patch changes nothing.
	r = a.do("PATCH", path, admin, map[string]any{})
	expectStatus(t, r, 200)
	if r.json(t)["version"] != float64(1) {
		t.Fatalf("empty patch: %s", r.Body)
	}

	// Renaming and setting an optional location: a new version, same place.
	r = a.do("PATCH", path, admin, map[string]any{"name": "北山林区（东片）", "location": map[string]any{"lat": 42.35, "lon": 121.35}})
	expectStatus(t, r, 200)
	got := r.json(t)
	if got["version"] != float64(2) || got["name"] != "北山林区（东片）" || got["responsible_person"] != "赵刚" || got["boundary"] == nil {
		t.Fatalf("patched %s", r.Body)
	}

	// Re-assigning to another township moves the record; phones of the old township get the change
	// (with the old path, so they drop the site), phones of the new one get it too.
	r = a.do("PATCH", path, admin, map[string]any{"region_code": demoTown2, "responsible_person": "孙伟"})
	expectStatus(t, r, 200)
	if got := r.json(t); got["region_id"] != town2.ID.String() || got["version"] != float64(3) {
		t.Fatalf("moved %s", r.Body)
	}
	rec, _ = a.h.store.GetRecord(ctx, models.TypeSite, id)
	if rec.RegionPath != town2.Path || *rec.RegionID != town2.ID || rec.Version != 3 {
		t.Fatalf("stored %+v", rec)
	}
	oldScope := models.Scope{RegionID: &town.ID, RegionPath: town.Path}
	cs := siteChanges(t, a.h.store, oldScope, id)
	last := cs[len(cs)-1]
	if last.Version != 3 || last.RegionPath != town2.Path || last.OldRegionPath == nil || *last.OldRegionPath != town.Path ||
		last.Kind != models.KindFirePatrol {
		t.Fatalf("old township's last change %+v", last)
	}
	if cs := siteChanges(t, a.h.store, models.Scope{RegionID: &town2.ID, RegionPath: town2.Path}, id); len(cs) != 1 {
		t.Fatalf("new township sees %d changes, want 1", len(cs))
	}
	// A change that keeps the region logs no old path.
	expectStatus(t, a.do("PATCH", path, admin, map[string]any{"region_id": town2.ID.String()}), 200)
	cs = siteChanges(t, a.h.store, models.Scope{}, id)
	if last := cs[len(cs)-1]; last.OldRegionPath != nil || last.Version != 4 {
		t.Fatalf("same-region change %+v", last)
	}
	entries, err := a.h.store.ListAudit(ctx, storage.AuditFilter{TargetID: id.String(), Limit: 100})
	if err != nil || len(entries) != 4 || entries[0].Action != "site.update" {
		t.Fatalf("audit %+v %v", entries, err)
	}
}

func TestAdminSiteArchive(t *testing.T) {
	a := newSiteApp(t)
	admin := a.h.login("admin", "admin-laptop")
	ctx := context.Background()
	r := a.do("POST", "/v1/admin/sites", admin, validSites()["project"])
	expectStatus(t, r, 201)
	id := uuid.MustParse(r.json(t)["id"].(string))
	path := "/v1/admin/sites/" + id.String()

	r = a.do("POST", path+"/archive", admin, nil)
	expectStatus(t, r, 200)
	got := r.json(t)
	if got["status"] != "archived" || got["archived_at"] == nil || got["version"] != float64(2) {
		t.Fatalf("archived %s", r.Body)
	}
	cs := siteChanges(t, a.h.store, models.Scope{}, id)
	if len(cs) != 2 || cs[1].Op != "remove" || cs[1].Version != 2 {
		t.Fatalf("changes %+v", cs)
	}
	// Bootstraps leave it out; it stays readable for admins.
	recs, err := a.h.store.ScanRecords(ctx, models.TypeSite, models.Scope{}, uuid.Nil, 100)
	if err != nil || len(recs) != 0 {
		t.Fatalf("bootstrap sees %d sites, %v", len(recs), err)
	}
	expectStatus(t, a.do("GET", path, admin, nil), 200)
	// Archiving again changes nothing; an archived site cannot be edited.
	r = a.do("POST", path+"/archive", admin, nil)
	expectStatus(t, r, 200)
	if r.json(t)["version"] != float64(2) {
		t.Fatalf("archived twice: %s", r.Body)
	}
	r = a.do("PATCH", path, admin, map[string]any{"name": "x"})
	if r.Status != 409 || r.problemType(t) != "conflict" {
		t.Fatalf("patch archived: %d %s", r.Status, r.Body)
	}
	expectStatus(t, a.do("POST", "/v1/admin/sites/"+uuid.NewString()+"/archive", admin, nil), 404)
	entries, _ := a.h.store.ListAudit(ctx, storage.AuditFilter{Action: "site.archive", Limit: 10})
	if len(entries) != 1 {
		t.Fatalf("archive audit entries %d", len(entries))
	}
}

// TestSitesReachPhones: a ranger's phone receives the patrol area of its township, a remove when the
// area moves to another township, and nothing of kinds outside its scope.
func TestSitesReachPhones(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin", "admin-laptop")
	ranger := h.syncPhone("ranger.dongsheng", "ranger-phone") // 211522105, fire_patrol + planting_check
	area := withFields(validSites()["patrol_area"], "region_code", "211522105")
	dealer := withFields(validSites()["dealer"], "region_code", "211522105")
	r := h.do("POST", "/v1/admin/sites", admin, area)
	expectStatus(t, r, 201)
	id := r.json(t)["id"].(string)
	r = h.do("POST", "/v1/admin/sites", admin, dealer)
	expectStatus(t, r, 201)
	dealerID := r.json(t)["id"].(string)
	all, _ := ranger.pullAll(5000)
	c, ok := findChange(all, "site", id)
	if !ok || c.Op != "put" || changeData(t, c)["work_kind"] != "fire_patrol" {
		t.Fatalf("bootstrap: %+v", c)
	}
	if _, ok := findChange(all, "site", dealerID); ok {
		t.Fatal("a fire-patrol phone received a dealer")
	}
	expectStatus(t, h.do("PATCH", "/v1/admin/sites/"+id, admin, map[string]any{"region_code": "211522101"}), 200)
	changes, _ := ranger.pullAll(500)
	if c, ok := findChange(changes, "site", id); !ok || c.Op != "remove" || c.Version != 2 {
		t.Fatalf("after the move: %+v", c)
	}
	expectStatus(t, h.do("PATCH", "/v1/admin/sites/"+id, admin, map[string]any{"region_code": "211522105"}), 200)
	changes, _ = ranger.pullAll(500)
	if c, ok := findChange(changes, "site", id); !ok || c.Op != "put" || c.Version != 3 {
		t.Fatalf("after moving back: %+v", c)
	}
	expectStatus(t, h.do("POST", "/v1/admin/sites/"+id+"/archive", admin, nil), 200)
	changes, _ = ranger.pullAll(500)
	if c, ok := findChange(changes, "site", id); !ok || c.Op != "remove" || c.Version != 4 {
		t.Fatalf("after archiving: %+v", c)
	}
}
