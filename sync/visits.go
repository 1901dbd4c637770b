package sync

import (
	"encoding/json"

	fastjson "github.com/goccy/go-json"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

func registerVisits(r *Registry) {
	r.Handle("visit.create", Handler{Refs: visitCreateRefs, Apply: visitCreate})
	r.Handle("visit.update", Handler{Refs: idRefs(models.TypeVisit), Apply: visitUpdate})
	r.Handle("visit.submit", Handler{Refs: idRefs(models.TypeVisit), Apply: visitSubmit})
	r.Handle("visit.delete", Handler{Refs: idRefs(models.TypeVisit), Apply: visitDelete})
}

// decode reads a mutation's arguments leniently (newer apps may send more).
func decode(args json.RawMessage, v any) *Reject {
	if len(args) == 0 {
		return reject("required", "args", "the mutation has no arguments")
	}
	if err := fastjson.Unmarshal(args, v); err != nil {
		return reject("invalid", "args", "arguments are malformed: %v", err)
	}
	return nil
}

func idRefs(typ string) func(json.RawMessage) []Ref {
	return func(args json.RawMessage) []Ref {
		var a struct {
			ID uuid.UUID `json:"id"`
		}
		if fastjson.Unmarshal(args, &a) != nil || a.ID == uuid.Nil {
			return nil
		}
		return []Ref{{typ, a.ID}}
	}
}

type visitCreateArgs struct {
	ID        uuid.UUID                  `json:"id"`
	Kind      models.Kind                `json:"kind"`
	SiteID    *uuid.UUID                 `json:"site_id"`
	RegionID  *uuid.UUID                 `json:"region_id"`
	Checklist *models.ChecklistRef       `json:"checklist"`
	StartedAt string                     `json:"started_at"`
	EndedAt   *string                    `json:"ended_at"`
	Position  *models.Position           `json:"position"`
	Answers   map[string]json.RawMessage `json:"answers"`
	Notes     string                     `json:"notes"`
}

func visitCreateRefs(args json.RawMessage) []Ref {
	var a struct {
		ID       uuid.UUID  `json:"id"`
		SiteID   *uuid.UUID `json:"site_id"`
		RegionID *uuid.UUID `json:"region_id"`
	}
	if fastjson.Unmarshal(args, &a) != nil {
		return nil
	}
	refs := []Ref{{models.TypeVisit, a.ID}}
	if a.RegionID != nil {
		refs = append(refs, Ref{models.TypeRegion, *a.RegionID})
	}
	if a.SiteID != nil {
		refs = append(refs, Ref{models.TypeSite, *a.SiteID})
	}
	return refs
}

// mayWriteFieldWork: admins manage the system, they do not record field work.
func mayWriteFieldWork(a Actor) *Reject {
	if a.User.Role == models.RoleAdmin {
		return reject("forbidden_role", "", "admins do not record field work; log in as an inspector, officer or supervisor")
	}
	return nil
}

// validateVisit checks a visit as it would be stored: its shape (visitShape), then its rules
// (visitRules). A failed look-up comes back as the error; broken rules as the *Reject.
func (w *Work) validateVisit(v *models.Visit) (*Reject, error) {
	if rj := visitShape(v); rj != nil {
		return rj, nil
	}
	return w.visitRules(v)
}

// visitShape checks the shared rules of a visit's own fields (models.Visit.Validate).
func visitShape(v *models.Visit) *Reject {
	var ve models.ValidationError
	v.Validate(&ve)
	if len(ve.Errors) > 0 {
		return rejectInvalid(&ve)
	}
	return nil
}

// visitRules checks a visit whose shape is valid against its kind's rules (see KindRules), then
// its answers against the checklist version it names.
func (w *Work) visitRules(v *models.Visit) (*Reject, error) {
	var ve models.ValidationError
	if rules, ok := w.registry.kinds[v.Kind]; ok {
		if err := rules.ValidateVisit(w, v, &ve); err != nil {
			return nil, err
		}
	}
	if len(ve.Errors) > 0 {
		return rejectInvalid(&ve), nil
	}
	return w.validateChecklistAnswers(v)
}

// visitCreate checks, in this order, each a rejection that writes nothing: the arguments' shape,
// size and answer limits; the visit's own fields; its kind in the actor's scope; its place (the
// region and the site, see placeOf); its kind's rules and checklist; an id not taken yet.
func visitCreate(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error) {
	var a visitCreateArgs
	if rj := decode(m.Args, &a); rj != nil {
		return nil, nil, rj
	}
	if rj := mayWriteFieldWork(w.actor); rj != nil {
		return nil, nil, rj
	}
	if len(m.Args) > models.MaxVisitBytes {
		return nil, nil, reject("too_long", "args", "a visit's arguments must be at most %d bytes", models.MaxVisitBytes)
	}
	var ve models.ValidationError
	if a.Answers == nil {
		a.Answers = map[string]json.RawMessage{}
	}
	models.ValidateAnswerMap(&ve, "answers", a.Answers)
	if len(ve.Errors) > 0 {
		return nil, nil, rejectInvalid(&ve)
	}
	v := models.Visit{ID: a.ID, Kind: a.Kind, SiteID: a.SiteID, InspectorID: w.actor.User.ID, Checklist: a.Checklist,
		StartedAt: a.StartedAt, EndedAt: a.EndedAt, Position: a.Position, Answers: a.Answers, Notes: a.Notes,
		Status: models.VisitDraft, DeviceID: w.actor.DeviceID}
	if a.RegionID != nil {
		v.RegionID = *a.RegionID // for kind rules on the place, checked by placeOf first
	}
	if rj := visitShape(&v); rj != nil {
		return nil, nil, rj
	}
	if !w.actor.Scope.CoversKind(v.Kind) {
		return nil, nil, reject("out_of_scope", "kind", "your scope does not include %s work", v.Kind)
	}
	var region *models.Region
	if a.SiteID != nil || a.RegionID != nil { // with neither, the kind's rules say what is missing
		var rj *Reject
		var err error
		if region, rj, err = w.placeOf(a.SiteID, a.RegionID); err != nil || rj != nil {
			return nil, nil, orReject(err, rj)
		}
	}
	if rj, err := w.visitRules(&v); err != nil || rj != nil {
		return nil, nil, orReject(err, rj)
	}
	if region == nil {
		return nil, nil, reject("required", "region_id", "a visit needs a site_id or a region_id")
	}
	existing, err := w.Record(models.TypeVisit, v.ID)
	if err != nil {
		return nil, nil, err
	}
	if existing != nil {
		return nil, nil, reject("already_exists", "id", "a visit with this id already exists")
	}
	v.RegionID = region.ID
	rec := w.newRecord(models.TypeVisit, v.ID, v.Kind, region, nil, v.Status, &v)
	w.Put(rec, nil)
	return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, nil, nil
}

// orReject returns err when set, else the rejection.
func orReject(err error, rj *Reject) error {
	if err != nil {
		return err
	}
	return rj
}

// newRecord makes version 1 of a record created by the actor. Fields carry no metadata until
// they are first changed: a field without any was written at version 1 by created_by, which never
// conflicts with an update (whose base_version is at least 1).
func (w *Work) newRecord(typ string, id uuid.UUID, kind models.Kind, region *models.Region, parent *uuid.UUID,
	status string, v any) *models.Record {
	data, _ := fastjson.Marshal(v)
	uid := w.actor.User.ID
	rid := region.ID
	return &models.Record{Type: typ, ID: id, Kind: kind, RegionID: &rid, RegionPath: region.Path, ParentID: parent,
		Status: status, Version: 1, Data: data, FieldMeta: map[string]models.FieldMeta{}, CreatedBy: &uid,
		CreatedAt: w.now, UpdatedAt: w.now}
}

// visitUpdate merges a visit's changed fields (see merge) and checks the result as visitCreate
// does; a new region_id or site_id goes through placeOf, a checklist through the checklist rules.
func visitUpdate(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error) {
	var u update
	if rj := decode(m.Args, &u); rj != nil {
		return nil, nil, rj
	}
	rec, rj, err := w.liveRecord(models.TypeVisit, u.ID)
	if err != nil || rj != nil {
		return nil, nil, orReject(err, rj)
	}
	res, rj := w.merge(rec, u, models.VisitUpdatableFields)
	if rj != nil {
		return nil, nil, rj
	}
	var v models.Visit
	b, _ := json.Marshal(res.data)
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, nil, reject("invalid", "set", "a field has the wrong type: %v", err)
	}
	var ve models.ValidationError
	v.Answers = models.ValidateAnswers(&ve, "answers", res.data["answers"])
	if len(ve.Errors) > 0 {
		return nil, nil, rejectInvalid(&ve)
	}
	if rj := visitShape(&v); rj != nil {
		return nil, nil, rj
	}
	var oldPath *string
	if containsStr(res.changed, "region_id") || containsStr(res.changed, "site_id") {
		var regionID *uuid.UUID
		if v.RegionID != uuid.Nil {
			regionID = &v.RegionID
		}
		region, rj, err := w.placeOf(v.SiteID, regionID)
		if err != nil || rj != nil {
			return nil, nil, orReject(err, rj)
		}
		if region.Path != rec.RegionPath {
			p := rec.RegionPath
			oldPath = &p
		}
		v.RegionID, rec.RegionID, rec.RegionPath = region.ID, &region.ID, region.Path
	}
	if rj, err := w.visitRules(&v); err != nil || rj != nil {
		return nil, nil, orReject(err, rj)
	}
	data, _ := json.Marshal(&v)
	if len(data) > models.MaxVisitBytes {
		return nil, nil, reject("too_long", "set", "a visit must stay within %d bytes of JSON", models.MaxVisitBytes)
	}
	conflicts := w.commitMerge(rec, res)
	if len(res.changed) > 0 {
		rec.Data = data
		rec.UpdatedAt = w.now
		w.Put(rec, oldPath)
	}
	return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, conflicts, nil
}

