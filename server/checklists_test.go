package server

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/synctest"
	"github.com/google/uuid"
)

// checklistApp is the harness seen from the checklist tests: every exchange goes through the real
// router and is checked against openapi.yaml, as siteApp does.
type checklistApp struct {
	t     testing.TB
	h     *harness
	store *storage.Store
}

func newChecklistApp(t testing.TB) *checklistApp {
	t.Helper()
	h := newHarness(t)
	return &checklistApp{t: t, h: h, store: h.store}
}

func (a *checklistApp) do(method, path, token string, body any) resp {
	a.t.Helper()
	return a.h.do(method, path, token, body)
}

func (a *checklistApp) login(username string) string {
	a.t.Helper()
	return a.h.login(username, username+"-phone")
}

func checklistBody() map[string]any {
	return map[string]any{"kind": "fire_patrol", "name": "森林防火巡护检查表", "items": []map[string]any{
		{"key": "hazards", "label": "发现隐患", "type": "multi_choice", "required": true,
			"options": []string{"smoking", "straw_burning"}, "option_labels": map[string]string{"smoking": "吸烟", "straw_burning": "焚烧秸秆"}},
		{"key": "warnings_given", "label": "劝阻次数", "type": "number", "min": 0, "integer": true, "unit": "次"},
	}}
}

