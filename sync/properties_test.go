package sync

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// The properties of SYNC_PROTOCOL.md, one test each (4 and 5 are in concurrency_test.go).

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.store.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestProperty1ReplayChangesNothing(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	town := e.region("211522105")
	v := uuid.New()
	ms := []Mutation{mut("visit.create", visitArgs(v, models.KindProjectVisit, town)),
		mut("visit.update", set(v, 1, map[string]any{"notes": "n2"})),
		mut("visit.delete", map[string]any{"id": uuid.New()})} // rejected: no such visit
	first := p.push(ms...)
	records, changes := e.count(`SELECT count(*) FROM records`), e.count(`SELECT count(*) FROM change_log`)
	// The response was lost; the phone sends the same push again, twice.
	for range 2 {
		p.next = 1
		again := p.push(ms...)
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("replay differs:\n%+v\n%+v", first, again)
		}
	}
	if e.count(`SELECT count(*) FROM records`) != records || e.count(`SELECT count(*) FROM change_log`) != changes {
		t.Fatal("a replay wrote something")
	}
	if last := e.count(`SELECT last_mutation_id FROM sync_clients WHERE client_id = $1`, p.id); last != 3 {
		t.Fatalf("last_mutation_id %d", last)
	}
	// A push that overlaps: old ids replay, the new one applies.
	p.next = 2
	resp := p.push(mut("visit.update", set(v, 1, map[string]any{"notes": "n2"})), mut("visit.delete", map[string]any{}),
		mut("visit.submit", map[string]any{"id": v}))
	if resp.LastMutationID != 4 || !reflect.DeepEqual(resp.Results[:2], first.Results[1:]) {
		t.Fatalf("overlap: %+v", resp)
	}
	expectStatus(t, resp.Results[2], models.StatusApplied)
}

func TestProperty2GapIsRefused(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	town := e.region("211522105")
	p.push(mut("visit.create", visitArgs(uuid.New(), models.KindProjectVisit, town)))
	p.next = 3 // mutation 2 was lost
	_, err := p.pushErr(mut("visit.create", visitArgs(uuid.New(), models.KindProjectVisit, town)),
		mut("visit.create", visitArgs(uuid.New(), models.KindProjectVisit, town)))
	var gap *ErrMutationGap
	if !errors.As(err, &gap) || gap.Expected != 2 {
		t.Fatalf("err %v", err)
	}
	if n := e.count(`SELECT count(*) FROM records WHERE type = 'visit'`); n != 1 {
		t.Fatalf("%d visits after a refused gap, want 1", n)
	}
	// Ids that do not count up inside one push are refused before anything is read.
	_, _, err = e.engine.Push(e.ctx, p.a, &PushRequest{ClientID: p.id, ProtocolVersion: 1,
		Mutations: []Mutation{{ID: 2, Name: "visit.submit"}, {ID: 4, Name: "visit.submit"}}})
	var ve *models.ValidationError
	if !errors.As(err, &ve) || ve.Errors[0].Field != "mutations[1].id" {
		t.Fatalf("err %v", err)
	}
}

