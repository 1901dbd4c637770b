package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/google/uuid"
)

// The sync scenarios below go through the HTTP app with real demo users, so every response is
// also checked against openapi.yaml by the harness.

// syncResult is one mutation result as a phone reads it.
type syncResult struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Entity *struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		Version int64  `json:"version"`
	} `json:"entity"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
	Conflicts []string `json:"conflicts"`
}

type syncPushResponse struct {
	LastMutationID int64        `json:"last_mutation_id"`
	Results        []syncResult `json:"results"`
}

type syncChange struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Op      string          `json:"op"`
	Version int64           `json:"version"`
	Data    json.RawMessage `json:"data"`
}

type syncPullResponse struct {
	Cursor         string       `json:"cursor"`
	HasMore        bool         `json:"has_more"`
	Reset          bool         `json:"reset"`
	LastMutationID int64        `json:"last_mutation_id"`
	Changes        []syncChange `json:"changes"`
}

// syncPhone is an app install: a login on a device, a client id, the next mutation id and the
// pull cursor.
type syncPhone struct {
	h        *harness
	username string
	token    string
	clientID uuid.UUID
	next     int64
	cursor   *string
}

func (h *harness) syncPhone(username, device string) *syncPhone {
	h.t.Helper()
	storagetest.StoreSites(h.t, h.store) // the sites visitCreate names
	return &syncPhone{h: h, username: username, token: h.login(username, device), clientID: uuid.New(), next: 1}
}

// syncMut is a queued mutation without its id (the phone numbers it when pushing).
type syncMut struct {
	Name string
	Args any
}

func (p *syncPhone) body(ms []syncMut, first int64) map[string]any {
	list := make([]map[string]any, len(ms))
	for i, m := range ms {
		list[i] = map[string]any{"id": first + int64(i), "name": m.Name, "args": m.Args,
			"client_time": time.Now().Format(time.RFC3339)}
	}
	return map[string]any{"client_id": p.clientID, "protocol_version": 1, "app_version": "2.3.0", "mutations": list}
}

// pushRaw sends a push body as it is.
func (p *syncPhone) pushRaw(body any) resp {
	p.h.t.Helper()
	return p.h.do("POST", "/v1/sync/push", p.token, body)
}

// push sends mutations numbered from the phone's next id; it fails the test unless the answer is 200.
func (p *syncPhone) push(ms ...syncMut) (syncPushResponse, resp) {
	p.h.t.Helper()
	r := p.pushRaw(p.body(ms, p.next))
	expectStatus(p.h.t, r, 200)
	var out syncPushResponse
	if err := json.Unmarshal(r.Body, &out); err != nil {
		p.h.t.Fatal(err)
	}
	if len(out.Results) != len(ms) {
		p.h.t.Fatalf("%d results for %d mutations: %s", len(out.Results), len(ms), r.Body)
	}
	p.next = out.LastMutationID + 1
	return out, r
}

// pullPage pulls one page from the phone's cursor without moving it.
func (p *syncPhone) pullPage(limit int) (syncPullResponse, resp) {
	p.h.t.Helper()
	r := p.h.do("POST", "/v1/sync/pull", p.token, map[string]any{"client_id": p.clientID, "cursor": p.cursor, "limit": limit})
	expectStatus(p.h.t, r, 200)
	var out syncPullResponse
	if err := json.Unmarshal(r.Body, &out); err != nil {
		p.h.t.Fatal(err)
	}
	return out, r
}

// pullAll pulls until has_more is false, moving the cursor, and returns every change in order and
// the last page.
func (p *syncPhone) pullAll(limit int) ([]syncChange, syncPullResponse) {
	p.h.t.Helper()
	var all []syncChange
	for range 1000 {
		page, _ := p.pullPage(limit)
		all = append(all, page.Changes...)
		c := page.Cursor
		p.cursor = &c
		if !page.HasMore {
			return all, page
		}
	}
	p.h.t.Fatal("pull never ended")
	return nil, syncPullResponse{}
}

// findChange returns the last change of a record in changes.
func findChange(changes []syncChange, typ, id string) (syncChange, bool) {
	var out syncChange
	found := false
	for _, c := range changes {
		if c.Type == typ && c.ID == id {
			out, found = c, true
		}
	}
	return out, found
}

func changeData(t testing.TB, c syncChange) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.Data, &m); err != nil {
		t.Fatalf("%s %s: data %s: %v", c.Type, c.ID, c.Data, err)
	}
	return m
}

func (h *harness) regionID(code string) uuid.UUID {
	h.t.Helper()
	r, err := h.store.GetRegionByCode(context.Background(), code)
	if err != nil {
		h.t.Fatal(err)
	}
	return r.ID
}

func (h *harness) userID(username string) string {
	h.t.Helper()
	u, err := h.store.GetUserByUsername(context.Background(), username)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.ID.String()
}

// count runs a SELECT count(*) … query.
func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.store.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Demo regions: Dongsheng town (Kangbei county), Jian'an county, Qinghe county.
const (
	codeDongsheng = "211522105"
	codeJianan    = "211523"
)

// visitCreate is a visit of kind at the test site of that kind (storagetest.StoreSites), placed in region.
func visitCreate(id uuid.UUID, kind string, region uuid.UUID) syncMut {
	return syncMut{"visit.create", map[string]any{"id": id, "kind": kind, "region_id": region,
		"site_id":    storagetest.SiteIDs[models.Kind(kind)],
		"started_at": "2026-03-14T09:12:03+08:00",
		"position":   map[string]any{"lat": 41.9, "lon": 121.6, "accuracy_m": 8, "crs": "wgs84"},
		"answers":    map[string]any{"stage": "under_construction", "workers_on_site": 120}, "notes": "first visit"}}
}

// visitCreateAt is visitCreate at site (a visit's site lies in its region: see regionSites).
func visitCreateAt(id uuid.UUID, kind string, region, site uuid.UUID) syncMut {
	m := visitCreate(id, kind, region)
	m.Args.(map[string]any)["site_id"] = site
	return m
}

// regionSites stores a test site of every kind in the region with code (storagetest.SiteIn) and
// returns the region's id.
func (h *harness) regionSites(code string) uuid.UUID {
	h.t.Helper()
	r, err := h.store.GetRegionByCode(context.Background(), code)
	if err != nil {
		h.t.Fatal(err)
	}
	storagetest.StoreRegionSites(h.t, h.store, r)
	return r.ID
}

func findingCreate(id, visit uuid.UUID) syncMut {
	return syncMut{"finding.create", map[string]any{"id": id, "visit_id": visit, "category": "safety",
		"severity": "serious", "description": "no fire extinguishers on site", "responsible_unit": "建安县住建局",
		"deadline": "2026-04-01"}}
}

func update(name string, id uuid.UUID, base int64, set map[string]any) syncMut {
	return syncMut{name, map[string]any{"id": id, "base_version": base, "set": set}}
}

func expectResult(t testing.TB, r syncResult, status string, version int64) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("mutation %d: status %s, want %s (%+v)", r.ID, r.Status, status, r.Error)
	}
	if status != "rejected" && (r.Entity == nil || r.Entity.Version != version) {
		t.Fatalf("mutation %d: entity %+v, want version %d", r.ID, r.Entity, version)
	}
}

func expectRejected(t testing.TB, r syncResult, code, field string) {
	t.Helper()
	if r.Status != "rejected" || r.Error == nil || r.Error.Code != code || r.Error.Field != field || r.Error.Message == "" {
		t.Fatalf("mutation %d: %+v %+v, want rejected %s on %q", r.ID, r.Status, r.Error, code, field)
	}
	if r.Entity != nil || len(r.Conflicts) > 0 {
		t.Fatalf("mutation %d: a rejected result carries an entity or conflicts", r.ID)
	}
}

// TestSyncPushThenPull pushes a visit, a finding and an update, and checks what pulls return:
// incrementally to the same phone, as a bootstrap to another, and nothing to a phone whose scope
// excludes the kind.
func TestSyncPushThenPull(t *testing.T) {
	h := newHarness(t)
	insp := h.syncPhone("inspector", "phone-insp")
	boot, last := insp.pullAll(5000)
	if last.Reset || last.LastMutationID != 0 || len(boot) == 0 {
		t.Fatalf("bootstrap: reset %v, last_mutation_id %d, %d changes", last.Reset, last.LastMutationID, len(boot))
	}
	regions := 0
	for _, c := range boot {
		if c.Op != "put" {
			t.Fatalf("a bootstrap sent %s %s %s", c.Op, c.Type, c.ID)
		}
		if c.Type == "region" {
			regions++
		}
	}
	if regions != 713 {
		t.Fatalf("whole-city bootstrap sent %d regions, want 713", regions)
	}
	self, ok := findChange(boot, "user", h.userID("inspector"))
	if !ok || changeData(t, self)["username"] != "inspector" {
		t.Fatalf("the caller's own user is not in the bootstrap: %+v", self)
	}

	town := h.regionID(codeDongsheng)
	vid, fid := uuid.New(), uuid.New()
	out, _ := insp.push(visitCreate(vid, "project_visit", town), findingCreate(fid, vid),
		update("visit.update", vid, 1, map[string]any{"notes": "second look", "answers.workers_on_site": 95}))
	if out.LastMutationID != 3 {
		t.Fatalf("last_mutation_id %d, want 3", out.LastMutationID)
	}
	for i, want := range []struct {
		id      int64
		typ     string
		version int64
	}{{1, "visit", 1}, {2, "finding", 1}, {3, "visit", 2}} {
		r := out.Results[i]
		expectResult(t, r, "applied", want.version)
		if r.ID != want.id || r.Entity.Type != want.typ {
			t.Fatalf("result %d: %+v %+v", i, r, r.Entity)
		}
	}

	before := *insp.cursor
	changes, page := insp.pullAll(500)
	if page.LastMutationID != 3 || page.Reset {
		t.Fatalf("pull: last_mutation_id %d reset %v", page.LastMutationID, page.Reset)
	}
	v, ok := findChange(changes, "visit", vid.String())
	if !ok || v.Op != "put" || v.Version != 2 {
		t.Fatalf("visit change %+v", v)
	}
	d := changeData(t, v)
	answers, _ := d["answers"].(map[string]any)
	if d["notes"] != "second look" || answers["workers_on_site"] != float64(95) || answers["stage"] != "under_construction" ||
		d["status"] != "draft" || d["kind"] != "project_visit" || d["region_id"] != town.String() ||
		d["inspector_id"] != h.userID("inspector") || d["device_id"] != "phone-insp" {
		t.Fatalf("visit data %s", v.Data)
	}
	if pos, _ := d["position"].(map[string]any); pos["crs"] != "wgs84" || pos["lat"] != 41.9 {
		t.Fatalf("visit position %v", d["position"])
	}
	f, ok := findChange(changes, "finding", fid.String())
	if !ok || f.Op != "put" || f.Version != 1 {
		t.Fatalf("finding change %+v", f)
	}
	fd := changeData(t, f)
	if fd["visit_id"] != vid.String() || fd["kind"] != "project_visit" || fd["status"] != "open" ||
		fd["region_id"] != town.String() || fd["deadline"] != "2026-04-01" || fd["created_by"] != h.userID("inspector") {
		t.Fatalf("finding data %s", f.Data)
	}
	for _, c := range changes {
		if c.Type == "visit" && c.ID == vid.String() && c.Version != 2 {
			t.Fatalf("a superseded version of the visit was sent: %+v", c)
		}
	}

	// Nothing new: an empty page. From the old cursor: the same changes again.
	again, _ := insp.pullPage(500)
	if len(again.Changes) != 0 || again.HasMore {
		t.Fatalf("a pull with nothing new sent %d changes", len(again.Changes))
	}
	insp.cursor = &before
	repeat, _ := insp.pullAll(500)
	a, _ := json.Marshal(changes)
	b, _ := json.Marshal(repeat)
	if !bytes.Equal(a, b) {
		t.Fatalf("a pull repeated from the same cursor differs:\n%s\n%s", a, b)
	}

	// A new bootstrap of the same install reports its mutations only on the last page.
	insp.cursor = nil
	first, _ := insp.pullPage(100)
	if !first.HasMore || first.LastMutationID != 0 {
		t.Fatalf("first bootstrap page: has_more %v, last_mutation_id %d", first.HasMore, first.LastMutationID)
	}
	if _, final := insp.pullAll(5000); final.LastMutationID != 3 {
		t.Fatalf("last bootstrap page: last_mutation_id %d, want 3", final.LastMutationID)
	}

	// Another phone bootstraps the current state; pages joined equal one big page.
	sup := h.syncPhone("supervisor", "phone-sup")
	small, _ := sup.pullAll(100)
	sup.cursor = nil
	big, _ := sup.pullAll(5000)
	a, _ = json.Marshal(small)
	b, _ = json.Marshal(big)
	if !bytes.Equal(a, b) {
		t.Fatalf("a paged bootstrap (%d changes) differs from an unpaged one (%d changes)", len(small), len(big))
	}
	if v, ok := findChange(big, "visit", vid.String()); !ok || v.Version != 2 {
		t.Fatalf("supervisor's bootstrap: visit %+v", v)
	}
	if _, ok := findChange(big, "finding", fid.String()); !ok {
		t.Fatal("supervisor's bootstrap lacks the finding")
	}

	// The ranger works in the same township, but not on project visits.
	ranger := h.syncPhone("ranger.dongsheng", "phone-ranger")
	rc, _ := ranger.pullAll(500)
	regions = 0
	for _, c := range rc {
		if c.Type == "visit" || c.Type == "finding" {
			t.Fatalf("a %s outside the ranger's kinds was sent", c.Type)
		}
		if c.Type == "region" {
			regions++
		}
	}
	if regions != 4 {
		t.Fatalf("the ranger got %d regions, want 4 (the town and its villages)", regions)
	}
}

// TestSyncPushReplay: a push sent again after a lost response answers the same bytes and
// changes nothing; a push that overlaps the applied ones applies only the new ones.
func TestSyncPushReplay(t *testing.T) {
	h := newHarness(t)
	p := h.syncPhone("inspector", "phone-1")
	town := h.regionID(codeDongsheng)
	vid := uuid.New()
	ms := []syncMut{visitCreate(vid, "project_visit", town), findingCreate(uuid.New(), vid),
		update("visit.update", vid, 1, map[string]any{"notes": "again"}), {"no.such.mutation", map[string]any{}}}
	body := p.body(ms, 1)
	first := p.pushRaw(body)
	expectStatus(t, first, 200)
	records := h.count(`SELECT count(*) FROM records WHERE type NOT IN ('site', 'checklist')`)
	changes := h.count(`SELECT count(*) FROM change_log`)
	results := h.count(`SELECT count(*) FROM sync_mutations WHERE client_id = $1`, p.clientID)
	if records != 2 || results != 4 {
		t.Fatalf("after the first push: %d records, %d results", records, results)
	}
	for range 2 {
		replay := p.pushRaw(body)
		expectStatus(t, replay, 200)
		if !bytes.Equal(first.Body, replay.Body) {
			t.Fatalf("a replayed push answered differently:\nfirst:  %s\nreplay: %s", first.Body, replay.Body)
		}
	}
	if h.count(`SELECT count(*) FROM records WHERE type NOT IN ('site', 'checklist')`) != records || h.count(`SELECT count(*) FROM change_log`) != changes ||
		h.count(`SELECT count(*) FROM sync_mutations WHERE client_id = $1`, p.clientID) != results {
		t.Fatal("a replayed push changed something")
	}
	if n := h.count(`SELECT last_mutation_id FROM sync_clients WHERE client_id = $1`, p.clientID); n != 4 {
		t.Fatalf("last_mutation_id %d, want 4", n)
	}
	var firstOut syncPushResponse
	if err := json.Unmarshal(first.Body, &firstOut); err != nil {
		t.Fatal(err)
	}

	// Mutations 3 and 4 again, with a new 5: 3 and 4 keep their stored results, 5 is applied.
	overlap := p.body(append(ms[2:], update("visit.update", vid, 2, map[string]any{"notes": "third"})), 3)
	r := p.pushRaw(overlap)
	expectStatus(t, r, 200)
	var out syncPushResponse
	json.Unmarshal(r.Body, &out)
	if out.LastMutationID != 5 || len(out.Results) != 3 {
		t.Fatalf("overlapping push: %s", r.Body)
	}
	a, _ := json.Marshal(out.Results[:2])
	b, _ := json.Marshal(firstOut.Results[2:])
	if !bytes.Equal(a, b) {
		t.Fatalf("replayed results differ:\n%s\n%s", a, b)
	}
	expectResult(t, out.Results[2], "applied", 3)

	// An empty push tells the client's last mutation id and changes nothing.
	empty := p.pushRaw(map[string]any{"client_id": p.clientID, "protocol_version": 1, "mutations": []any{}})
	expectStatus(t, empty, 200)
	if m := empty.json(t); m["last_mutation_id"] != float64(5) || len(m["results"].([]any)) != 0 {
		t.Fatalf("empty push: %s", empty.Body)
	}
}

// TestSyncPushGap: a push whose first new id skips one is refused with 409 and applies nothing.
func TestSyncPushGap(t *testing.T) {
	h := newHarness(t)
	p := h.syncPhone("inspector", "phone-1")
	town := h.regionID(codeDongsheng)
	p.push(visitCreate(uuid.New(), "project_visit", town))
	changes := h.count(`SELECT count(*) FROM change_log`)

	r := p.pushRaw(p.body([]syncMut{visitCreate(uuid.New(), "project_visit", town), visitCreate(uuid.New(), "project_visit", town)}, 3))
	expectStatus(t, r, 409)
	if r.problemType(t) != "mutation-gap" || r.json(t)["expected_mutation_id"] != float64(2) {
		t.Fatalf("gap: %s", r.Body)
	}
	if h.count(`SELECT count(*) FROM records WHERE type = 'visit'`) != 1 || h.count(`SELECT count(*) FROM change_log`) != changes ||
		h.count(`SELECT last_mutation_id FROM sync_clients WHERE client_id = $1`, p.clientID) != 1 {
		t.Fatal("a refused push applied something")
	}

	// A new client must start at 1; the refused push does not register it.
	q := h.syncPhone("inspector", "phone-2")
	r = q.pushRaw(q.body([]syncMut{visitCreate(uuid.New(), "project_visit", town)}, 5))
	expectStatus(t, r, 409)
	if r.json(t)["expected_mutation_id"] != float64(1) {
		t.Fatalf("gap of a new client: %s", r.Body)
	}
	if h.count(`SELECT count(*) FROM sync_clients WHERE client_id = $1`, q.clientID) != 0 {
		t.Fatal("a refused push registered its client")
	}

	// Resent from the expected id, the queue goes through.
	out, _ := p.push(visitCreate(uuid.New(), "project_visit", town))
	if out.LastMutationID != 2 {
		t.Fatalf("after the gap: last_mutation_id %d", out.LastMutationID)
	}
}

// TestSyncPushEnvelope covers the refusals of a whole push: too many mutations (413), a protocol
// below the minimum (426), a malformed envelope (422), a client id of another user (403).
func TestSyncPushEnvelope(t *testing.T) {
	h := newHarness(t)
	p := h.syncPhone("inspector", "phone-1")
	town := h.regionID(codeDongsheng)

	many := make([]syncMut, 1001)
	for i := range many {
		many[i] = syncMut{"no.such.mutation", map[string]any{"n": i}}
	}
	r := p.pushRaw(p.body(many, 1))
	expectStatus(t, r, 413)
	if r.problemType(t) != "too-many-mutations" || r.json(t)["limit"] != float64(1000) {
		t.Fatalf("1001 mutations: %s", r.Body)
	}
	if h.count(`SELECT count(*) FROM sync_clients`) != 0 {
		t.Fatal("a push refused for its size registered a client")
	}
	// 1,000 is allowed (each one rejected: the name is unknown).
	out, _ := p.push(many[:1000]...)
	if out.LastMutationID != 1000 {
		t.Fatalf("1000 mutations: last_mutation_id %d", out.LastMutationID)
	}
	expectRejected(t, out.Results[999], "unknown_mutation", "name")

	// Protocol 0 (or left out): 426, nothing stored; the same queue goes through with protocol 1.
	q := h.syncPhone("inspector", "phone-2")
	vid := uuid.New()
	body := q.body([]syncMut{visitCreate(vid, "project_visit", town)}, 1)
	body["protocol_version"] = 0
	r = q.pushRaw(body)
	expectStatus(t, r, 426)
	if r.problemType(t) != "protocol-too-old" || r.json(t)["min_protocol_version"] != float64(1) {
		t.Fatalf("protocol 0: %s", r.Body)
	}
	delete(body, "protocol_version")
	expectStatus(t, q.pushRaw(body), 426)
	if h.count(`SELECT count(*) FROM sync_clients WHERE client_id = $1`, q.clientID) != 0 ||
		h.count(`SELECT count(*) FROM records WHERE id = $1`, vid) != 0 {
		t.Fatal("a push refused for its protocol stored something")
	}
	page, _ := q.pullPage(1)
	if page.LastMutationID != 0 {
		t.Fatalf("last_mutation_id %d after a refused push", page.LastMutationID)
	}

	// Malformed envelopes: 422, listing every field at fault.
	body["protocol_version"] = 2
	r = q.pushRaw(body)
	expectStatus(t, r, 422)
	expectFieldErrors(t, r, map[string]string{"protocol_version": "unsupported"})
	body["protocol_version"] = 1
	bad := q.body([]syncMut{visitCreate(uuid.New(), "project_visit", town), visitCreate(uuid.New(), "project_visit", town),
		{"", map[string]any{}}}, 1)
	bad["mutations"].([]map[string]any)[1]["id"] = 3
	delete(bad, "client_id")
	bad["app_version"] = strings.Repeat("9", 33)
	r = q.pushRaw(bad)
	expectStatus(t, r, 422)
	expectFieldErrors(t, r, map[string]string{"client_id": "required", "app_version": "too_long",
		"mutations[1].id": "invalid", "mutations[2].id": "invalid"})
	zero := q.body([]syncMut{visitCreate(uuid.New(), "project_visit", town)}, 0)
	r = q.pushRaw(zero)
	expectStatus(t, r, 422)
	expectFieldErrors(t, r, map[string]string{"mutations[0].id": "invalid"})
	if h.count(`SELECT count(*) FROM sync_clients WHERE client_id = $1`, q.clientID) != 0 {
		t.Fatal("a malformed push registered its client")
	}
	out, _ = q.push(visitCreate(vid, "project_visit", town))
	expectResult(t, out.Results[0], "applied", 1)

	// Malformed JSON and wrong types: 400. Another content type: 415.
	expectStatus(t, q.pushRaw([]byte(`{"client_id":`)), 400)
	expectStatus(t, q.pushRaw(map[string]any{"client_id": "not-a-uuid", "protocol_version": 1}), 400)
	expectStatus(t, q.pushRaw(map[string]any{"client_id": q.clientID, "protocol_version": 1, "mutations": "all"}), 400)
	r = h.do("POST", "/v1/sync/push", q.token, []byte(`{}`), "Content-Type", "text/plain")
	expectStatus(t, r, 415)

	// Another user may not use the inspector's client id, to push or to pull.
	sup := h.syncPhone("supervisor", "phone-sup")
	sup.clientID = q.clientID
	r = sup.pushRaw(sup.body([]syncMut{visitCreate(uuid.New(), "project_visit", town)}, 2))
	expectStatus(t, r, 403)
	if r.problemType(t) != "client-mismatch" {
		t.Fatalf("client mismatch: %s", r.Body)
	}
	r = h.do("POST", "/v1/sync/pull", sup.token, map[string]any{"client_id": q.clientID, "cursor": nil})
	expectStatus(t, r, 403)
	if r.problemType(t) != "client-mismatch" {
		t.Fatalf("client mismatch on pull: %s", r.Body)
	}
	if h.count(`SELECT last_mutation_id FROM sync_clients WHERE client_id = $1`, q.clientID) != 1 ||
		h.count(`SELECT count(*) FROM records WHERE type = 'visit'`) != 1 {
		t.Fatal("a push with another user's client id applied something")
	}
}

func expectFieldErrors(t testing.TB, r resp, want map[string]string) {
	t.Helper()
	if r.problemType(t) != "validation" {
		t.Fatalf("problem %s", r.Body)
	}
	var p struct {
		Errors []struct{ Field, Code string }
	}
	json.Unmarshal(r.Body, &p)
	got := map[string]string{}
	for _, e := range p.Errors {
		got[e.Field] = e.Code
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("field errors %v, want %v", got, want)
	}
}

// TestSyncPushBodyLimit: the push route has a body limit of its own, named in the problem.
func TestSyncPushBodyLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.PushBodyLimit = 64 << 10 })
	p := h.syncPhone("inspector", "phone-1")
	town := h.regionID(codeDongsheng)
	m := visitCreate(uuid.New(), "project_visit", town)
	m.Args.(map[string]any)["notes"] = strings.Repeat("x", 80<<10)
	r := p.pushRaw(p.body([]syncMut{m}, 1))
	expectStatus(t, r, 413)
	if r.problemType(t) != "body-too-large" || r.json(t)["limit_bytes"] != float64(64<<10) {
		t.Fatalf("oversized push: %s", r.Body)
	}
	if h.count(`SELECT count(*) FROM sync_clients`) != 0 {
		t.Fatal("an oversized push registered its client")
	}
}

// TestSyncRejections: permanent errors are rejected one by one, later mutations still apply, and
// each rejection reaches the pushing install (and only it) by pull.
func TestSyncRejections(t *testing.T) {
	h := newHarness(t)
	p := h.syncPhone("inspector.jianan", "phone-jianan")
	other := h.syncPhone("inspector.jianan", "phone-jianan-2")
	p.pullAll(5000)
	other.pullAll(5000)
	county, town := h.regionSites(codeJianan), h.regionID(codeDongsheng)
	site := storagetest.SiteIn(models.KindProjectVisit, county)
	good, gone := uuid.New(), uuid.New()
	out, _ := p.push(
		visitCreate(uuid.New(), "project_visit", town),          // 1: another county
		visitCreate(uuid.New(), "fire_patrol", county),          // 2: a kind outside the scope
		visitCreateAt(good, "project_visit", county, site),      // 3: fine
		syncMut{"no.such.mutation", map[string]any{"id": good}}, // 4
		syncMut{"finding.create", map[string]any{"id": uuid.New(), "visit_id": good, "category": "safety", "severity": "grave",
			"description": "d", "responsible_unit": "u", "deadline": "2026-04-01"}}, // 5: unknown severity
		visitCreateAt(good, "project_visit", county, site),                                             // 6: the id is taken
		update("visit.update", good, 1, map[string]any{"status": "submitted"}),                         // 7: not updatable
		update("visit.update", good, 9, map[string]any{"notes": "n"}),                                  // 8: base_version too new
		syncMut{"visit.submit", map[string]any{"id": gone}},                                            // 9: no such visit
		syncMut{"visit.update", []int{1}},                                                              // 10: args not an object
		syncMut{"visit.submit", map[string]any{"id": good}},                                            // 11: fine
		syncMut{"visit.delete", map[string]any{"id": good}},                                            // 12: submitted
		update("visit.update", good, 2, map[string]any{"notes": "after submit", "answers.Bad-Key": 1}), // 13: bad answer key
		update("visit.update", good, 2, map[string]any{"notes": "after submit"}),                       // 14: fine
	)
	if out.LastMutationID != 14 {
		t.Fatalf("last_mutation_id %d, want 14", out.LastMutationID)
	}
	want := []struct{ code, field string }{
		{"out_of_scope", "region_id"}, {"out_of_scope", "kind"}, {}, {"unknown_mutation", "name"}, {"unknown", "severity"},
		{"already_exists", "id"}, {"not_updatable", "set.status"}, {"invalid", "base_version"}, {"not_found", "id"},
		{"invalid", "args"}, {}, {"illegal_state", "id"}, {"invalid", "set.answers.Bad-Key"}, {},
	}
	rejected := map[string]string{}
	for i, w := range want {
		r := out.Results[i]
		if r.ID != int64(i+1) {
			t.Fatalf("result %d has id %d", i, r.ID)
		}
		if w.code == "" {
			if r.Status != "applied" {
				t.Fatalf("mutation %d: %s %+v", r.ID, r.Status, r.Error)
			}
			continue
		}
		expectRejected(t, r, w.code, w.field)
		rejected[strconv.FormatInt(r.ID, 10)] = w.code
	}
	expectResult(t, out.Results[13], "applied", 3)

	changes, page := p.pullAll(500)
	if page.LastMutationID != 14 {
		t.Fatalf("pull: last_mutation_id %d", page.LastMutationID)
	}
	got := map[string]string{}
	for _, c := range changes {
		if c.Type != "rejection" {
			continue
		}
		d := changeData(t, c)
		e, _ := d["error"].(map[string]any)
		if c.Op != "put" || c.Version != 1 || d["client_id"] != p.clientID.String() || d["mutation_id"] != float64(mustAtoi(t, c.ID)) ||
			e["message"] == "" {
			t.Fatalf("rejection %s: %s", c.ID, c.Data)
		}
		got[c.ID] = e["code"].(string)
	}
	if fmt.Sprint(got) != fmt.Sprint(rejected) {
		t.Fatalf("rejections pulled %v, want %v", got, rejected)
	}
	if d, ok := findChange(changes, "rejection", "4"); !ok || changeData(t, d)["name"] != "no.such.mutation" {
		t.Fatalf("rejection 4: %+v", d)
	}
	v, ok := findChange(changes, "visit", good.String())
	if !ok || v.Version != 3 || changeData(t, v)["status"] != "submitted" || changeData(t, v)["notes"] != "after submit" {
		t.Fatalf("visit %+v", v)
	}

	// A new bootstrap of the install sends its rejections again.
	p.cursor = nil
	again, _ := p.pullAll(5000)
	n := 0
	for _, c := range again {
		if c.Type == "rejection" {
			n++
		}
	}
	if n != len(rejected) {
		t.Fatalf("a bootstrap sent %d rejections, want %d", n, len(rejected))
	}

	// Another install of the same user gets the visit but not the first one's rejections.
	oc, _ := other.pullAll(500)
	for _, c := range oc {
		if c.Type == "rejection" {
			t.Fatalf("another install got rejection %s", c.ID)
		}
	}
	if _, ok := findChange(oc, "visit", good.String()); !ok {
		t.Fatal("another install of the same user lacks the visit")
	}

	// An admin records no field work.
	admin := h.syncPhone("admin", "admin-laptop")
	aout, _ := admin.push(visitCreate(uuid.New(), "project_visit", county))
	expectRejected(t, aout.Results[0], "forbidden_role", "")
}

func mustAtoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("rejection id %q is not a number", s)
	}
	return n
}

// TestSyncDeleteSendsRemoves: deleting a draft visit removes it and its findings from phones.
func TestSyncDeleteSendsRemoves(t *testing.T) {
	h := newHarness(t)
	p := h.syncPhone("inspector", "phone-1")
	watcher := h.syncPhone("supervisor", "phone-sup")
	town := h.regionID(codeDongsheng)
	vid, fid := uuid.New(), uuid.New()
	p.push(visitCreate(vid, "project_visit", town), findingCreate(fid, vid))
	watcher.pullAll(5000)
	out, _ := p.push(syncMut{"visit.delete", map[string]any{"id": vid}})
	expectResult(t, out.Results[0], "applied", 2)
	changes, _ := watcher.pullAll(500)
	v, ok := findChange(changes, "visit", vid.String())
	f, ok2 := findChange(changes, "finding", fid.String())
	if !ok || !ok2 || v.Op != "remove" || f.Op != "remove" || v.Version != 2 || f.Version != 2 || v.Data != nil || f.Data != nil {
		t.Fatalf("removes: %+v %+v", v, f)
	}
	// A fresh bootstrap no longer has them.
	fresh := h.syncPhone("supervisor", "phone-sup-2")
	all, _ := fresh.pullAll(5000)
	if _, ok := findChange(all, "visit", vid.String()); ok {
		t.Fatal("a deleted visit was bootstrapped")
	}
	out, _ = p.push(update("visit.update", vid, 1, map[string]any{"notes": "too late"}))
	expectRejected(t, out.Results[0], "not_found", "id")
}

// TestSyncConflicts: two phones edit the same field offline; the later push wins with a conflict
// that a supervisor lists and resolves.
func TestSyncConflicts(t *testing.T) {
	h := newHarness(t)
	a := h.syncPhone("inspector", "phone-a")
	b := h.syncPhone("inspector", "phone-b")
	county := h.regionSites(codeJianan)
	vid := uuid.New()
	a.push(visitCreateAt(vid, "project_visit", county, storagetest.SiteIn(models.KindProjectVisit, county)))
	a.pullAll(5000)
	b.pullAll(5000) // both phones have version 1

	out, _ := a.push(update("visit.update", vid, 1, map[string]any{"notes": "from A"}))
	expectResult(t, out.Results[0], "applied", 2)
	// B changed the same field and, separately, an answer nobody else touched.
	out, _ = b.push(update("visit.update", vid, 1, map[string]any{"notes": "from B", "answers.workers_on_site": 80}))
	res := out.Results[0]
	expectResult(t, res, "conflict", 3)
	if len(res.Conflicts) != 1 {
		t.Fatalf("conflicts %v", res.Conflicts)
	}
	cid := res.Conflicts[0]

	// Only supervisors (and admins) list conflicts, and only those in their scope.
	expectStatus(t, h.do("GET", "/v1/conflicts", a.token, nil), 403)
	sup := h.syncPhone("supervisor", "phone-sup")
	r := h.do("GET", "/v1/conflicts", sup.token, nil)
	expectStatus(t, r, 200)
	var list struct {
		Conflicts []map[string]any `json:"conflicts"`
		Next      *string          `json:"next_cursor"`
	}
	json.Unmarshal(r.Body, &list)
	if len(list.Conflicts) != 1 || list.Next != nil {
		t.Fatalf("conflicts: %s", r.Body)
	}
	c := list.Conflicts[0]
	server, _ := c["server"].(map[string]any)
	client, _ := c["client"].(map[string]any)
	if c["id"] != cid || c["record_type"] != "visit" || c["record_id"] != vid.String() || c["field"] != "notes" ||
		c["server_value"] != "from A" || c["client_value"] != "from B" || c["kept"] != "client" || c["base_version"] != float64(1) ||
		c["kind"] != "project_visit" || c["resolved_at"] != nil || server["version"] != float64(2) ||
		server["device_id"] != "phone-a" || client["device_id"] != "phone-b" || client["client_id"] != b.clientID.String() ||
		client["mutation_id"] != float64(1) || client["client_time"] == nil {
		t.Fatalf("conflict: %s", r.Body)
	}
	for _, q := range []string{"?record_id=" + vid.String(), "?status=all", "?limit=1"} {
		r = h.do("GET", "/v1/conflicts"+q, sup.token, nil)
		expectStatus(t, r, 200)
		if n := len(r.json(t)["conflicts"].([]any)); n != 1 {
			t.Fatalf("%s: %d conflicts", q, n)
		}
	}
	r = h.do("GET", "/v1/conflicts?record_id="+uuid.NewString(), sup.token, nil)
	if n := len(r.json(t)["conflicts"].([]any)); n != 0 {
		t.Fatalf("another record's filter listed %d conflicts", n)
	}
	for _, q := range []string{"?status=closed", "?record_id=x", "?limit=0", "?cursor=!!"} {
		expectStatus(t, h.do("GET", "/v1/conflicts"+q, sup.token, nil), 400)
	}
	qinghe := h.syncPhone("supervisor.qinghe", "phone-qinghe")
	r = h.do("GET", "/v1/conflicts", qinghe.token, nil)
	expectStatus(t, r, 200)
	if n := len(r.json(t)["conflicts"].([]any)); n != 0 {
		t.Fatalf("a supervisor of another county sees %d conflicts", n)
	}

	// The inspector's phones hear of the conflict by pull; the merge kept B's note and B's answer.
	changes, _ := a.pullAll(500)
	if cc, ok := findChange(changes, "conflict", cid); !ok || cc.Version != 1 || changeData(t, cc)["field"] != "notes" {
		t.Fatalf("conflict change %+v", cc)
	}
	v, _ := findChange(changes, "visit", vid.String())
	d := changeData(t, v)
	if v.Version != 3 || d["notes"] != "from B" || d["answers"].(map[string]any)["workers_on_site"] != float64(80) {
		t.Fatalf("merged visit %s", v.Data)
	}

	// A bootstrap sends the open conflict to a party to it (a new install of the inspector), not to
	// the supervisor, who lists conflicts instead.
	fresh := h.syncPhone("inspector", "phone-c")
	fc, _ := fresh.pullAll(5000)
	if _, ok := findChange(fc, "conflict", cid); !ok {
		t.Fatal("the bootstrap of a party to the conflict lacks it")
	}
	sc, _ := sup.pullAll(5000)
	if _, ok := findChange(sc, "conflict", cid); ok {
		t.Fatal("the bootstrap of a supervisor who is no party sent the conflict")
	}

	// Resolve: scope, role and body checks first.
	resolve := "/v1/conflicts/" + cid + "/resolve"
	expectStatus(t, h.do("POST", resolve, qinghe.token, map[string]any{"keep": "server"}), 404)
	expectStatus(t, h.do("POST", resolve, a.token, map[string]any{"keep": "server"}), 403)
	expectStatus(t, h.do("POST", "/v1/conflicts/"+uuid.NewString()+"/resolve", sup.token, map[string]any{"keep": "server"}), 404)
	expectStatus(t, h.do("POST", "/v1/conflicts/not-a-uuid/resolve", sup.token, map[string]any{"keep": "server"}), 404)
	expectStatus(t, h.do("POST", resolve, sup.token, map[string]any{"keep": "server", "why": "x"}), 400)
	r = h.do("POST", resolve, sup.token, map[string]any{"keep": "both"})
	expectStatus(t, r, 422)
	expectFieldErrors(t, r, map[string]string{"keep": "invalid"})
	r = h.do("POST", resolve, sup.token, map[string]any{"keep": "value"})
	expectStatus(t, r, 422)
	expectFieldErrors(t, r, map[string]string{"value": "required"})
	r = h.do("POST", resolve, sup.token, map[string]any{"keep": "value", "value": strings.Repeat("n", 4001)})
	expectStatus(t, r, 422)
	expectFieldErrors(t, r, map[string]string{"value": "too_long"})

	// keep=server puts A's note back as a new version; B's answer stays.
	r = h.do("POST", resolve, sup.token, map[string]any{"keep": "server", "note": "A was on site later"})
	expectStatus(t, r, 200)
	rc := r.json(t)
	res2, _ := rc["resolution"].(map[string]any)
	if rc["resolved_at"] == nil || rc["resolved_by"] != h.userID("supervisor") || res2["keep"] != "server" ||
		res2["note"] != "A was on site later" {
		t.Fatalf("resolved: %s", r.Body)
	}
	changes, _ = b.pullAll(500)
	v, _ = findChange(changes, "visit", vid.String())
	d = changeData(t, v)
	if v.Version != 4 || d["notes"] != "from A" || d["answers"].(map[string]any)["workers_on_site"] != float64(80) {
		t.Fatalf("visit after keep=server: version %d %s", v.Version, v.Data)
	}
	if cc, ok := findChange(changes, "conflict", cid); !ok || cc.Version != 2 || changeData(t, cc)["resolved_at"] == nil {
		t.Fatalf("resolved conflict change %+v", cc)
	}

	r = h.do("POST", resolve, sup.token, map[string]any{"keep": "client"})
	expectStatus(t, r, 409)
	if r.problemType(t) != "already-resolved" {
		t.Fatalf("second resolve: %s", r.Body)
	}
	r = h.do("GET", "/v1/conflicts", sup.token, nil)
	if n := len(r.json(t)["conflicts"].([]any)); n != 0 {
		t.Fatalf("%d open conflicts after resolving", n)
	}
	r = h.do("GET", "/v1/conflicts?status=all", sup.token, nil)
	if n := len(r.json(t)["conflicts"].([]any)); n != 1 {
		t.Fatalf("%d conflicts with status=all", n)
	}
	fresh.cursor = nil
	fc, _ = fresh.pullAll(5000)
	if _, ok := findChange(fc, "conflict", cid); ok {
		t.Fatal("a bootstrap sent a resolved conflict")
	}
	if h.count(`SELECT count(*) FROM audit_log WHERE action = 'conflict.resolve' AND target_id = $1`, cid) != 1 {
		t.Fatal("the resolution was not audited")
	}
}

// TestSyncConflictKeepValue: keep=value writes the supervisor's value; a finding conflict works the
// same way.
func TestSyncConflictKeepValue(t *testing.T) {
	h := newHarness(t)
	a := h.syncPhone("inspector", "phone-a")
	b := h.syncPhone("supervisor", "phone-sup")
	town := h.regionID(codeDongsheng)
	vid, fid := uuid.New(), uuid.New()
	a.push(visitCreate(vid, "project_visit", town), findingCreate(fid, vid))
	a.push(update("finding.update", fid, 1, map[string]any{"responsible_unit": "康北县应急局"}))
	out, _ := b.push(update("finding.update", fid, 1, map[string]any{"responsible_unit": "东升镇政府", "measures": "fence it"}))
	expectResult(t, out.Results[0], "conflict", 3)
	cid := out.Results[0].Conflicts[0]
	r := h.do("POST", "/v1/conflicts/"+cid+"/resolve", b.token, map[string]any{"keep": "value", "value": "康北县住建局"})
	expectStatus(t, r, 200)
	if res, _ := r.json(t)["resolution"].(map[string]any); res["value"] != "康北县住建局" {
		t.Fatalf("resolution %s", r.Body)
	}
	changes, _ := a.pullAll(5000)
	f, _ := findChange(changes, "finding", fid.String())
	d := changeData(t, f)
	if f.Version != 4 || d["responsible_unit"] != "康北县住建局" || d["measures"] != "fence it" {
		t.Fatalf("finding after keep=value: %d %s", f.Version, f.Data)
	}
}

// TestSyncPullErrors covers refused pulls.
func TestSyncPullErrors(t *testing.T) {
	h := newHarness(t)
	p := h.syncPhone("ranger.dongsheng", "phone-1")
	pull := func(body any) resp { return h.do("POST", "/v1/sync/pull", p.token, body) }
	for _, cursor := range []string{"garbage!", "bm90IGpzb24", "eyJ2IjoyLCJzIjowLCJzYyI6IiJ9"} {
		r := pull(map[string]any{"client_id": p.clientID, "cursor": cursor})
		expectStatus(t, r, 400)
		if r.problemType(t) != "bad-request" {
			t.Fatalf("cursor %q: %s", cursor, r.Body)
		}
	}
	// limit: 0 (or left out) is the default; outside 1–5000 is a 422.
	expectStatus(t, pull(map[string]any{"client_id": p.clientID, "limit": 0}), 200)
	expectStatus(t, pull(map[string]any{"client_id": p.clientID}), 200)
	expectStatus(t, pull(map[string]any{"client_id": p.clientID, "limit": 5000}), 200)
	for _, limit := range []int{-1, 5001, 6000} {
		r := pull(map[string]any{"client_id": p.clientID, "limit": limit})
		expectStatus(t, r, 422)
		expectFieldErrors(t, r, map[string]string{"limit": "out_of_range"})
	}
	r := pull(map[string]any{"cursor": nil})
	expectStatus(t, r, 422)
	expectFieldErrors(t, r, map[string]string{"client_id": "required"})
	expectStatus(t, pull([]byte(`[]`)), 400)
	expectStatus(t, pull(map[string]any{"client_id": p.clientID, "limit": "ten"}), 400)
	expectStatus(t, pull(nil), 400)

	// A cursor issued for another scope restarts with a reset.
	page, _ := p.pullPage(500)
	sup := h.syncPhone("supervisor", "phone-sup")
	r = h.do("POST", "/v1/sync/pull", sup.token, map[string]any{"client_id": uuid.New(), "cursor": page.Cursor, "limit": 5000})
	expectStatus(t, r, 200)
	var reset syncPullResponse
	json.Unmarshal(r.Body, &reset)
	if !reset.Reset || len(reset.Changes) == 0 {
		t.Fatalf("a cursor of another scope: reset %v, %d changes", reset.Reset, len(reset.Changes))
	}
}

// TestSyncNeedsToken: every sync and conflict route answers 401 without a bearer token.
func TestSyncNeedsToken(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{"client_id": uuid.New(), "protocol_version": 1, "mutations": []any{}}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/sync/push", body},
		{"POST", "/v1/sync/pull", map[string]any{"client_id": uuid.New()}},
		{"GET", "/v1/conflicts", nil},
		{"POST", "/v1/conflicts/" + uuid.NewString() + "/resolve", map[string]any{"keep": "server"}},
	} {
		for _, token := range []string{"", "fs_" + strings.Repeat("A", 43)} {
			r := h.do(c.method, c.path, token, c.body)
			expectStatus(t, r, 401)
			if r.problemType(t) != "unauthenticated" {
				t.Fatalf("%s %s: %s", c.method, c.path, r.Body)
			}
		}
	}
	if h.count(`SELECT count(*) FROM sync_clients`) != 0 {
		t.Fatal("an unauthenticated push registered a client")
	}
}

// TestSyncPushOverServerLimit: a push body over the push limit is refused by its Content-Length
// after the first few KiB are read, not after the whole body (a real listener: app.Test cannot
// show this), and nothing is stored.
func TestSyncPushOverServerLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.BodyLimit, c.PushBodyLimit = 16<<10, 32<<10 })
	p := h.syncPhone("inspector", "phone-1")
	m := visitCreate(uuid.New(), "project_visit", h.regionID(codeDongsheng))
	m.Args.(map[string]any)["notes"] = strings.Repeat("x", 40<<10)
	body, _ := json.Marshal(p.body([]syncMut{m}, 1))
	// The headers and the first 16 KiB only: the server refuses by Content-Length without waiting
	// for the rest (fasthttp reads up to 8 KiB before a streaming handler runs).
	r := h.overTheWire("/v1/sync/push", map[string]string{"Authorization": "Bearer " + p.token}, len(body), body[:16<<10])
	expectStatus(t, r, 413)
	if r.problemType(t) != "body-too-large" {
		t.Fatalf("oversized push: %s", r.Body)
	}
	if h.count(`SELECT count(*) FROM sync_clients`) != 0 {
		t.Fatal("an oversized push registered its client")
	}
}
