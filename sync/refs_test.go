package sync

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/google/uuid"
)

// Writes through references: every id a mutation names must lie in the writer's scope (region
// subtree and kinds), and a visit's site in the visit's region. The demo users:
// inspector.jianan writes project visits in county 211523 (建安县); supervisor.qinghe supervises
// county 211521; ranger.dongsheng is the township officer of 211522105 (东升镇, county 211522 康北县)
// for fire patrols and planting checks; "inspector" works the whole city.

// refsFixture is what the scenarios point at: records of county 211522 (written by the city
// inspector) and of inspector.jianan's county.
type refsFixture struct {
	otherVisit, otherFinding, otherPatrol uuid.UUID // project visit, its finding, a fire patrol: 东升镇
	plantingFinding                       uuid.UUID // a planting-check finding in 东升镇 (ranger.dongsheng's scope)
	ownVisit                              uuid.UUID // inspector.jianan's project visit in 211523101
	ownPhoto                              uuid.UUID // attached to ownVisit
	ownTown, ownTown2                     models.Region
	patrolChecklist                       uuid.UUID // the built-in fire_patrol checklist
}

func newRefsFixture(e *env) refsFixture {
	e.t.Helper()
	f := refsFixture{otherVisit: uuid.New(), otherFinding: uuid.New(), otherPatrol: uuid.New(), ownVisit: uuid.New(),
		ownPhoto: uuid.New(), ownTown: e.region("211523101"), ownTown2: e.region("211523102"),
		patrolChecklist: models.DefaultChecklistID(models.KindFirePatrol)}
	town := e.region(dongsheng)
	city := e.phone("inspector")
	for _, r := range city.push(mut("visit.create", visitArgs(f.otherVisit, models.KindProjectVisit, town)),
		mut("finding.create", findingArgs(f.otherFinding, f.otherVisit)),
		mut("visit.create", visitArgs(f.otherPatrol, models.KindFirePatrol, town))).Results {
		expectStatus(e.t, r, models.StatusApplied)
	}
	f.plantingFinding = e.newFinding(dongsheng)
	jianan := e.phone("inspector.jianan")
	for _, r := range jianan.push(mut("visit.create", visitArgs(f.ownVisit, models.KindProjectVisit, f.ownTown)),
		mut("photo.attach", attachArgs(f.ownPhoto, f.ownVisit, nil))).Results {
		expectStatus(e.t, r, models.StatusApplied)
	}
	return f
}