// TestProperty3LastMutationIDHasItsEffects pulls in small pages while a phone pushes: whenever a
// page reports last_mutation_id n, the replica built so far holds the visit of every mutation ≤ n.
func TestProperty3LastMutationIDHasItsEffects(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	town := e.region("211522105")
	const n = 40
	ids := make([]uuid.UUID, n+1)
	done := make(chan error, 1)
	for i := 1; i <= n; i++ {
		ids[i] = uuid.New()
	}
	go func() {
		for i := 1; i <= n; i++ {
			m := mut("visit.create", visitArgs(ids[i], models.KindProjectVisit, town))
			m.ID = int64(i)
			if _, _, err := e.engine.Push(e.ctx, p.a, &PushRequest{ClientID: p.id, ProtocolVersion: 1, Mutations: []Mutation{m}}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	seen := int64(0)
	check := func(resp *PullResponse) {
		p.apply(resp.Changes)
		for i := int64(1); i <= resp.LastMutationID; i++ {
			if _, ok := p.has(models.TypeVisit, ids[i]); !ok {
				t.Fatalf("last_mutation_id %d reported before mutation %d's visit arrived", resp.LastMutationID, i)
			}
		}
		seen = max(seen, resp.LastMutationID)
	}
	var pushErr error
	for finished := false; !finished || seen < n; {
		select {
		case pushErr = <-done:
			finished = true
			if pushErr != nil {
				t.Fatal(pushErr)
			}
		default:
		}
		resp, err := e.engine.Pull(e.ctx, p.a, &PullRequest{ClientID: p.id, Cursor: p.cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		check(resp)
		c := resp.Cursor
		p.cursor = &c
	}
}

func TestProperty6RejectedMutationDoesNotBlockTheQueue(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector.jianan") // county 211523, project visits only
	own, other := e.region("211523101"), e.region("211522105")
	good := uuid.New()
	resp := p.push(
		mut("visit.create", visitArgs(uuid.New(), models.KindProjectVisit, other)),     // outside the county
		mut("visit.create", visitArgs(uuid.New(), models.KindFirePatrol, own)),         // kind outside scope
		mut("visit.create", map[string]any{"id": uuid.New(), "kind": "project_visit"}), // invalid
		mut("no.such.mutation", map[string]any{}),
		mut("visit.create", visitArgs(good, models.KindProjectVisit, own)))
	want := []struct{ status, code, field string }{
		{models.StatusRejected, "out_of_scope", "region_id"}, {models.StatusRejected, "out_of_scope", "kind"},
		{models.StatusRejected, "required", "started_at"}, {models.StatusRejected, "unknown_mutation", "name"},
		{models.StatusApplied, "", ""}}
	for i, w := range want {
		r := resp.Results[i]
		code, field := "", ""
		if r.Error != nil {
			code, field = r.Error.Code, r.Error.Field
		}
		if r.Status != w.status || code != w.code || field != w.field {
			t.Errorf("mutation %d: %s %s %s, want %+v", r.ID, r.Status, code, field, w)
		}
	}
	if resp.LastMutationID != 5 {
		t.Fatalf("last %d", resp.LastMutationID)
	}
	p.pullAll(1000)
	if _, ok := p.has(models.TypeVisit, good); !ok {
		t.Fatal("the good visit was not pulled")
	}
	rej, ok := p.local[models.TypeRejection+"/1"]
	if !ok || p.count(models.TypeRejection) != 4 {
		t.Fatalf("rejections pulled: %d", p.count(models.TypeRejection))
	}
	if d := dataOf(t, rej); d["name"] != "visit.create" || d["error"].(map[string]any)["code"] != "out_of_scope" {
		t.Fatalf("rejection %v", d)
	}
	// Another phone of another user never sees this client's rejections.
	q := e.phone("inspector")
	q.pullAll(1000)
	if q.count(models.TypeRejection) != 0 {
		t.Fatal("rejections leaked to another client")
	}
}

// TestProperty7TransientFailureAdvancesNothing kills the push's database connection in the middle
// of its transaction: the push fails as unavailable, nothing is kept, and the retry applies once.
func TestProperty7TransientFailureAdvancesNothing(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	town := e.region("211522105")
	v := uuid.New()
	killed := false
	e.engine.hookBeforeLog = func() {
		if killed {
			return
		}
		killed = true
		admin, err := storage.Open(context.Background(), e.dsn, storage.Options{MaxOpenConns: 1})
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.SQL().Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle in transaction'`); err != nil {
			t.Error(err)
		}
	}
	_, err := p.pushErr(mut("visit.create", visitArgs(v, models.KindProjectVisit, town)))
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("push during a dropped connection: %v, want storage.ErrUnavailable", err)
	}
	if e.count(`SELECT count(*) FROM records WHERE type NOT IN ('site', 'checklist')`) != 0 || e.count(`SELECT count(*) FROM sync_mutations`) != 0 {
		t.Fatal("a failed push left something behind")
	}
	resp := p.push(mut("visit.create", visitArgs(v, models.KindProjectVisit, town)))
	expectStatus(t, resp.Results[0], models.StatusApplied)
	p.next = 1
	again := p.push(mut("visit.create", visitArgs(v, models.KindProjectVisit, town)))
	if !reflect.DeepEqual(resp, again) || e.count(`SELECT count(*) FROM records WHERE type NOT IN ('site', 'checklist')`) != 1 {
		t.Fatal("the retry applied more than once")
	}
}

// TestProperty8ScopesFollowMoves: a township moves from one county to another; the first county's
// phone gets removes, the second's gets the full records; a user's own scope change resets.
func TestProperty8ScopesFollowMoves(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	kangbei, qinghe := e.region("211522"), e.region("211521")
	town := e.region("211522105")
	// A supervisor for 康北县 (the demo has one for 青河县).
	u := models.User{Username: "supervisor.kangbei", Name: "康北督查", PasswordHash: "x", Role: models.RoleSupervisor,
		RegionID: &kangbei.ID, Active: true}
	if err := e.store.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	insp, kb, qh := e.phone("inspector"), e.phone("supervisor.kangbei"), e.phone("supervisor.qinghe")
	v, f := uuid.New(), uuid.New()
	insp.push(mut("visit.create", visitArgs(v, models.KindPlantingCheck, town)), mut("finding.create", findingArgs(f, v)))
	kb.pullAll(50)
	qh.pullAll(50)
	if _, ok := kb.has(models.TypeVisit, v); !ok {
		t.Fatal("康北 supervisor lacks the visit")
	}
	if _, ok := qh.has(models.TypeVisit, v); ok {
		t.Fatal("青河 supervisor has a visit outside their scope")
	}
	move := func(to models.Region) {
		if _, err := e.engine.UpdateRegion(ctx, SystemActor(), town.ID, RegionPatch{ParentID: models.Some(to.ID)}); err != nil {
			t.Fatal(err)
		}
	}
	move(qinghe)
	kb.pullAll(50)
	qh.pullAll(50)
	if _, ok := kb.has(models.TypeVisit, v); ok {
		t.Fatal("康北 supervisor kept a visit that left their scope")
	}
	if _, ok := kb.has(models.TypeRegion, town.ID); ok {
		t.Fatal("康北 supervisor kept the moved township")
	}
	if _, ok := qh.has(models.TypeFinding, f); !ok {
		t.Fatal("青河 supervisor did not get the finding that entered their scope")
	}
	move(kangbei)
	kb.pullAll(50)
	qh.pullAll(50)
	if c, ok := kb.has(models.TypeVisit, v); !ok || dataOf(t, c)["id"] != v.String() {
		t.Fatal("re-entering did not re-send the full record")
	}
	if _, ok := qh.has(models.TypeVisit, v); ok {
		t.Fatal("青河 supervisor kept the visit after it moved back")
	}
	// Nothing outside the scope: every region 青河's phone holds lies under 青河.
	qhRegions, _ := e.store.ListRegions(ctx, storage.RegionFilter{Scope: qh.a.Scope})
	inScope := map[string]bool{}
	for _, r := range qhRegions {
		inScope[r.ID.String()] = true
	}
	for k, c := range qh.local {
		if c.Type == models.TypeRegion && !inScope[c.ID] {
			t.Fatalf("青河 phone holds %s outside its scope", k)
		}
	}
	// The user's own scope changes: the next pull resets and converges on the new scope.
	if _, err := e.store.UpdateUser(ctx, u.ID, storage.UserPatch{RegionID: &qinghe.ID}); err != nil {
		t.Fatal(err)
	}
	kb.a = e.actor("supervisor.kangbei", kb.a.DeviceID)
	if _, reset := kb.pullAll(50); !reset {
		t.Fatal("a scope change did not reset")
	}
	if _, ok := kb.has(models.TypeVisit, v); ok || kb.count(models.TypeRegion) != len(qhRegions) {
		t.Fatalf("after the reset the phone holds %d regions, want %d", kb.count(models.TypeRegion), len(qhRegions))
	}
}

// TestProperty9DeletesReachOfflinePhones: a delete reaches a phone within the retention window;
// past it the phone is reset and converges.
func TestProperty9DeletesReachOfflinePhones(t *testing.T) {
	e := newEnv(t)
	author, offline := e.phone("inspector"), e.phone("supervisor")
	town := e.region("211522105")
	v1, v2, keep := uuid.New(), uuid.New(), uuid.New()
	f1 := uuid.New()
	author.push(mut("visit.create", visitArgs(v1, models.KindProjectVisit, town)), mut("finding.create", findingArgs(f1, v1)),
		mut("visit.create", visitArgs(v2, models.KindProjectVisit, town)), mut("visit.create", visitArgs(keep, models.KindProjectVisit, town)))
	offline.pullAll(100)
	author.push(mut("visit.delete", map[string]any{"id": v1}))
	offline.pullAll(100)
	if _, ok := offline.has(models.TypeVisit, v1); ok {
		t.Fatal("the delete did not reach the phone")
	}
	if _, ok := offline.has(models.TypeFinding, f1); ok {
		t.Fatal("the deleted visit's finding stayed on the phone")
	}
	// v2 is deleted while the phone is offline past the retention window.
	author.push(mut("visit.delete", map[string]any{"id": v2}))
	if _, err := e.store.PruneChanges(e.ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, reset := offline.pullAll(100); !reset {
		t.Fatal("a cursor older than the retention window was not reset")
	}
	if _, ok := offline.has(models.TypeVisit, v2); ok {
		t.Fatal("after the reset the phone still holds the deleted visit")
	}
	if _, ok := offline.has(models.TypeVisit, keep); !ok || offline.count(models.TypeRegion) != 713 {
		t.Fatal("after the reset the phone lacks live records")
	}
	if n := e.count(`SELECT count(*) FROM records WHERE deleted_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d tombstones survived pruning", n)
	}
}

// TestProperty11FieldLevelMerge: offline edits to different fields both survive; the same field
// resolves by the rule (later arrival wins), is flagged, and keeps both values.
func TestProperty11FieldLevelMerge(t *testing.T) {
	e := newEnv(t)
	a, b := e.phone("inspector"), e.phone("supervisor")
	town := e.region("211522105")
	v, f := uuid.New(), uuid.New()
	a.push(mut("visit.create", visitArgs(v, models.KindProjectVisit, town)), mut("finding.create", findingArgs(f, v)))
	// Both phones saw version 1 and went offline.
	ra := a.push(mut("finding.update", set(f, 1, map[string]any{"responsible_unit": "县住建局", "deadline": "2026-05-01"})),
		mut("visit.update", set(v, 1, map[string]any{"answers.workers_on_site": 80})))
	rb := b.push(mut("finding.update", set(f, 1, map[string]any{"responsible_unit": "县应急局", "measures": "配备灭火器"})),
		mut("visit.update", set(v, 1, map[string]any{"notes": "supervisor note", "answers.stage": "completed"})))
	expectStatus(t, ra.Results[0], models.StatusApplied)
	expectStatus(t, rb.Results[0], models.StatusConflict)
	expectStatus(t, rb.Results[1], models.StatusApplied) // different fields, different answers: no conflict
	rec, err := e.store.GetRecord(e.ctx, models.TypeFinding, f)
	if err != nil {
		t.Fatal(err)
	}
	var fd models.Finding
	json.Unmarshal(rec.Data, &fd)
	if fd.ResponsibleUnit != "县应急局" || fd.Deadline != "2026-05-01" || fd.Measures != "配备灭火器" || rec.Version != 3 {
		t.Fatalf("merged finding %+v v%d", fd, rec.Version)
	}
	vrec, _ := e.store.GetRecord(e.ctx, models.TypeVisit, v)
	var vd models.Visit
	json.Unmarshal(vrec.Data, &vd)
	if string(vd.Answers["workers_on_site"]) != "80" || string(vd.Answers["stage"]) != `"completed"` || vd.Notes != "supervisor note" {
		t.Fatalf("merged visit %+v", vd)
	}
	cs, err := e.store.ListConflicts(e.ctx, storage.ConflictFilter{Limit: 10})
	if err != nil || len(cs) != 1 {
		t.Fatalf("conflicts %v %v", cs, err)
	}
	c := cs[0]
	if c.Field != "responsible_unit" || string(c.ServerValue) != `"县住建局"` || string(c.ClientValue) != `"县应急局"` ||
		c.Server.UserID != a.a.User.ID || c.Client.UserID != b.a.User.ID || c.Server.DeviceID != a.a.DeviceID || c.Kept != "client" {
		t.Fatalf("conflict %+v", c)
	}
	if rb.Results[0].Conflicts[0] != c.ID {
		t.Fatal("result does not name the conflict")
	}
	// Both people hear of it on their next pull.
	a.pullAll(1000)
	b.pullAll(1000)
	if _, ok := a.has(models.TypeConflict, c.ID); !ok {
		t.Fatal("the overwritten user did not get the conflict")
	}
	if _, ok := b.has(models.TypeConflict, c.ID); !ok {
		t.Fatal("the later writer did not get the conflict")
	}
	// A supervisor puts the first value back.
	sup := e.actor("supervisor", "sup-tablet")
	res, err := e.engine.ResolveConflict(e.ctx, sup, c.ID, Resolution{Keep: "server", Note: "住建局 is responsible"})
	if err != nil || res.ResolvedAt == nil {
		t.Fatalf("resolve %v %+v", err, res)
	}
	a.pullAll(1000)
	got, _ := a.has(models.TypeFinding, f)
	if dataOf(t, got)["responsible_unit"] != "县住建局" || got.Version != 4 {
		t.Fatalf("after resolution %v v%d", dataOf(t, got), got.Version)
	}
	if _, err := e.engine.ResolveConflict(e.ctx, sup, c.ID, Resolution{Keep: "client"}); !errors.Is(err, ErrAlreadyResolved) {
		t.Fatalf("second resolve: %v", err)
	}
	// Outside the resolver's scope the conflict does not exist.
	if _, err := e.engine.ResolveConflict(e.ctx, e.actor("supervisor.qinghe", "x"), c.ID, Resolution{Keep: "client"}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("out-of-scope resolve: %v", err)
	}
	// The resolution is audited with it, once: the refused attempts left no line.
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'conflict.resolve' AND target_id = $1 AND user_id = $2
		AND device_id = 'sup-tablet'`, c.ID.String(), sup.User.ID); n != 1 ||
		e.count(`SELECT count(*) FROM audit_log WHERE action = 'conflict.resolve'`) != 1 {
		t.Fatalf("%d audit lines for the resolution", n)
	}
}

// TestProperty12OldClientsStillPush: an app several versions behind pushes its queue; below the
// minimum protocol it gets ErrProtocolTooOld, nothing is stored, and after updating it loses nothing.
func TestProperty12OldClientsStillPush(t *testing.T) {
	e := newEnv(t)
	e.engine.cfg.MinProtocol = 1
	p := e.phone("inspector")
	town := e.region("211522105")
	queue := []Mutation{mut("visit.create", visitArgs(uuid.New(), models.KindProjectVisit, town))}
	queue[0].ID = 1
	_, _, err := e.engine.Push(e.ctx, p.a, &PushRequest{ClientID: p.id, ProtocolVersion: 0, AppVersion: "0.9.0", Mutations: queue})
	var old *ErrProtocolTooOld
	if !errors.As(err, &old) || old.Min != 1 {
		t.Fatalf("err %v", err)
	}
	if e.count(`SELECT count(*) FROM sync_clients`) != 0 {
		t.Fatal("a refused push registered its client")
	}
	resp, _, err := e.engine.Push(e.ctx, p.a, &PushRequest{ClientID: p.id, ProtocolVersion: 1, AppVersion: "1.0.0", Mutations: queue})
	if err != nil || resp.LastMutationID != 1 {
		t.Fatalf("old app version: %v %+v", err, resp)
	}
	expectStatus(t, resp.Results[0], models.StatusApplied)
}

// TestConcurrentCreateOfOneID: two installs create the same UUID at the same moment; one create
// applies, the other is rejected already_exists, and neither overwrites the other.
func TestConcurrentCreateOfOneID(t *testing.T) {
	e := newEnv(t)
	town := e.region("211522105")
	a, b := e.phone("inspector"), e.phone("supervisor")
	v := uuid.New()
	arrived := make(chan struct{}, 4)
	e.engine.hookBeforeLog = func() {
		arrived <- struct{}{}
		time.Sleep(200 * time.Millisecond) // hold the first transaction open while the second writes
	}
	results := make(chan models.MutationResult, 2)
	for _, p := range []*phone{a, b} {
		go func(p *phone) {
			m := mut("visit.create", visitArgs(v, models.KindProjectVisit, town))
			m.ID = 1
			resp, _, err := e.engine.Push(e.ctx, p.a, &PushRequest{ClientID: p.id, ProtocolVersion: 1, Mutations: []Mutation{m}})
			if err != nil {
				t.Error(err)
				results <- models.MutationResult{}
				return
			}
			results <- resp.Results[0]
		}(p)
	}
	r1, r2 := <-results, <-results
	if r1.Status == r2.Status {
		t.Fatalf("both creates ended %s / %s", r1.Status, r2.Status)
	}
	rej := r1
	if r2.Status == models.StatusRejected {
		rej = r2
	}
	if rej.Error == nil || rej.Error.Code != "already_exists" {
		t.Fatalf("the losing create: %+v", rej)
	}
	if n := e.count(`SELECT count(*) FROM change_log WHERE record_type = 'visit'`); n != 1 {
		t.Fatalf("%d visit changes logged, want 1", n)
	}
}