// checklistChanges returns the change-log rows of one checklist.
func checklistChanges(t testing.TB, st *storage.Store, id string) []models.Change {
	t.Helper()
	cs, _, err := st.Changes(context.Background(), storage.ChangeFilter{Limit: 10000, UserID: uuid.New(), ClientID: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	var out []models.Change
	for _, c := range cs {
		if c.RecordType == models.TypeChecklist && c.RecordID == id {
			out = append(out, c)
		}
	}
	return out
}

func TestChecklistCreateAndPublish(t *testing.T) {
	a := newChecklistApp(t)
	admin := a.login("admin")
	ctx := context.Background()

	r := a.do("POST", "/v1/checklists", admin, checklistBody())
	expectStatus(t, r, 201)
	got := r.json(t)
	id := got["id"].(string)
	vs := got["versions"].([]any)
	if got["kind"] != "fire_patrol" || got["latest_version"] != float64(1) || len(vs) != 1 ||
		vs[0].(map[string]any)["version"] != float64(1) || vs[0].(map[string]any)["published_by"] == nil {
		t.Fatalf("created: %s", r.Body)
	}
	rec, err := a.store.GetRecord(ctx, models.TypeChecklist, uuid.MustParse(id))
	if err != nil || rec.Kind != models.KindFirePatrol || rec.Version != 1 || rec.RegionPath != "" {
		t.Fatalf("stored %+v %v", rec, err)
	}

	// Version 2 adds an item; version 1 is unchanged.
	v2 := map[string]any{"items": []map[string]any{
		{"key": "hazards", "label": "发现隐患", "type": "multi_choice", "required": true, "options": []string{"smoking", "straw_burning", "grave_burning"}},
		{"key": "fire_sighted", "label": "发现火情", "type": "bool", "required": true},
	}}
	r = a.do("POST", "/v1/checklists/"+id+"/versions", admin, v2)
	expectStatus(t, r, 201)
	got = r.json(t)
	vs = got["versions"].([]any)
	if got["latest_version"] != float64(2) || len(vs) != 2 || len(vs[0].(map[string]any)["items"].([]any)) != 2 ||
		vs[0].(map[string]any)["items"].([]any)[1].(map[string]any)["key"] != "warnings_given" {
		t.Fatalf("published v2: %s", r.Body)
	}
	if cs := checklistChanges(t, a.store, id); len(cs) != 2 || cs[1].Version != 2 || cs[1].Kind != models.KindFirePatrol {
		t.Fatalf("changes: %+v", cs)
	}
	for action, n := range map[string]int{"checklist.create": 1, "checklist.publish": 1} {
		entries, err := a.store.ListAudit(ctx, storage.AuditFilter{Action: action, Limit: 100})
		if err != nil || len(entries) != n || entries[0].TargetID != id {
			t.Fatalf("audit %s: %+v %v", action, entries, err)
		}
	}

	// A client-chosen id is kept; creating it again is a 409.
	cid := uuid.NewString()
	body := checklistBody()
	body["id"] = cid
	expectStatus(t, a.do("POST", "/v1/checklists", admin, body), 201)
	if r := a.do("POST", "/v1/checklists", admin, body); r.Status != 409 || r.problemType(t) != "conflict" {
		t.Fatalf("duplicate id: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/v1/checklists/"+uuid.NewString()+"/versions", admin, v2); r.Status != 404 || r.problemType(t) != "not-found" {
		t.Fatalf("unknown checklist: %d %s", r.Status, r.Body)
	}
	expectStatus(t, a.do("POST", "/v1/checklists/not-a-uuid/versions", admin, v2), 404)
}

func TestChecklistValidation(t *testing.T) {
	a := newChecklistApp(t)
	admin := a.login("admin")
	bad := func(edit func(map[string]any)) map[string]any {
		b := checklistBody()
		edit(b)
		return b
	}
	items := func(b map[string]any) []map[string]any { return b["items"].([]map[string]any) }
	cases := []struct {
		name  string
		body  map[string]any
		field string
		code  string
	}{
		{"kind", bad(func(b map[string]any) { b["kind"] = "fishing" }), "kind", "unknown"},
		{"name", bad(func(b map[string]any) { b["name"] = "" }), "name", "required"},
		{"no items", bad(func(b map[string]any) { b["items"] = []map[string]any{} }), "items", "required"},
		{"duplicate key", bad(func(b map[string]any) { items(b)[1]["key"] = "hazards" }), "items[1].key", "invalid"},
		{"min > max", bad(func(b map[string]any) { items(b)[1]["max"] = -1 }), "items[1].max", "invalid"},
		{"nil id", bad(func(b map[string]any) { b["id"] = uuid.Nil.String() }), "id", "invalid"},
	}
	for _, c := range cases {
		r := a.do("POST", "/v1/checklists", admin, c.body)
		if r.Status != 422 {
			t.Fatalf("%s: %d %s", c.name, r.Status, r.Body)
		}
		found := false
		for _, e := range r.json(t)["errors"].([]any) {
			m := e.(map[string]any)
			found = found || (m["field"] == c.field && m["code"] == c.code)
		}
		if !found {
			t.Fatalf("%s: want %s %s: %s", c.name, c.field, c.code, r.Body)
		}
	}
	// An unknown setting is refused (the admin API is strict).
	r := a.do("POST", "/v1/checklists", admin, bad(func(b map[string]any) { items(b)[0]["colour"] = "red" }))
	if r.Status != 400 {
		t.Fatalf("unknown field: %d %s", r.Status, r.Body)
	}
	created := a.do("POST", "/v1/checklists", admin, checklistBody())
	expectStatus(t, created, 201)
	id := created.json(t)["id"].(string)
	r = a.do("POST", "/v1/checklists/"+id+"/versions", admin, map[string]any{"items": []map[string]any{{"key": "x", "label": "甲", "type": "group"}}})
	if r.Status != 422 {
		t.Fatalf("bad version: %d %s", r.Status, r.Body)
	}
	if cs := checklistChanges(t, a.store, id); len(cs) != 1 {
		t.Fatalf("a refused publish logged a change: %+v", cs)
	}
}

func TestChecklistReadAccess(t *testing.T) {
	a := newChecklistApp(t)
	if _, err := synctest.Engine(a.store).EnsureDefaultChecklists(context.Background(), fsync.SystemActor()); err != nil {
		t.Fatal(err)
	}
	admin := a.login("admin")
	ranger := a.login("ranger.dongsheng") // fire_patrol and planting_check
	market := a.login("dept.market")      // agri_input_check

	// Reading needs a login; writing needs admin.
	expectStatus(t, a.do("GET", "/v1/checklists", "", nil), 401)
	expectStatus(t, a.do("POST", "/v1/checklists", ranger, checklistBody()), 403)
	fire := models.DefaultChecklistID(models.KindFirePatrol).String()
	expectStatus(t, a.do("POST", "/v1/checklists/"+fire+"/versions", market, map[string]any{"items": checklistBody()["items"]}), 403)

	kindsOf := func(token, query string) map[string]bool {
		r := a.do("GET", "/v1/checklists"+query, token, nil)
		expectStatus(t, r, 200)
		out := map[string]bool{}
		for _, c := range r.json(t)["checklists"].([]any) {
			out[c.(map[string]any)["kind"].(string)] = true
		}
		return out
	}
	if k := kindsOf(admin, ""); len(k) != 4 {
		t.Fatalf("admin sees %v", k)
	}
	if k := kindsOf(ranger, ""); len(k) != 2 || !k["fire_patrol"] || !k["planting_check"] {
		t.Fatalf("ranger sees %v", k)
	}
	if k := kindsOf(ranger, "?kind=fire_patrol"); len(k) != 1 || !k["fire_patrol"] {
		t.Fatalf("ranger, fire_patrol: %v", k)
	}
	if k := kindsOf(ranger, "?kind=agri_input_check"); len(k) != 0 {
		t.Fatalf("ranger, another kind: %v", k)
	}
	expectStatus(t, a.do("GET", "/v1/checklists?kind=fishing", ranger, nil), 400)

	r := a.do("GET", "/v1/checklists/"+fire, ranger, nil)
	expectStatus(t, r, 200)
	if got := r.json(t); got["kind"] != "fire_patrol" || got["latest_version"] != float64(1) {
		t.Fatalf("ranger reads fire checklist: %s", r.Body)
	}
	expectStatus(t, a.do("GET", "/v1/checklists/"+fire, market, nil), 404) // another kind: as if absent
	expectStatus(t, a.do("GET", "/v1/checklists/"+uuid.NewString(), admin, nil), 404)

	// Keyset paging.
	r = a.do("GET", "/v1/checklists?limit=3", admin, nil)
	expectStatus(t, r, 200)
	page := r.json(t)
	cur, _ := page["next_cursor"].(string)
	if len(page["checklists"].([]any)) != 3 || cur == "" {
		t.Fatalf("page 1: %s", r.Body)
	}
	r = a.do("GET", "/v1/checklists?limit=3&cursor="+cur, admin, nil)
	expectStatus(t, r, 200)
	if page = r.json(t); len(page["checklists"].([]any)) != 1 || page["next_cursor"] != nil {
		t.Fatalf("page 2: %s", r.Body)
	}
}
