package device

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Position is where the phone says it was.
type Position struct {
	Lat       float64  `json:"lat"`
	Lon       float64  `json:"lon"`
	AccuracyM *float64 `json:"accuracy_m,omitempty"`
	CRS       string   `json:"crs,omitempty"` // wgs84 (default), gcj02, bd09
	Mock      bool     `json:"mock,omitempty"`
}

// ChecklistRef names the checklist version a visit was filled in with.
type ChecklistRef struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// Kinds of field work.
var Kinds = []string{"project_visit", "planting_check", "fire_patrol", "agri_input_check"}

// VisitInput is a new visit. Kind and either SiteID or RegionID are needed; the rest is optional.
type VisitInput struct {
	ID        uuid.UUID      // zero: a new UUID
	Kind      string         // one of Kinds
	SiteID    string         // the site visited (its township is the region)
	RegionID  string         // the region, when no site (a planting check in a village)
	Checklist *ChecklistRef  // the checklist version the answers follow
	StartedAt time.Time      // zero: now
	EndedAt   *time.Time     // nil: set when submitted
	Position  *Position      // where the visit began
	Answers   map[string]any // checklist answers by key
	Notes     string
}

// NewVisit queues visit.create and returns the new visit's id.
func (d *Device) NewVisit(ctx context.Context, in VisitInput) (uuid.UUID, error) {
	if !slices.Contains(Kinds, in.Kind) {
		return uuid.Nil, fmt.Errorf("unknown kind %q: one of %v", in.Kind, Kinds)
	}
	if in.SiteID == "" && in.RegionID == "" {
		return uuid.Nil, errors.New("a visit needs a site (or, for a planting check, a village region)")
	}
	for _, s := range []string{in.SiteID, in.RegionID} {
		if s != "" {
			if _, err := uuid.Parse(s); err != nil {
				return uuid.Nil, fmt.Errorf("%q is not a UUID", s)
			}
		}
	}
	if in.ID == uuid.Nil {
		in.ID = uuid.New()
	}
	if in.StartedAt.IsZero() {
		in.StartedAt = d.now()
	}
	if in.Answers == nil {
		in.Answers = map[string]any{}
	}
	args := map[string]any{"id": in.ID, "kind": in.Kind, "started_at": in.StartedAt.Format(time.RFC3339),
		"answers": in.Answers, "notes": in.Notes}
	if in.SiteID != "" {
		args["site_id"] = in.SiteID
	}
	if in.RegionID != "" {
		args["region_id"] = in.RegionID
	}
	if in.Checklist != nil {
		args["checklist"] = in.Checklist
	}
	if in.EndedAt != nil {
		args["ended_at"] = in.EndedAt.Format(time.RFC3339)
	}
	if in.Position != nil {
		args["position"] = in.Position
	}
	_, err := d.Enqueue(ctx, "visit.create", args)
	return in.ID, err
}

// requireHeld fails unless the phone holds a record of typ with id (pulled or made here).
func (d *Device) requireHeld(ctx context.Context, typ string, id uuid.UUID) (*Record, error) {
	r, err := getRecord(ctx, d.db, typ, id.String())
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("no %s %s on this phone (sync to fetch it)", typ, id)
	}
	return r, nil
}

// SubmitVisit queues visit.submit.
func (d *Device) SubmitVisit(ctx context.Context, id uuid.UUID) error {
	if _, err := d.requireHeld(ctx, "visit", id); err != nil {
		return err
	}
	_, err := d.Enqueue(ctx, "visit.submit", map[string]any{"id": id})
	return err
}

// UpdateVisit queues visit.update with the fields set ("answers.<key>" for one answer); the
// base version is the one the phone holds.
func (d *Device) UpdateVisit(ctx context.Context, id uuid.UUID, set map[string]any) error {
	return d.update(ctx, "visit", id, set)
}

// UpdateFinding queues finding.update, as UpdateVisit.
func (d *Device) UpdateFinding(ctx context.Context, id uuid.UUID, set map[string]any) error {
	return d.update(ctx, "finding", id, set)
}

func (d *Device) update(ctx context.Context, typ string, id uuid.UUID, set map[string]any) error {
	r, err := d.requireHeld(ctx, typ, id)
	if err != nil {
		return err
	}
	if len(set) == 0 {
		return errors.New("nothing to change")
	}
	_, err = d.Enqueue(ctx, typ+".update", map[string]any{"id": id, "base_version": max(r.Version, 1), "set": set})
	return err
}

// FindingInput is a new finding on a visit.
type FindingInput struct {
	ID                uuid.UUID // zero: a new UUID
	VisitID           uuid.UUID
	Category          string
	Severity          string // ordinary, serious, major
	Description       string
	Position          *Position
	ResponsibleUnit   string
	ResponsiblePerson string
	Deadline          string // YYYY-MM-DD
	Measures          string
}

// NewFinding queues finding.create and returns the finding's id.
func (d *Device) NewFinding(ctx context.Context, in FindingInput) (uuid.UUID, error) {
	if _, err := d.requireHeld(ctx, "visit", in.VisitID); err != nil {
		return uuid.Nil, err
	}
	if in.ID == uuid.Nil {
		in.ID = uuid.New()
	}
	args := map[string]any{"id": in.ID, "visit_id": in.VisitID, "category": in.Category, "severity": in.Severity,
		"description": in.Description, "responsible_unit": in.ResponsibleUnit, "deadline": in.Deadline}
	if in.Position != nil {
		args["position"] = in.Position
	}
	for k, v := range map[string]string{"responsible_person": in.ResponsiblePerson, "measures": in.Measures} {
		if v != "" {
			args[k] = v
		}
	}
	_, err := d.Enqueue(ctx, "finding.create", args)
	return in.ID, err
}

// FindingStep is one step of a finding's life: finding.start, finding.rectify or finding.recheck.
type FindingStep struct {
	Notes    string
	PhotoIDs []uuid.UUID
	At       time.Time // rectified_at / checked_at (zero: left out)
	Passed   bool      // recheck only
}

// StartFinding queues finding.start (open → rectifying).
func (d *Device) StartFinding(ctx context.Context, id uuid.UUID, s FindingStep) error {
	return d.findingStep(ctx, "finding.start", id, s, "")
}

// RectifyFinding queues finding.rectify (→ awaiting_recheck); notes are required.
func (d *Device) RectifyFinding(ctx context.Context, id uuid.UUID, s FindingStep) error {
	return d.findingStep(ctx, "finding.rectify", id, s, "rectified_at")
}

// RecheckFinding queues finding.recheck: passed closes it, failed returns it to rectifying
// (notes then say what is still wrong).
func (d *Device) RecheckFinding(ctx context.Context, id uuid.UUID, s FindingStep) error {
	return d.findingStep(ctx, "finding.recheck", id, s, "checked_at")
}

func (d *Device) findingStep(ctx context.Context, name string, id uuid.UUID, s FindingStep, atField string) error {
	if _, err := d.requireHeld(ctx, "finding", id); err != nil {
		return err
	}
	args := map[string]any{"id": id}
	if s.Notes != "" {
		args["notes"] = s.Notes
	}
	if len(s.PhotoIDs) > 0 && name != "finding.start" {
		args["photo_ids"] = s.PhotoIDs
	}
	if atField != "" && !s.At.IsZero() {
		args[atField] = s.At.Format(time.RFC3339)
	}
	if name == "finding.recheck" {
		args["passed"] = s.Passed
	}
	_, err := d.Enqueue(ctx, name, args)
	return err
}