func visitSubmit(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error) {
	rec, err := w.liveRecordOf(models.TypeVisit, m.Args)
	if err != nil {
		return nil, nil, err
	}
	if rec.Status == models.VisitSubmitted {
		return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, nil, nil
	}
	var v models.Visit
	_ = json.Unmarshal(rec.Data, &v)
	v.Status = models.VisitSubmitted
	if v.EndedAt == nil {
		end := w.now.Format(time.RFC3339)
		v.EndedAt = &end
	}
	if rj, err := w.validateVisit(&v); err != nil || rj != nil {
		return nil, nil, orReject(err, rj)
	}
	rec.Version++
	rec.Status, rec.UpdatedAt = v.Status, w.now
	rec.FieldMeta["status"], rec.FieldMeta["ended_at"] = w.meta(rec.Version), w.meta(rec.Version)
	rec.Data, _ = json.Marshal(&v)
	w.Put(rec, nil)
	return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, nil, nil
}

func visitDelete(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error) {
	rec, err := w.liveRecordOf(models.TypeVisit, m.Args)
	if err != nil {
		return nil, nil, err
	}
	if rec.Status != models.VisitDraft {
		return nil, nil, reject("illegal_state", "id", "only draft visits can be deleted; this one is %s", rec.Status)
	}
	children, err := w.tx.LockChildren(w.ctx, models.TypeFinding, rec.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range children {
		child, err := w.Record(models.TypeFinding, c)
		if err != nil {
			return nil, nil, err
		}
		if child != nil && child.DeletedAt == nil {
			w.Remove(child)
		}
	}
	track, err := w.Record(models.TypeTrack, rec.ID) // a patrol's track has the visit's id
	if err != nil {
		return nil, nil, err
	}
	if track != nil && track.DeletedAt == nil {
		w.Remove(track)
	}
	for k, r := range w.records { // findings created earlier in this same push
		if k.typ == models.TypeFinding && r.ParentID != nil && *r.ParentID == rec.ID && r.DeletedAt == nil {
			w.Remove(r)
		}
	}
	w.Remove(rec)
	return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, nil, nil
}