// stateDigest sums up what a refused mutation must leave alone: every record (type, id, version,
// deletion), the change-log rows of records, and the conflicts.
func (e *env) stateDigest() string {
	e.t.Helper()
	var d string
	if err := e.store.SQL().QueryRow(`SELECT concat_ws('|',
		(SELECT md5(string_agg(type || id || version || coalesce(deleted_at::text, '') || md5(data::text), ',' ORDER BY type, id)) FROM records),
		(SELECT count(*) FROM change_log WHERE record_type <> 'rejection'),
		(SELECT count(*) FROM conflicts))`).Scan(&d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

type refScenario struct {
	name, user, mutation string
	args                 func(f refsFixture) map[string]any
	code, field          string
}

// refScenarios are writes that name something outside the writer's scope, at least one per
// mutation name (TestEveryMutationChecksTheIDsItNames holds every registered name to that).
var refScenarios = []refScenario{
	{"create in own township at another county's site", "inspector.jianan", "visit.create", func(f refsFixture) map[string]any {
		a := visitArgs(uuid.New(), models.KindProjectVisit, f.ownTown)
		a["site_id"] = harnessSiteIDs[models.KindProjectVisit]
		return a
	}, "out_of_scope", "site_id"},
	{"create at another county's site only", "inspector.jianan", "visit.create", func(f refsFixture) map[string]any {
		a := visitArgs(uuid.New(), models.KindProjectVisit, f.ownTown)
		delete(a, "region_id")
		a["site_id"] = harnessSiteIDs[models.KindProjectVisit]
		return a
	}, "out_of_scope", "site_id"},
	{"create at a site outside the visit's region", "inspector.jianan", "visit.create", func(f refsFixture) map[string]any {
		a := visitArgs(uuid.New(), models.KindProjectVisit, f.ownTown)
		a["site_id"] = storagetest.SiteIn(models.KindProjectVisit, f.ownTown2.ID) // own county, another township
		return a
	}, "out_of_scope", "site_id"},
	{"create with a checklist of a kind outside the scope", "inspector.jianan", "visit.create", func(f refsFixture) map[string]any {
		a := visitArgs(uuid.New(), models.KindProjectVisit, f.ownTown)
		a["checklist"] = map[string]any{"id": f.patrolChecklist, "version": 1}
		return a
	}, "out_of_scope", "checklist.id"},
	{"update to another county's site", "inspector.jianan", "visit.update", func(f refsFixture) map[string]any {
		return set(f.ownVisit, 1, map[string]any{"site_id": harnessSiteIDs[models.KindProjectVisit]})
	}, "out_of_scope", "site_id"},
	{"update the region away from the site", "inspector.jianan", "visit.update", func(f refsFixture) map[string]any {
		return set(f.ownVisit, 1, map[string]any{"region_id": f.ownTown2.ID})
	}, "out_of_scope", "site_id"},
	{"update the region to another county", "inspector.jianan", "visit.update", func(f refsFixture) map[string]any {
		return set(f.ownVisit, 1, map[string]any{"region_id": harnessRegionID})
	}, "out_of_scope", "region_id"},
	{"update region and site to another county", "inspector.jianan", "visit.update", func(f refsFixture) map[string]any {
		return set(f.ownVisit, 1, map[string]any{"site_id": harnessSiteIDs[models.KindProjectVisit], "region_id": harnessRegionID})
	}, "out_of_scope", "region_id"},
	{"update to a checklist of a kind outside the scope", "inspector.jianan", "visit.update", func(f refsFixture) map[string]any {
		return set(f.ownVisit, 1, map[string]any{"checklist": map[string]any{"id": f.patrolChecklist, "version": 1}})
	}, "out_of_scope", "checklist.id"},
	{"submit another county's visit", "inspector.jianan", "visit.submit", func(f refsFixture) map[string]any {
		return map[string]any{"id": f.otherVisit}
	}, "out_of_scope", "id"},
	{"delete another county's visit", "inspector.jianan", "visit.delete", func(f refsFixture) map[string]any {
		return map[string]any{"id": f.otherVisit}
	}, "out_of_scope", "id"},
	{"finding on another county's visit", "inspector.jianan", "finding.create", func(f refsFixture) map[string]any {
		return findingArgs(uuid.New(), f.otherVisit)
	}, "out_of_scope", "visit_id"},
	{"finding on a visit of a kind outside the scope", "ranger.dongsheng", "finding.create", func(f refsFixture) map[string]any {
		return findingArgs(uuid.New(), f.otherVisit) // a project visit in the ranger's own township
	}, "out_of_scope", "visit_id"},
	{"update another county's finding", "inspector.jianan", "finding.update", func(f refsFixture) map[string]any {
		return set(f.otherFinding, 1, map[string]any{"responsible_unit": "建安县住建局"})
	}, "out_of_scope", "id"},
	{"start another county's finding", "supervisor.qinghe", "finding.start", func(f refsFixture) map[string]any {
		return map[string]any{"id": f.otherFinding}
	}, "out_of_scope", "id"},
	{"rectify with another county's photo", "ranger.dongsheng", "finding.rectify", func(f refsFixture) map[string]any {
		return map[string]any{"id": f.plantingFinding, "notes": "fixed", "photo_ids": []uuid.UUID{uuid.New(), f.ownPhoto}}
	}, "out_of_scope", "photo_ids[1]"},
	{"recheck another county's finding", "supervisor.qinghe", "finding.recheck", func(f refsFixture) map[string]any {
		return map[string]any{"id": f.otherFinding, "passed": true}
	}, "out_of_scope", "id"},
	{"recheck with another county's photo", "supervisor", "finding.recheck", func(f refsFixture) map[string]any {
		return map[string]any{"id": f.plantingFinding, "passed": false, "notes": "no", "photo_ids": []uuid.UUID{f.ownPhoto}}
	}, "", ""}, // the city supervisor's scope covers both counties: the photo is in scope (the step is illegal)
	{"attach to another county's visit", "inspector.jianan", "photo.attach", func(f refsFixture) map[string]any {
		return attachArgs(uuid.New(), f.otherVisit, nil)
	}, "out_of_scope", "visit_id"},
	{"attach to own visit and another county's finding", "inspector.jianan", "photo.attach", func(f refsFixture) map[string]any {
		return attachArgs(uuid.New(), f.ownVisit, map[string]any{"finding_id": f.otherFinding})
	}, "out_of_scope", "finding_id"},
	{"append to another county's patrol", "supervisor.qinghe", "track.append", func(f refsFixture) map[string]any {
		return appendArgs(f.otherPatrol, 0, walk(0, 0, 100, 0, time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)))
	}, "out_of_scope", "visit_id"},
}

// harnessRegionID is a placeholder replaced by the id of region 211522105 (东升镇) in a scenario's args.
var harnessRegionID = uuid.MustParse("00000000-0000-4000-8000-00000000d5d5")

// TestWritesThroughReferencesStayInScope: a mutation naming anything outside the writer's scope
// is rejected as out_of_scope on the argument that named it, and changes nothing: no record, no
// change-log row (but the rejection notice to the pushing install), no conflict.
func TestWritesThroughReferencesStayInScope(t *testing.T) {
	e := newEnv(t)
	f := newRefsFixture(e)
	town := e.region(dongsheng).ID
	for _, sc := range refScenarios {
		t.Run(sc.name, func(t *testing.T) {
			args := sc.args(f)
			if s, ok := args["set"].(map[string]any); ok && s["region_id"] == harnessRegionID {
				s["region_id"] = town
			}
			before, rejections := e.stateDigest(), e.count(`SELECT count(*) FROM change_log WHERE record_type = 'rejection'`)
			r := e.phone(sc.user).push(mut(sc.mutation, args)).Results[0]
			if sc.code == "" {
				if r.Status == models.StatusRejected && r.Error.Code == "out_of_scope" {
					t.Fatalf("an id in scope was refused: %+v", r.Error)
				}
				return
			}
			expectRejected(t, r, sc.code, sc.field)
			if after := e.stateDigest(); after != before {
				t.Fatalf("a refused mutation changed the database: %s -> %s", before, after)
			}
			if n := e.count(`SELECT count(*) FROM change_log WHERE record_type = 'rejection'`); n != rejections+1 {
				t.Fatalf("rejection notices %d -> %d, want one more", rejections, n)
			}
		})
	}
}

// TestEveryMutationChecksTheIDsItNames: every registered mutation has at least one scenario in
// refScenarios, so a new mutation that names an id comes with a test that its ids are checked.
func TestEveryMutationChecksTheIDsItNames(t *testing.T) {
	for _, name := range DefaultRegistry().Names() {
		if !slices.ContainsFunc(refScenarios, func(s refScenario) bool { return s.mutation == name && s.code == "out_of_scope" }) {
			t.Errorf("mutation %s has no out_of_scope scenario in refScenarios: add one for each id it names", name)
		}
	}
}

// TestReferenceAttackLeavesOtherCountyReportsAlone: a visit placed in the writer's own county at
// another county's project site, then submitted, must not take the site off that county's list of
// projects without a visit (the monthly dispatch).
func TestReferenceAttackLeavesOtherCountyReportsAlone(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector.jianan")
	kangbei := e.region("211522")
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	unvisited := func() []uuid.UUID {
		list, _, err := e.store.ProjectsWithoutVisit(e.ctx, kangbei.Path, from, to, 1000)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]uuid.UUID, len(list))
		for i, s := range list {
			ids[i] = s.ID
		}
		return ids
	}
	before := unvisited()
	target := harnessSiteIDs[models.KindProjectVisit]
	if !slices.Contains(before, target) {
		t.Fatalf("the target site %s is not on 康北县's list to begin with: %v", target, before)
	}
	digest := e.stateDigest()
	v := uuid.New()
	args := visitArgs(v, models.KindProjectVisit, e.region("211523101")) // started 2026-03-14
	args["site_id"] = target
	resp := p.push(mut("visit.create", args), mut("visit.submit", map[string]any{"id": v}))
	if after := unvisited(); !slices.Equal(after, before) {
		t.Fatalf("康北县's projects without a visit changed: %d -> %d (target still listed: %v)", len(before), len(after),
			slices.Contains(after, target))
	}
	expectRejected(t, resp.Results[0], "out_of_scope", "site_id")
	expectRejected(t, resp.Results[1], "not_found", "id")
	if e.stateDigest() != digest {
		t.Fatal("the refused visit changed the database")
	}
	// The same visit at the inspector's own county's site is applied and counts there.
	args["id"], args["site_id"] = uuid.New(), storagetest.SiteIn(models.KindProjectVisit, e.region("211523101").ID)
	expectStatus(t, p.push(mut("visit.create", args)).Results[0], models.StatusApplied)
}

