package sync

import (
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// checkAnswers runs validateChecklistAnswers on v inside a transaction, as a push would.
func (e *env) checkAnswers(a Actor, v *models.Visit) *Reject {
	e.t.Helper()
	var rj *Reject
	err := e.store.InTx(e.ctx, func(tx *storage.Store) error {
		w := newWork(e.ctx, tx, a, uuid.New(), e.engine.Registry())
		var err error
		rj, err = w.validateChecklistAnswers(v)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return rj
}

func clAnswers(t testing.TB, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func expectChecklistReject(t testing.TB, what string, rj *Reject, code, field string) {
	t.Helper()
	if rj == nil || rj.Code != code || rj.Field != field {
		t.Fatalf("%s: want %s on %s, got %+v", what, code, field, rj)
	}
}

// TestChecklistVersions: a phone offline on v1 after v2 is published is accepted against v1; an
// answer that breaks the version it names is rejected, naming the answer.
func TestChecklistVersions(t *testing.T) {
	e := newEnv(t)
	a := Actor{User: models.User{ID: uuid.New(), Role: models.RoleInspector}, DeviceID: "phone-1"}
	v1 := []models.ChecklistItem{
		{Key: "hazards", Label: "发现隐患", Type: models.ItemMultiChoice, Required: true, Options: []string{"smoking", "straw_burning"}},
		{Key: "warnings_given", Label: "劝阻次数", Type: models.ItemNumber, Min: new(0.0), Integer: true},
	}
	v2 := []models.ChecklistItem{
		{Key: "hazards", Label: "发现隐患", Type: models.ItemMultiChoice, Required: true, Options: []string{"smoking", "straw_burning", "grave_burning"}},
		{Key: "fire_sighted", Label: "发现火情", Type: models.ItemBool, Required: true},
	}
	cl := models.Checklist{ID: uuid.New(), Kind: models.KindFirePatrol, Name: "巡护检查表"}
	if _, err := e.engine.CreateChecklist(e.ctx, SystemActor(), NewChecklist{ID: &cl.ID, Kind: string(cl.Kind), Name: cl.Name,
		Items: v1}); err != nil {
		t.Fatal(err)
	}
	rec, err := e.engine.PublishChecklistVersion(e.ctx, SystemActor(), cl.ID, v2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := storage.DecodeChecklist(rec)
	if err != nil || len(got.Versions) != 2 || got.Versions[1].Version != 2 || rec.Version != 2 || len(got.Versions[0].Items) != 2 ||
		got.Versions[0].Items[1].Key != "warnings_given" {
		t.Fatalf("after publishing v2: %+v %v", got, err)
	}

	visit := func(version int, status, ans string) *models.Visit {
		return &models.Visit{ID: uuid.New(), Kind: models.KindFirePatrol, Checklist: &models.ChecklistRef{ID: cl.ID, Version: version},
			Answers: clAnswers(t, ans), Status: status}
	}
	v1Answers := `{"hazards":["smoking"],"warnings_given":2}`
	if rj := e.checkAnswers(a, visit(1, models.VisitSubmitted, v1Answers)); rj != nil {
		t.Fatalf("v1 answers after v2 was published: %+v", rj)
	}
	if rj := e.checkAnswers(a, visit(2, models.VisitSubmitted, `{"hazards":["grave_burning"],"fire_sighted":false}`)); rj != nil {
		t.Fatalf("v2 answers: %+v", rj)
	}
	// v1's answers are not v2's: warnings_given is unknown there and fire_sighted is missing.
	expectChecklistReject(t, "v1 answers as v2", e.checkAnswers(a, visit(2, models.VisitSubmitted, v1Answers)), "required", "answers.fire_sighted")
	// An option only v2 has is not one of v1's.
	expectChecklistReject(t, "v2 option on v1", e.checkAnswers(a, visit(1, models.VisitSubmitted, `{"hazards":["grave_burning"]}`)),
		"unknown", "answers.hazards[0]")
	expectChecklistReject(t, "out of range", e.checkAnswers(a, visit(1, models.VisitDraft, `{"warnings_given":-3}`)),
		"out_of_range", "answers.warnings_given")
	expectChecklistReject(t, "unknown key", e.checkAnswers(a, visit(1, models.VisitDraft, `{"wind":"strong"}`)), "unknown", "answers.wind")
	// A draft may leave required items open; the submitted visit may not.
	if rj := e.checkAnswers(a, visit(1, models.VisitDraft, `{"warnings_given":1}`)); rj != nil {
		t.Fatalf("draft: %+v", rj)
	}
	expectChecklistReject(t, "submitted without hazards", e.checkAnswers(a, visit(1, models.VisitSubmitted, `{"warnings_given":1}`)),
		"required", "answers.hazards")

	expectChecklistReject(t, "version 3", e.checkAnswers(a, visit(3, models.VisitDraft, `{}`)), "not_found", "checklist.version")
	other := visit(1, models.VisitDraft, `{}`)
	other.Checklist.ID = uuid.New()
	expectChecklistReject(t, "unknown checklist", e.checkAnswers(a, other), "not_found", "checklist.id")
	wrongKind := visit(1, models.VisitDraft, `{}`)
	wrongKind.Kind = models.KindProjectVisit
	expectChecklistReject(t, "kind", e.checkAnswers(a, wrongKind), "invalid", "checklist.id")
	none := visit(1, models.VisitDraft, `{"anything":1}`)
	none.Checklist = nil
	if rj := e.checkAnswers(a, none); rj != nil {
		t.Fatalf("a visit without a checklist: %+v", rj)
	}

	// Publishing to an unknown checklist, or a bad item list, changes nothing.
	if _, err := e.engine.PublishChecklistVersion(e.ctx, SystemActor(), uuid.New(), v2); err == nil {
		t.Fatal("published to an unknown checklist")
	}
	if _, err := e.engine.PublishChecklistVersion(e.ctx, SystemActor(), cl.ID, nil); err == nil {
		t.Fatal("published an empty version")
	}
	if got, _, err := e.store.GetChecklist(e.ctx, cl.ID); err != nil || len(got.Versions) != 2 {
		t.Fatalf("versions after refused publishes: %d %v", len(got.Versions), err)
	}
}

// TestDefaultChecklists: the built-in checklists load once, accept their example answers, and a
// phone scoped to some kinds scans only the checklists of those kinds.
func TestDefaultChecklists(t *testing.T) {
	e := newEnv(t)
	if _, err := e.engine.EnsureDefaultChecklists(e.ctx, SystemActor()); err != nil {
		t.Fatal(err)
	}
	if n, err := e.engine.EnsureDefaultChecklists(e.ctx, SystemActor()); err != nil || n != 0 {
		t.Fatalf("second load created %d: %v", n, err)
	}
	a := Actor{User: models.User{ID: uuid.New(), Role: models.RoleInspector}, DeviceID: "phone-1"}
	for _, k := range models.Kinds {
		v := &models.Visit{ID: uuid.New(), Kind: k, Checklist: &models.ChecklistRef{ID: models.DefaultChecklistID(k), Version: 1},
			Answers: models.DefaultChecklistExample(k), Status: models.VisitSubmitted}
		if rj := e.checkAnswers(a, v); rj != nil {
			t.Fatalf("%s example: %+v", k, rj)
		}
	}
	bad := &models.Visit{ID: uuid.New(), Kind: models.KindAgriInputCheck, Status: models.VisitSubmitted,
		Checklist: &models.ChecklistRef{ID: models.DefaultChecklistID(models.KindAgriInputCheck), Version: 1},
		Answers:   models.DefaultChecklistExample(models.KindAgriInputCheck)}
	bad.Answers["products"] = json.RawMessage(`[{"category":"seed","brand":"登海605","label_compliant":true,"expiry":"2027-13-01"}]`)
	expectChecklistReject(t, "bad expiry", e.checkAnswers(a, bad), "invalid", "answers.products[0].expiry")
	bad.Answers["products"] = json.RawMessage(`[]`)
	expectChecklistReject(t, "no products", e.checkAnswers(a, bad), "out_of_range", "answers.products")

	pt := checklistPullType()
	scoped := a
	scoped.Scope = models.Scope{RegionPath: "/somewhere/deep/", Kinds: []models.Kind{models.KindFirePatrol}}
	page, err := pt.Scan(e.ctx, e.store, Query{Actor: scoped}, "", 100)
	if err != nil || len(page) != 1 || page[0].ID != models.DefaultChecklistID(models.KindFirePatrol).String() || !page[0].Addressed {
		t.Fatalf("fire patrol phone scans %+v %v", page, err)
	}
	page, err = pt.Scan(e.ctx, e.store, Query{Actor: a}, "", 100)
	if err != nil || len(page) != 4 {
		t.Fatalf("unscoped scan: %d %v", len(page), err)
	}
	loaded, err := pt.Load(e.ctx, e.store, uuid.Nil, []string{page[0].ID, "not-a-uuid"})
	if err != nil || len(loaded) != 1 || !loaded[page[0].ID].Addressed || loaded[page[0].ID].Kind == "" {
		t.Fatalf("load: %+v %v", loaded, err)
	}
	cs, _, err := e.store.Changes(e.ctx, storage.ChangeFilter{Limit: 10000, UserID: uuid.New(), ClientID: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cs {
		if c.RecordType == models.TypeChecklist {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("%d checklist changes logged", n)
	}
}

// TestChecklistsReachPhones: a bootstrap sends every phone the checklists of its kinds, whatever
// its region. (Incremental pulls also need the change-log query to pass checklist rows by kind:
// see the integration notes.)
func TestChecklistsReachPhones(t *testing.T) {
	e := newEnv(t)
	if _, ok := e.engine.Registry().pullType(models.TypeChecklist); !ok {
		e.engine.Registry().Type(checklistPullType())
	}
	if _, err := e.engine.EnsureDefaultChecklists(e.ctx, SystemActor()); err != nil {
		t.Fatal(err)
	}
	ranger := e.phone("ranger.dongsheng") // a township; fire_patrol and planting_check
	ranger.pullAll(1000)
	if n := ranger.count(models.TypeChecklist); n != 2 {
		t.Fatalf("ranger holds %d checklists", n)
	}
	for _, k := range []models.Kind{models.KindFirePatrol, models.KindPlantingCheck} {
		c, ok := ranger.has(models.TypeChecklist, models.DefaultChecklistID(k))
		if !ok || c.Version != 1 {
			t.Fatalf("ranger lacks the %s checklist: %+v", k, c)
		}
		var cl models.Checklist
		if err := json.Unmarshal(c.Data, &cl); err != nil || cl.Kind != k || len(cl.Versions) != 1 {
			t.Fatalf("%s checklist data: %s %v", k, c.Data, err)
		}
	}
	market := e.phone("dept.market") // agri_input_check only
	market.pullAll(1000)
	if _, ok := market.has(models.TypeChecklist, models.DefaultChecklistID(models.KindAgriInputCheck)); !ok || market.count(models.TypeChecklist) != 1 {
		t.Fatalf("market holds %d checklists", market.count(models.TypeChecklist))
	}
}
