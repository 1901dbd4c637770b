package sync

import (
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// The finding state machine through push, against the demo city: ranger.dongsheng is the
// township officer of Dongsheng (211522105, fire patrols and planting checks), dept.agri the
// agriculture bureau (planting and agri-input checks, whole city), supervisor the city
// supervision office and supervisor.qinghe the one of Qinghe county (211521).

const dongsheng = "211522105"

// findingState is what a rejected step must leave unchanged: the stored record and how many
// times the change log mentions it.
type findingState struct {
	version int64
	status  string
	data    string
	meta    string
	changes int
}

func (e *env) finding(id uuid.UUID) findingState {
	e.t.Helper()
	var s findingState
	err := e.store.SQL().QueryRow(`SELECT version, status, data::text, field_meta::text FROM records
		WHERE type = 'finding' AND id = $1`, id).Scan(&s.version, &s.status, &s.data, &s.meta)
	if err != nil && !errors.Is(err, sql.ErrNoRows) { // no row: the zero state
		e.t.Fatal(err)
	}
	s.changes = e.count(`SELECT count(*) FROM change_log WHERE record_type = 'finding' AND record_id = $1`, id.String())
	return s
}

// findingData decodes the stored finding.
func (e *env) findingData(id uuid.UUID) models.Finding {
	e.t.Helper()
	var f models.Finding
	if err := json.Unmarshal([]byte(e.finding(id).data), &f); err != nil {
		e.t.Fatal(err)
	}
	return f
}

// newFinding has the city inspector record a planting check in township code with one finding
// (open, deadline 2026-04-01) and returns the finding's id.
func (e *env) newFinding(code string) uuid.UUID {
	e.t.Helper()
	p := e.phone("inspector")
	v, f := uuid.New(), uuid.New()
	resp := p.push(mut("visit.create", visitArgs(v, models.KindPlantingCheck, e.region(code))),
		mut("finding.create", findingArgs(f, v)))
	for _, r := range resp.Results {
		expectStatus(e.t, r, models.StatusApplied)
	}
	return f
}

// step pushes one mutation as username and returns its result.
func (e *env) step(username, name string, args map[string]any) models.MutationResult {
	e.t.Helper()
	return e.phone(username).push(mut(name, args)).Results[0]
}

func rectifyArgs(id uuid.UUID, notes string) map[string]any {
	return map[string]any{"id": id, "notes": notes, "photo_ids": []uuid.UUID{uuid.New(), uuid.New()},
		"rectified_at": "2026-03-20T16:00:00+08:00"}
}

func recheckArgs(id uuid.UUID, passed bool, notes string) map[string]any {
	return map[string]any{"id": id, "passed": passed, "notes": notes, "checked_at": "2026-03-22T10:00:00+08:00"}
}

func expectRejected(t testing.TB, r models.MutationResult, code, field string) {
	t.Helper()
	if r.Status != models.StatusRejected || r.Error == nil || r.Error.Code != code || r.Error.Field != field {
		t.Fatalf("mutation %d: %s %+v, want rejected %s on %q", r.ID, r.Status, r.Error, code, field)
	}
}

func TestFindingLifecycle(t *testing.T) {
	e := newEnv(t)
	id := e.newFinding(dongsheng)
	users := map[string]uuid.UUID{}
	for _, u := range []string{"inspector", "ranger.dongsheng", "dept.agri", "supervisor"} {
		users[u] = e.actor(u, "").User.ID
	}
	steps := []struct {
		user, name string
		args       map[string]any
		status     string
	}{
		{"ranger.dongsheng", "finding.start", map[string]any{"id": id, "notes": "收到，安排整改"}, models.FindingRectifying},
		{"ranger.dongsheng", "finding.rectify", rectifyArgs(id, "first attempt: extinguishers bought"), models.FindingAwaitingRecheck},
		{"supervisor", "finding.recheck", recheckArgs(id, false, "extinguishers empty"), models.FindingRectifying},
		{"dept.agri", "finding.rectify", rectifyArgs(id, "second attempt: extinguishers refilled"), models.FindingAwaitingRecheck},
		{"supervisor", "finding.recheck", recheckArgs(id, true, ""), models.FindingClosed},
	}
	for i, s := range steps {
		before := e.finding(id)
		r := e.step(s.user, s.name, s.args)
		expectStatus(t, r, models.StatusApplied)
		after := e.finding(id)
		if r.Entity == nil || r.Entity.Version != before.version+1 || after.version != before.version+1 {
			t.Fatalf("step %d (%s): version %d → %d, entity %+v", i, s.name, before.version, after.version, r.Entity)
		}
		if after.status != s.status || after.changes != before.changes+1 {
			t.Fatalf("step %d (%s): status column %s (want %s), %d changes logged", i, s.name, after.status, s.status,
				after.changes-before.changes)
		}
		if f := e.findingData(id); f.Status != s.status {
			t.Fatalf("step %d: data.status %s, want %s", i, f.Status, s.status)
		}
	}

	f := e.findingData(id)
	type entry struct {
		step, from, to string
		by             uuid.UUID
		attempt        int
	}
	want := []entry{
		{"create", "", "open", users["inspector"], 0},
		{"start", "open", "rectifying", users["ranger.dongsheng"], 0},
		{"rectify", "rectifying", "awaiting_recheck", users["ranger.dongsheng"], 1},
		{"recheck", "awaiting_recheck", "rectifying", users["supervisor"], 1},
		{"rectify", "rectifying", "awaiting_recheck", users["dept.agri"], 2},
		{"recheck", "awaiting_recheck", "closed", users["supervisor"], 2},
	}
	if len(f.History) != len(want) {
		t.Fatalf("history has %d entries, want %d: %+v", len(f.History), len(want), f.History)
	}
	for i, w := range want {
		h := f.History[i]
		if h.Step != w.step || h.From != w.from || h.To != w.to || h.By != w.by || h.Attempt != w.attempt {
			t.Errorf("history[%d] = %s %s→%s by %s attempt %d, want %+v", i, h.Step, h.From, h.To, h.By, h.Attempt, w)
		}
		if h.At.IsZero() || h.ClientTime == nil || h.Device != "dev-"+map[uuid.UUID]string{
			users["inspector"]: "inspector", users["ranger.dongsheng"]: "ranger.dongsheng",
			users["dept.agri"]: "dept.agri", users["supervisor"]: "supervisor"}[h.By] {
			t.Errorf("history[%d]: at %v, client_time %v, device %q", i, h.At, h.ClientTime, h.Device)
		}
		if i > 0 && h.At.Before(f.History[i-1].At) {
			t.Errorf("history[%d] is older than the entry before it", i)
		}
	}
	// The failed first attempt is still there, with its notes, photos and the re-check's verdict.
	first, failed := f.History[2], f.History[3]
	if first.Notes != "first attempt: extinguishers bought" || len(first.PhotoIDs) != 2 || first.RectifiedAt == nil {
		t.Errorf("first attempt lost: %+v", first)
	}
	if failed.Passed == nil || *failed.Passed || failed.Notes != "extinguishers empty" || failed.CheckedAt == nil {
		t.Errorf("failed re-check: %+v", failed)
	}
	if last := f.History[5]; last.Passed == nil || !*last.Passed {
		t.Errorf("passing re-check: %+v", last)
	}
	if f.Attempts != 2 || f.ClosedAt == nil || !f.ClosedAt.Equal(f.History[5].At) {
		t.Errorf("attempts %d, closed_at %v", f.Attempts, f.ClosedAt)
	}
	if f.DeadlineLight != models.LightNone || f.Overdue {
		t.Errorf("closed finding shows light %s, overdue %v", f.DeadlineLight, f.Overdue)
	}
	// Every other field is what the inspector recorded.
	if f.Description != "no fire extinguishers on site" || f.Deadline != "2026-04-01" || f.Kind != models.KindPlantingCheck {
		t.Errorf("finding fields changed: %+v", f)
	}

	// The supervisor's phone pulls the closed finding with its history.
	sup := e.phone("supervisor")
	sup.pullAll(1000)
	c, ok := sup.has(models.TypeFinding, id)
	if !ok {
		t.Fatal("finding not pulled")
	}
	d := dataOf(t, c)
	if c.Version != e.finding(id).version || d["status"] != "closed" || len(d["history"].([]any)) != 6 || d["attempts"] != 2.0 {
		t.Fatalf("pulled finding: version %d, %v", c.Version, d)
	}

	// A closed finding is the record of what was fixed: finding.update refuses it and changes nothing.
	before := e.finding(id).version
	r := e.step("inspector", "finding.update", set(id, 1, map[string]any{"measures": "check monthly"}))
	expectRejected(t, r, "illegal_state", "id")
	if g := e.findingData(id); g.Status != models.FindingClosed || len(g.History) != 6 || g.Attempts != 2 ||
		g.ClosedAt == nil || g.Measures == "check monthly" || e.finding(id).version != before {
		t.Fatalf("a refused update changed the finding: %+v", g)
	}
}

// TestFindingRectifyFromOpen: a unit that fixes the problem at once sends finding.rectify without
// finding.start first.
func TestFindingRectifyFromOpen(t *testing.T) {
	e := newEnv(t)
	id := e.newFinding(dongsheng)
	expectStatus(t, e.step("dept.agri", "finding.rectify", map[string]any{"id": id, "notes": "fixed on the spot"}),
		models.StatusApplied)
	f := e.findingData(id)
	if f.Status != models.FindingAwaitingRecheck || len(f.History) != 2 || f.History[1].From != models.FindingOpen ||
		f.Attempts != 1 || f.History[1].PhotoIDs != nil || f.History[1].RectifiedAt != nil {
		t.Fatalf("%+v", f)
	}
	if f.DeadlineLight == "" {
		t.Fatal("no deadline light snapshot")
	}
}

func TestFindingCreateIgnoresForgedState(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	v, id := uuid.New(), uuid.New()
	args := findingArgs(id, v)
	args["status"], args["attempts"], args["closed_at"] = "closed", 3, "2026-03-01T00:00:00Z"
	args["history"] = []map[string]any{{"step": "recheck", "to": "closed", "by": uuid.New()}}
	resp := p.push(mut("visit.create", visitArgs(v, models.KindPlantingCheck, e.region(dongsheng))), mut("finding.create", args))
	expectStatus(t, resp.Results[1], models.StatusApplied)
	f := e.findingData(id)
	if f.Status != models.FindingOpen || f.Attempts != 0 || f.ClosedAt != nil || len(f.History) != 1 ||
		f.History[0].Step != "create" || f.History[0].By != p.a.User.ID || f.History[0].To != models.FindingOpen {
		t.Fatalf("%+v", f)
	}
	if e.finding(id).status != models.FindingOpen {
		t.Fatal("status column")
	}
}

// TestFindingStepRejections: each step by a wrong role, out of scope, from a wrong status or with
// bad arguments is rejected with its code and changes nothing.
func TestFindingStepRejections(t *testing.T) {
	e := newEnv(t)
	open := e.newFinding(dongsheng)
	awaiting := e.newFinding(dongsheng)
	expectStatus(t, e.step("ranger.dongsheng", "finding.rectify", rectifyArgs(awaiting, "done")), models.StatusApplied)
	closed := e.newFinding(dongsheng)
	expectStatus(t, e.step("ranger.dongsheng", "finding.rectify", rectifyArgs(closed, "done")), models.StatusApplied)
	expectStatus(t, e.step("supervisor", "finding.recheck", recheckArgs(closed, true, "")), models.StatusApplied)
	elsewhere := e.newFinding("211522101") // another township of the same county
	qinghe := e.newFinding("211521101")

	tooMany := make([]string, models.MaxFindingPhotos+1)
	for i := range tooMany {
		tooMany[i] = uuid.NewString()
	}
	dup := uuid.NewString()
	cases := []struct {
		name, user, mutation string
		id                   uuid.UUID
		args                 map[string]any // without id
		code, field, message string
	}{
		// Roles.
		{"inspector rectifies", "inspector", "finding.rectify", open, map[string]any{"notes": "x"}, "forbidden_role", "", "inspector"},
		{"inspector starts", "inspector", "finding.start", open, map[string]any{}, "forbidden_role", "", ""},
		{"inspector rechecks", "inspector", "finding.recheck", awaiting, map[string]any{"passed": true}, "forbidden_role", "", ""},
		{"township officer rechecks", "ranger.dongsheng", "finding.recheck", awaiting, map[string]any{"passed": true}, "forbidden_role", "", ""},
		{"department rechecks", "dept.agri", "finding.recheck", awaiting, map[string]any{"passed": true}, "forbidden_role", "", ""},
		{"admin rectifies", "admin", "finding.rectify", open, map[string]any{"notes": "x"}, "forbidden_role", "", ""},
		// Scope.
		{"officer of another township", "ranger.dongsheng", "finding.rectify", elsewhere, map[string]any{"notes": "x"}, "out_of_scope", "id", ""},
		{"department of another kind", "dept.market", "finding.rectify", open, map[string]any{"notes": "x"}, "out_of_scope", "kind", ""},
		{"county supervisor of another county", "supervisor.qinghe", "finding.recheck", awaiting, map[string]any{"passed": true}, "out_of_scope", "id", ""},
		{"county supervisor starts elsewhere", "supervisor.qinghe", "finding.start", open, map[string]any{}, "out_of_scope", "id", ""},
		{"officer rectifies in another county", "ranger.dongsheng", "finding.rectify", qinghe, map[string]any{"notes": "x"}, "out_of_scope", "id", ""},
		{"no such finding", "ranger.dongsheng", "finding.rectify", uuid.New(), map[string]any{"notes": "x"}, "not_found", "id", ""},
		// Transitions.
		{"recheck an open finding", "supervisor", "finding.recheck", open, map[string]any{"passed": true}, "illegal_transition", "id", "open → closed"},
		{"failed recheck of an open finding", "supervisor", "finding.recheck", open, map[string]any{"passed": false, "notes": "no"}, "illegal_transition", "id", "open → rectifying"},
		{"rectify a closed finding", "ranger.dongsheng", "finding.rectify", closed, map[string]any{"notes": "again"}, "illegal_transition", "id", "closed → awaiting_recheck"},
		{"recheck a closed finding", "supervisor", "finding.recheck", closed, map[string]any{"passed": true}, "illegal_transition", "id", "closed → closed"},
		{"start a closed finding", "supervisor", "finding.start", closed, map[string]any{}, "illegal_transition", "id", "closed → rectifying"},
		{"rectify twice", "dept.agri", "finding.rectify", awaiting, map[string]any{"notes": "more"}, "illegal_transition", "id", "awaiting_recheck → awaiting_recheck"},
		{"start after rectify", "ranger.dongsheng", "finding.start", awaiting, map[string]any{}, "illegal_transition", "id", "awaiting_recheck → rectifying"},
		// Arguments.
		{"rectify without notes", "ranger.dongsheng", "finding.rectify", open, map[string]any{"notes": "  "}, "required", "notes", ""},
		{"rectify with long notes", "ranger.dongsheng", "finding.rectify", open, map[string]any{"notes": strings.Repeat("整", models.MaxNotesLen+1)}, "too_long", "notes", ""},
		{"rectify with too many photos", "ranger.dongsheng", "finding.rectify", open, map[string]any{"notes": "x", "photo_ids": tooMany}, "too_long", "photo_ids", ""},
		{"rectify with a bad photo id", "ranger.dongsheng", "finding.rectify", open, map[string]any{"notes": "x", "photo_ids": []string{"photo-1"}}, "invalid", "photo_ids[0]", ""},
		{"rectify with a photo twice", "ranger.dongsheng", "finding.rectify", open, map[string]any{"notes": "x", "photo_ids": []string{dup, dup}}, "invalid", "photo_ids[1]", ""},
		{"rectify with a bad time", "ranger.dongsheng", "finding.rectify", open, map[string]any{"notes": "x", "rectified_at": "yesterday"}, "invalid", "rectified_at", ""},
		{"recheck without a verdict", "supervisor", "finding.recheck", awaiting, map[string]any{"notes": "ok"}, "required", "passed", ""},
		{"failed recheck without notes", "supervisor", "finding.recheck", awaiting, map[string]any{"passed": false}, "required", "notes", ""},
		{"recheck with a bad time", "supervisor", "finding.recheck", awaiting, map[string]any{"passed": true, "checked_at": "2026-13-01"}, "invalid", "checked_at", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.finding(c.id)
			args := map[string]any{"id": c.id}
			for k, v := range c.args {
				args[k] = v
			}
			r := e.step(c.user, c.mutation, args)
			expectRejected(t, r, c.code, c.field)
			if !strings.Contains(r.Error.Message, c.message) {
				t.Errorf("message %q does not say %q", r.Error.Message, c.message)
			}
			if after := e.finding(c.id); after != before {
				t.Errorf("a rejected step changed the finding:\n%+v\n%+v", before, after)
			}
		})
	}

	// The same steps by the right people in scope apply.
	expectStatus(t, e.step("supervisor.qinghe", "finding.start", map[string]any{"id": qinghe}), models.StatusApplied)
	expectStatus(t, e.step("supervisor.qinghe", "finding.rectify", rectifyArgs(qinghe, "recorded for the unit")), models.StatusApplied)
	expectStatus(t, e.step("supervisor.qinghe", "finding.recheck", recheckArgs(qinghe, true, "")), models.StatusApplied)
	expectStatus(t, e.step("ranger.dongsheng", "finding.start", map[string]any{"id": open}), models.StatusApplied)
	expectStatus(t, e.step("supervisor", "finding.recheck", recheckArgs(awaiting, true, "ok")), models.StatusApplied)
}

// TestFindingStepsInOnePush: a unit's phone queues several steps offline; they apply in order in
// one push, and a bad one in the middle is rejected without blocking the rest.
func TestFindingStepsInOnePush(t *testing.T) {
	e := newEnv(t)
	id := e.newFinding(dongsheng)
	p := e.phone("ranger.dongsheng")
	resp := p.push(mut("finding.start", map[string]any{"id": id}),
		mut("finding.start", map[string]any{"id": id}), // already rectifying
		mut("finding.rectify", rectifyArgs(id, "done")))
	expectStatus(t, resp.Results[0], models.StatusApplied)
	expectRejected(t, resp.Results[1], "illegal_transition", "id")
	expectStatus(t, resp.Results[2], models.StatusApplied)
	if s := e.finding(id); s.version != 3 || s.status != models.FindingAwaitingRecheck {
		t.Fatalf("%+v", s)
	}
	if f := e.findingData(id); len(f.History) != 3 {
		t.Fatalf("history %+v", f.History)
	}
}
