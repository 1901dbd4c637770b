package sync

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

func registerFindings(r *Registry) {
	r.Handle("finding.create", Handler{Refs: findingCreateRefs, Apply: findingCreate})
	r.Handle("finding.update", Handler{Refs: idRefs(models.TypeFinding), Apply: findingUpdate})
	r.Handle("finding.start", Handler{Refs: idRefs(models.TypeFinding), Apply: findingStep(models.FindingStepStart)})
	r.Handle("finding.rectify", Handler{Refs: idRefs(models.TypeFinding), Apply: findingStep(models.FindingStepRectify)})
	r.Handle("finding.recheck", Handler{Refs: idRefs(models.TypeFinding), Apply: findingStep(models.FindingStepRecheck)})
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
	visit, rj, err := w.refForWrite(models.TypeVisit, f.VisitID, "visit_id")
	if err != nil || rj != nil {
		return nil, nil, orReject(err, rj)
	}
	f.ResetServerFields()
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
	var created models.FindingEvent
	w.stampEvent(&created, models.FindingStepCreate, "", models.FindingOpen)
	f.History = []models.FindingEvent{created}
	f.SnapshotLight(w.now)
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
	if rec.Status == models.FindingClosed {
		return nil, nil, reject("illegal_state", "id", "a closed finding is the record of what was fixed; it cannot be edited")
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
	if f.History == nil {
		f.History = []models.FindingEvent{} // history is always a list, never null
	}
	conflicts := w.commitMerge(rec, res)
	if len(res.changed) > 0 {
		f.SnapshotLight(w.now)
		rec.Data, _ = json.Marshal(&f)
		rec.UpdatedAt = w.now
		w.Put(rec, nil)
	}
	return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, conflicts, nil
}

// stampEvent fills a history entry for a step the actor takes now with the current mutation: the
// step and transition, who (user and device), server time and the phone's client_time.
func (w *Work) stampEvent(e *models.FindingEvent, step, from, to string) {
	e.Step, e.From, e.To, e.By, e.Device, e.At = step, from, to, w.actor.User.ID, w.actor.DeviceID, w.now
	if t, err := parseClientTime(w.mutation.ClientTime); err == nil && t != nil {
		e.ClientTime = t
	}
}

// findingStepArgs are the arguments of finding.start, finding.rectify and finding.recheck; each
// step reads the fields it documents and ignores the others.
type findingStepArgs struct {
	ID          uuid.UUID `json:"id"`
	Notes       string    `json:"notes"`
	PhotoIDs    []string  `json:"photo_ids"`
	RectifiedAt string    `json:"rectified_at"`
	Passed      *bool     `json:"passed"`
	CheckedAt   string    `json:"checked_at"`
}

// validate checks the arguments of step and fills ev with them.
func (a *findingStepArgs) validate(step string, ev *models.FindingEvent) *Reject {
	var ve models.ValidationError
	switch step {
	case models.FindingStepStart:
		ve.CheckText("notes", a.Notes, false, models.MaxNotesLen)
	case models.FindingStepRectify:
		ve.CheckText("notes", a.Notes, true, models.MaxNotesLen)
		ev.RectifiedAt = models.ParseTime(&ve, "rectified_at", a.RectifiedAt, false)
	case models.FindingStepRecheck:
		if a.Passed == nil {
			ve.Add("passed", "required", "say whether the re-check passed (true) or failed (false)")
		}
		// A failed re-check must say what is still wrong: the unit rectifies again from it.
		ve.CheckText("notes", a.Notes, a.Passed != nil && !*a.Passed, models.MaxNotesLen)
		ev.CheckedAt = models.ParseTime(&ve, "checked_at", a.CheckedAt, false)
		ev.Passed = a.Passed
	}
	if step != models.FindingStepStart {
		ev.PhotoIDs = validatePhotoIDs(&ve, a.PhotoIDs)
	}
	if len(ve.Errors) > 0 {
		return rejectInvalid(&ve)
	}
	ev.Notes = a.Notes
	return nil
}

// validatePhotoIDs checks a list of photo UUIDs: at most models.MaxFindingPhotos, none nil or
// repeated. The photos need not exist yet (photo.attach and the upload may come later).
func validatePhotoIDs(ve *models.ValidationError, raw []string) []uuid.UUID {
	if len(raw) > models.MaxFindingPhotos {
		ve.Add("photo_ids", "too_long", "at most %d photos", models.MaxFindingPhotos)
		return nil
	}
	ids := make([]uuid.UUID, 0, len(raw))
	for i, s := range raw {
		f := "photo_ids[" + strconv.Itoa(i) + "]"
		id, err := uuid.Parse(s)
		switch {
		case err != nil || id == uuid.Nil || len(s) != 36:
			ve.Add(f, "invalid", "must be a photo's UUID")
		case slices.Contains(ids, id):
			ve.Add(f, "invalid", "photo %s is named twice", id)
		default:
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return ids
}

// findingStep applies one step of the finding state machine (models.FindingTransition) by the
// roles models.MayTakeFindingStep allows. Checks, in order, each a rejection that changes nothing:
// arguments (validation codes), role (forbidden_role), the finding exists (not_found) and lies in
// the actor's scope, region and kind (out_of_scope), every photo named that exists lies in the
// actor's scope (out_of_scope, field photo_ids[i]), and the transition is legal from its current
// status (illegal_transition, field id). The step is appended to the finding's history.
func findingStep(step string) func(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error) {
	return func(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error) {
		var a findingStepArgs
		if rj := decode(m.Args, &a); rj != nil {
			return nil, nil, rj
		}
		var ev models.FindingEvent
		if rj := a.validate(step, &ev); rj != nil {
			return nil, nil, rj
		}
		if role := w.actor.User.Role; !models.MayTakeFindingStep(role, step) {
			allowed := make([]string, 0, 3)
			for _, r := range models.FindingStepRoles(step) {
				allowed = append(allowed, string(r))
			}
			return nil, nil, reject("forbidden_role", "", "a user with role %s may not %s a finding (allowed: %s)",
				role, step, strings.Join(allowed, ", "))
		}
		rec, rj, err := w.liveRecord(models.TypeFinding, a.ID)
		if err != nil || rj != nil {
			return nil, nil, orReject(err, rj)
		}
		if rj, err := w.optionalRefs(models.TypePhoto, ev.PhotoIDs, "photo_ids"); err != nil || rj != nil {
			return nil, nil, orReject(err, rj)
		}
		var f models.Finding
		if err := json.Unmarshal(rec.Data, &f); err != nil {
			return nil, nil, reject("internal", "", "stored finding is unreadable")
		}
		from := f.Status
		to, terr := models.FindingTransition(step, from, a.Passed != nil && *a.Passed)
		if terr != nil {
			return nil, nil, reject("illegal_transition", "id", "cannot %s this finding: %v", step, terr)
		}
		w.stampEvent(&ev, step, from, to)
		rec.Version++
		changed := []string{"status", "history"}
		switch step {
		case models.FindingStepRectify:
			f.Attempts++
			ev.Attempt = f.Attempts
			changed = append(changed, "attempts")
		case models.FindingStepRecheck:
			ev.Attempt = f.Attempts
			if to == models.FindingClosed {
				t := w.now
				f.ClosedAt = &t
				changed = append(changed, "closed_at")
			}
		}
		f.Status = to
		f.History = append(f.History, ev)
		f.SnapshotLight(w.now)
		if rec.FieldMeta == nil {
			rec.FieldMeta = map[string]models.FieldMeta{}
		}
		for _, k := range changed {
			rec.FieldMeta[k] = w.meta(rec.Version)
		}
		rec.Status, rec.UpdatedAt = f.Status, w.now
		rec.Data, _ = json.Marshal(&f)
		w.Put(rec, nil)
		return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, nil, nil
	}
}
