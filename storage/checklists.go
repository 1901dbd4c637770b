package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// Checklists are records of type "checklist": data is the models.Checklist with every version
// published so far, kind is the checklist's kind, and the record's version counts its writes
// (creation, then one per published version). They belong to no region (region_id NULL,
// region_path ''): every phone whose scope includes the kind receives them.

// ChecklistFilter narrows ListChecklists.
type ChecklistFilter struct {
	Kinds []models.Kind // empty = every kind
	After uuid.UUID     // keyset: ids after this one (uuid.Nil = from the start)
	Limit int
}

// ChecklistChange is the change-log row of a checklist write.
func ChecklistChange(r models.Record) models.Change {
	return models.Change{RecordType: models.TypeChecklist, RecordID: r.ID.String(), Op: models.OpPut, Version: r.Version,
		Kind: r.Kind, RegionPath: r.RegionPath}
}

// DecodeChecklist reads a checklist record's data.
func DecodeChecklist(r models.Record) (models.Checklist, error) {
	var cl models.Checklist
	if err := json.Unmarshal(r.Data, &cl); err != nil {
		return models.Checklist{}, fmt.Errorf("storage: checklist %s data: %w", r.ID, err)
	}
	return cl, nil
}

func checklistRecord(cl models.Checklist, by *uuid.UUID, version int64) (models.Record, error) {
	data, err := json.Marshal(cl)
	if err != nil {
		return models.Record{}, err
	}
	return models.Record{Type: models.TypeChecklist, ID: cl.ID, Kind: cl.Kind, Status: "active", Version: version,
		Data: data, FieldMeta: map[string]models.FieldMeta{}, CreatedBy: by}, nil
}

// CreateChecklist stores a new checklist (validated by the caller) with its change-log row and,
// when audit is not nil, its audit entry, in one transaction. A taken id is ErrConflict.
func (s *Store) CreateChecklist(ctx context.Context, cl models.Checklist, by *uuid.UUID, audit *models.AuditEntry) (models.Record, error) {
	rec, err := checklistRecord(cl, by, 1)
	if err != nil {
		return models.Record{}, err
	}
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.SaveRecords(ctx, []models.Record{rec}, true); err != nil {
			return err
		}
		if audit != nil {
			if err := tx.Audit(ctx, *audit); err != nil {
				return err
			}
		}
		_, err := tx.AppendChanges(ctx, []models.Change{ChecklistChange(rec)})
		return err
	})
	if err != nil {
		return models.Record{}, err
	}
	return s.GetRecord(ctx, models.TypeChecklist, cl.ID)
}

// PublishChecklistVersion appends the next version (last + 1) of checklist id with items, in one
// transaction with its change-log row and audit entry (made by audit from the new version's
// number). The earlier versions are kept unchanged. The items are validated here; a bad list is a
// *models.ValidationError. An unknown id is ErrNotFound.
func (s *Store) PublishChecklistVersion(ctx context.Context, id uuid.UUID, items []models.ChecklistItem, by *uuid.UUID,
	at time.Time, audit func(version int) models.AuditEntry) (models.Record, error) {
	var ve models.ValidationError
	models.ValidateChecklistItems(&ve, "items", items)
	if err := ve.Err(); err != nil {
		return models.Record{}, err
	}
	err := s.InTx(ctx, func(tx *Store) error {
		m, err := tx.LockRecords(ctx, models.TypeChecklist, []uuid.UUID{id})
		if err != nil {
			return err
		}
		rec, ok := m[id]
		if !ok || rec.DeletedAt != nil {
			return fmt.Errorf("storage: checklist %s: %w", id, ErrNotFound)
		}
		cl, err := DecodeChecklist(rec)
		if err != nil {
			return err
		}
		if len(cl.Versions) >= models.MaxChecklistVersions {
			ve.Add("items", "too_long", "a checklist has at most %d versions", models.MaxChecklistVersions)
			return &ve
		}
		next := 1
		if last := cl.Latest(); last != nil {
			next = last.Version + 1
		}
		cl.Versions = append(cl.Versions, models.ChecklistVersion{Version: next, Items: items, PublishedAt: at.UTC(), PublishedBy: by})
		if rec.Data, err = json.Marshal(cl); err != nil {
			return err
		}
		rec.Version++
		if err := tx.SaveRecords(ctx, []models.Record{rec}, false); err != nil {
			return err
		}
		if audit != nil {
			if err := tx.Audit(ctx, audit(next)); err != nil {
				return err
			}
		}
		_, err = tx.AppendChanges(ctx, []models.Change{ChecklistChange(rec)})
		return err
	})
	if err != nil {
		return models.Record{}, err
	}
	return s.GetRecord(ctx, models.TypeChecklist, id)
}

// GetChecklist returns a checklist and its record (ErrNotFound when there is none).
func (s *Store) GetChecklist(ctx context.Context, id uuid.UUID) (models.Checklist, models.Record, error) {
	rec, err := s.GetRecord(ctx, models.TypeChecklist, id)
	if err != nil {
		return models.Checklist{}, models.Record{}, err
	}
	cl, err := DecodeChecklist(rec)
	return cl, rec, err
}

// ListChecklists returns one page of live checklist records of the given kinds, ordered by id. It
// serves both the API's list and the bootstrap scan of the "checklist" pull type.
func (s *Store) ListChecklists(ctx context.Context, f ChecklistFilter) ([]models.Record, error) {
	kinds := make([]string, len(f.Kinds))
	for i, k := range f.Kinds {
		kinds[i] = string(k)
	}
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT `+recordColsNoMeta+` FROM records
		WHERE type = 'checklist' AND deleted_at IS NULL AND id > $1
		  AND (cardinality($2::text[]) = 0 OR kind = ANY($2::text[]))
		ORDER BY id LIMIT $3`, f.After, kinds, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("storage: list checklists: %w", classify(err))
	}
	return scanRecords(rows)
}

// EnsureDefaultChecklists stores the built-in checklists (models.DefaultChecklists) that are not
// there yet, each with its change-log row, and returns how many it created. Their ids are fixed,
// so calling it again creates nothing; a checklist already there is left alone (admins may have
// published newer versions).
func (s *Store) EnsureDefaultChecklists(ctx context.Context, at time.Time) (int, error) {
	defaults := models.DefaultChecklists(at)
	ids := make([]uuid.UUID, len(defaults))
	for i, cl := range defaults {
		ids[i] = cl.ID
	}
	created := 0
	err := s.InTx(ctx, func(tx *Store) error {
		have, err := tx.LockRecords(ctx, models.TypeChecklist, ids)
		if err != nil {
			return err
		}
		var recs []models.Record
		var changes []models.Change
		for _, cl := range defaults {
			if _, ok := have[cl.ID]; ok {
				continue
			}
			var ve models.ValidationError
			if cl.Validate(&ve); ve.Err() != nil {
				return fmt.Errorf("storage: default checklist %s: %w", cl.Kind, ve.Err())
			}
			rec, err := checklistRecord(cl, nil, 1)
			if err != nil {
				return err
			}
			recs, changes = append(recs, rec), append(changes, ChecklistChange(rec))
		}
		if len(recs) == 0 {
			return nil
		}
		if err := tx.SaveRecords(ctx, recs, true); err != nil {
			return err
		}
		created = len(recs)
		_, err = tx.AppendChanges(ctx, changes)
		return err
	})
	return created, err
}
