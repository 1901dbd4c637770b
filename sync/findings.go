package sync

import (
	"encoding/json"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

func registerFindings(r *Registry) {
	r.Handle("finding.create", Handler{Refs: findingCreateRefs, Apply: findingCreate})
	r.Handle("finding.update", Handler{Refs: idRefs(models.TypeFinding), Apply: findingUpdate})
}

func findingCreateRefs(args json.RawMessage) []Ref {
	var a struct {
		ID      uuid.UUID `json:"id"`
		VisitID uuid.UUID `json:"visit_id"`
	}
	if json.Unmarshal(args, &a) != nil {
		return nil
	}
	return []Ref{{models.TypeFinding, a.ID}, {models.TypeVisit, a.VisitID}}
}

func (w *Work) validateFinding(f *models.Finding) *Reject {
	var ve models.ValidationError
	f.Validate(&ve)
	if rules, ok := w.registry.kinds[f.Kind]; ok && len(ve.Errors) == 0 {
		rules.ValidateFinding(f, &ve)
	}
	if len(ve.Errors) > 0 {
		return rejectInvalid(&ve)
	}
	return nil
}

func findingCreate(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error) {
	var f models.Finding
	if rj := decode(m.Args, &f); rj != nil {
		return nil, nil, rj
	}
	if rj := mayWriteFieldWork(w.actor); rj != nil {
		return nil, nil, rj
	}
	visit, err := w.Record(models.TypeVisit, f.VisitID)
	if err != nil {
		return nil, nil, err
	}
	if f.VisitID == uuid.Nil || visit == nil || visit.DeletedAt != nil {
		return nil, nil, reject("not_found", "visit_id", "no such visit")
	}
	if rj := inScope(w.actor, visit.RegionPath, visit.Kind, "visit_id"); rj != nil {
		return nil, nil, rj
	}
	f.Kind, f.Status, f.CreatedBy = visit.Kind, models.FindingOpen, w.actor.User.ID
	f.RegionID = *visit.RegionID
	if rj := w.validateFinding(&f); rj != nil {
		return nil, nil, rj
	}
	existing, err := w.Record(models.TypeFinding, f.ID)
	if err != nil {
		return nil, nil, err
	}
	if existing != nil {
		return nil, nil, reject("already_exists", "id", "a finding with this id already exists")
	}
	region, err := w.Region(*visit.RegionID)
	if err != nil {
		return nil, nil, err
	}
	vid := visit.ID
	rec := w.newRecord(models.TypeFinding, f.ID, f.Kind, region, &vid, f.Status, &f)
	w.Put(rec, nil)
	return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, nil, nil
}

func findingUpdate(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error) {
	var u update
	if rj := decode(m.Args, &u); rj != nil {
		return nil, nil, rj
	}
	rec, rj, err := w.liveRecord(models.TypeFinding, u.ID)
	if err != nil || rj != nil {
		return nil, nil, orReject(err, rj)
	}
	res, rj := w.merge(rec, u, models.FindingUpdatableFields)
	if rj != nil {
		return nil, nil, rj
	}
	var f models.Finding
	b, _ := json.Marshal(res.data)
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, nil, reject("invalid", "set", "a field has the wrong type: %v", err)
	}
	if rj := w.validateFinding(&f); rj != nil {
		return nil, nil, rj
	}
	conflicts := w.commitMerge(rec, res)
	if len(res.changed) > 0 {
		rec.Data, _ = json.Marshal(&f)
		rec.UpdatedAt = w.now
		w.Put(rec, nil)
	}
	return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, conflicts, nil
}
