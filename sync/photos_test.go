package sync

import (
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

func attachArgs(photo, visit uuid.UUID, extra map[string]any) map[string]any {
	a := map[string]any{"photo_id": photo, "visit_id": visit, "captured_at": "2026-03-14T09:30:00+08:00",
		"position": map[string]any{"lat": 41.9, "lon": 121.6, "accuracy_m": 5}}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func (e *env) photoData(id uuid.UUID) (models.PhotoData, *models.Record) {
	e.t.Helper()
	rec, err := e.store.GetRecord(e.ctx, models.TypePhoto, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var pd models.PhotoData
	if err := json.Unmarshal(rec.Data, &pd); err != nil {
		e.t.Fatal(err)
	}
	return pd, &rec
}

// TestPhotoAttachRules: what photo.attach refuses, each as a rejection naming the field.
func TestPhotoAttachRules(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	town := e.region("211522105")
	visit, finding := uuid.New(), uuid.New()
	p.push(mut("visit.create", visitArgs(visit, models.KindProjectVisit, town)),
		mut("finding.create", findingArgs(finding, visit)))
	otherVisit := uuid.New()
	p.push(mut("visit.create", visitArgs(otherVisit, models.KindProjectVisit, town)))

	for _, c := range []struct {
		args        map[string]any
		code, field string
	}{
		{attachArgs(uuid.Nil, visit, nil), "required", "photo_id"},
		{attachArgs(uuid.New(), uuid.New(), nil), "not_found", "visit_id"},
		{attachArgs(uuid.New(), visit, map[string]any{"captured_at": "yesterday"}), "invalid", "captured_at"},
		{attachArgs(uuid.New(), visit, map[string]any{"position": map[string]any{"lat": 91, "lon": 0}}), "out_of_range", "position.lat"},
		{attachArgs(uuid.New(), otherVisit, map[string]any{"finding_id": finding}), "not_found", "finding_id"},
	} {
		res := p.push(mut("photo.attach", c.args)).Results[0]
		if res.Status != models.StatusRejected || res.Error.Code != c.code || res.Error.Field != c.field {
			t.Fatalf("%v: %+v %+v, want %s on %s", c.args, res, res.Error, c.code, c.field)
		}
	}
	photo := uuid.New()
	expectStatus(t, p.push(mut("photo.attach", attachArgs(photo, visit, map[string]any{"finding_id": finding}))).Results[0], models.StatusApplied)
	pd, rec := e.photoData(photo)
	if pd.Status != models.PhotoPendingUpload || *rec.ParentID != visit || rec.RegionPath == "" || pd.Attach.FindingID == nil {
		t.Fatalf("attached: %+v %+v", pd, rec)
	}
	// Another inspector of the same township may not take the photo id over.
	q := e.phone("ranger.dongsheng")
	qv := kindVisit(models.KindFirePatrol, town, nil)
	expectStatus(t, q.push(mut("visit.create", qv)).Results[0], models.StatusApplied)
	res := q.push(mut("photo.attach", attachArgs(photo, qv["id"].(uuid.UUID), nil))).Results[0]
	if res.Status != models.StatusRejected || res.Error.Code != "photo_taken" {
		t.Fatalf("someone else's photo: %+v %+v", res, res.Error)
	}
	res = q.push(mut("photo.attach", attachArgs(uuid.New(), visit, nil))).Results[0]
	if res.Status != models.StatusRejected || (res.Error.Code != "forbidden" && res.Error.Code != "out_of_scope") {
		t.Fatalf("a photo on someone else's visit: %+v %+v", res, res.Error)
	}
}

// TestPhotoFollowsItsVisit: a visit moved in time changes its photos' verdicts; a deleted visit
// takes its photos and its roll-up with it.
func TestPhotoFollowsItsVisit(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	town := e.region("211522105")
	visit, photo := uuid.New(), uuid.New()
	p.push(mut("visit.create", visitArgs(visit, models.KindProjectVisit, town)),
		mut("photo.attach", attachArgs(photo, visit, map[string]any{"position": map[string]any{"lat": 41.9, "lon": 121.6, "accuracy_m": 5, "mock": true}})))
	var n int
	if err := e.store.SQL().QueryRow(`SELECT photos FROM visit_location WHERE visit_id = $1`, visit).Scan(&n); err != nil || n != 1 {
		t.Fatalf("roll-up: %d %v", n, err)
	}
	_, rec := e.photoData(photo)
	before := rec.Version
	// Moving the visit re-grades the photo (its window moved): a new version of the photo.
	p.push(mut("visit.update", set(visit, 1, map[string]any{"started_at": "2026-03-20T09:00:00+08:00"})))
	_, rec = e.photoData(photo)
	if rec.Version == before {
		t.Fatal("the photo did not follow its visit")
	}
	expectStatus(t, p.push(mut("visit.delete", map[string]any{"id": visit})).Results[0], models.StatusApplied)
	_, rec = e.photoData(photo)
	if rec.DeletedAt == nil {
		t.Fatal("a deleted visit left its photo")
	}
	if err := e.store.SQL().QueryRow(`SELECT count(*) FROM visit_location WHERE visit_id = $1`, visit).Scan(&n); err != nil || n != 0 {
		t.Fatalf("roll-up of a deleted visit: %d %v", n, err)
	}
}
