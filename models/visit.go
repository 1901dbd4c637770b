package models

import (
	"encoding/json"
	"slices"

	"github.com/google/uuid"
)

// Visit statuses: a draft can be edited and deleted; a submitted visit is the record of what was seen.
const (
	VisitDraft     = "draft"
	VisitSubmitted = "submitted"
)

// ChecklistRef names the checklist version a visit was filled in with.
type ChecklistRef struct {
	ID      uuid.UUID `json:"id"`
	Version int       `json:"version"`
}

// Visit is one site visit: the fields every kind of field work shares. Kinds add their answers.
type Visit struct {
	ID          uuid.UUID                  `json:"id"`
	Kind        Kind                       `json:"kind"`
	SiteID      *uuid.UUID                 `json:"site_id"`
	RegionID    uuid.UUID                  `json:"region_id"`
	InspectorID uuid.UUID                  `json:"inspector_id"`
	Checklist   *ChecklistRef              `json:"checklist"`
	StartedAt   string                     `json:"started_at"`
	EndedAt     *string                    `json:"ended_at"`
	Position    *Position                  `json:"position"`
	Answers     map[string]json.RawMessage `json:"answers"`
	Notes       string                     `json:"notes"`
	Status      string                     `json:"status"`
	DeviceID    string                     `json:"device_id"`
}

// VisitUpdatableFields are the fields visit.update may set; "answers.<key>" sets one answer.
var VisitUpdatableFields = []string{"started_at", "ended_at", "position", "notes", "answers", "checklist", "region_id", "site_id"}

// Validate checks the shared rules of a visit. Kind-specific rules run after it (see KindRules).
func (v *Visit) Validate(ve *ValidationError) {
	if v.ID == uuid.Nil {
		ve.Add("id", "required", "a visit needs a UUID made on the phone")
	}
	if !v.Kind.Valid() {
		ve.Add("kind", "unknown", "kind must be one of project_visit, planting_check, fire_patrol, agri_input_check")
	}
	start := ParseTime(ve, "started_at", v.StartedAt, true)
	if v.EndedAt != nil {
		if end := ParseTime(ve, "ended_at", *v.EndedAt, false); end != nil && start != nil && end.Before(*start) {
			ve.Add("ended_at", "invalid", "a visit cannot end before it starts")
		}
	}
	ValidatePosition(ve, "position", v.Position)
	ve.CheckText("notes", v.Notes, false, MaxNotesLen)
	if v.Checklist != nil && v.Checklist.Version < 1 {
		ve.Add("checklist.version", "invalid", "checklist versions start at 1")
	}
	if !slices.Contains([]string{VisitDraft, VisitSubmitted}, v.Status) {
		ve.Add("status", "invalid", "status must be draft or submitted")
	}
}