// TestResolveConflictKeepsTheValueInScope: a supervisor resolving a conflict writes the chosen
// value through the same checks as a phone's update: a region outside their scope is refused
// (422 on value) and nothing changes; a value inside it is written.
func TestResolveConflictKeepsTheValueInScope(t *testing.T) {
	e := newEnv(t)
	insp, sup := e.phone("inspector"), e.phone("supervisor.qinghe")
	v := uuid.New()
	args := visitArgs(v, models.KindPlantingCheck, e.region("211521101201")) // a village of 清河县, no site
	delete(args, "site_id")
	expectStatus(t, insp.push(mut("visit.create", args)).Results[0], models.StatusApplied)
	expectStatus(t, insp.push(mut("visit.update", set(v, 1, map[string]any{"region_id": e.region("211521101202").ID}))).Results[0],
		models.StatusApplied)
	r := sup.push(mut("visit.update", set(v, 1, map[string]any{"region_id": e.region("211521101203").ID}))).Results[0]
	expectStatus(t, r, models.StatusConflict)

	before := e.stateDigest()
	outside, _ := json.Marshal(e.region("211522105201").ID) // a village of 康北县
	_, err := e.engine.ResolveConflict(e.ctx, sup.a, r.Conflicts[0], Resolution{Keep: "value", Value: outside})
	var ve *models.ValidationError
	if !errors.As(err, &ve) || ve.Errors[0].Field != "value" || !strings.Contains(ve.Errors[0].Message, "outside your scope") {
		t.Fatalf("resolving to another county's region: %v", err)
	}
	if e.stateDigest() != before {
		t.Fatal("a refused resolution changed the database")
	}
	if _, err := e.engine.ResolveConflict(e.ctx, sup.a, r.Conflicts[0], Resolution{Keep: "server"}); err != nil {
		t.Fatalf("resolving to the value it overwrote: %v", err)
	}
}
