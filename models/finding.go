package models

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// Finding statuses (DOMAIN.md): open → rectifying → awaiting_recheck → closed, or back to
// rectifying when a re-check fails.
const (
	FindingOpen            = "open"
	FindingRectifying      = "rectifying"
	FindingAwaitingRecheck = "awaiting_recheck"
	FindingClosed          = "closed"
)

// Severities of a finding.
var Severities = []string{"ordinary", "serious", "major"}

// Finding is a problem found on a visit, with a responsible unit and a deadline to fix it.
type Finding struct {
	ID                uuid.UUID `json:"id"`
	VisitID           uuid.UUID `json:"visit_id"`
	Kind              Kind      `json:"kind"`
	RegionID          uuid.UUID `json:"region_id"`
	Category          string    `json:"category"`
	Severity          string    `json:"severity"`
	Description       string    `json:"description"`
	Position          *Position `json:"position"`
	ResponsibleUnit   string    `json:"responsible_unit"`
	ResponsiblePerson string    `json:"responsible_person"`
	Deadline          string    `json:"deadline"`
	Measures          string    `json:"measures"`
	Status            string    `json:"status"`
	CreatedBy         uuid.UUID `json:"created_by"`

	// Set by the server only (finding.create ignores them in its arguments; finding.update cannot
	// set them). History is append-only, oldest first; its first entry is the creation.
	History  []FindingEvent `json:"history"`
	Attempts int            `json:"attempts"`  // rectifications sent so far (failed ones included)
	ClosedAt *time.Time     `json:"closed_at"` // when a re-check closed it (server time)
	// DeadlineLight and Overdue are a snapshot of DeadlineLight at the record's last write, for
	// phones that show the record as is; they go stale as days pass, so whoever reads findings
	// for a decision (reports, dispatch lists) computes them again with DeadlineLight.
	DeadlineLight string `json:"deadline_light"`
	Overdue       bool   `json:"overdue"`
}

// ResetServerFields clears what only the server sets, so a phone cannot forge history on create.
func (f *Finding) ResetServerFields() {
	f.History, f.Attempts, f.ClosedAt, f.DeadlineLight, f.Overdue = nil, 0, nil, "", false
}

// SnapshotLight stores the deadline light and overdue flag as of now (see DeadlineLight).
func (f *Finding) SnapshotLight(now time.Time) {
	f.DeadlineLight, f.Overdue = DeadlineLight(f.Deadline, f.Status, now)
}

// FindingUpdatableFields are the fields finding.update may set. Status changes have mutations of
// their own (finding.rectify, finding.recheck), so they can be checked as transitions.
var FindingUpdatableFields = []string{"category", "severity", "description", "position", "responsible_unit",
	"responsible_person", "deadline", "measures"}

// Validate checks a finding's fields.
func (f *Finding) Validate(ve *ValidationError) {
	if f.ID == uuid.Nil {
		ve.Add("id", "required", "a finding needs a UUID made on the phone")
	}
	if f.VisitID == uuid.Nil {
		ve.Add("visit_id", "required", "a finding belongs to a visit")
	}
	ve.CheckText("category", f.Category, true, MaxTextFieldLen)
	if !slices.Contains(Severities, f.Severity) {
		ve.Add("severity", "unknown", "severity must be ordinary, serious or major")
	}
	ve.CheckText("description", f.Description, true, MaxDescriptionLen)
	ValidatePosition(ve, "position", f.Position)
	ve.CheckText("responsible_unit", f.ResponsibleUnit, true, MaxTextFieldLen)
	ve.CheckText("responsible_person", f.ResponsiblePerson, false, MaxTextFieldLen)
	ParseDate(ve, "deadline", f.Deadline, true)
	ve.CheckText("measures", f.Measures, false, MaxDescriptionLen)
}
