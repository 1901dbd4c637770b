package storage

import (
	"context"
	"encoding/json"
	"fmt"

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

// DecodeChecklist reads a checklist record's data.
func DecodeChecklist(r models.Record) (models.Checklist, error) {
	var cl models.Checklist
	if err := json.Unmarshal(r.Data, &cl); err != nil {
		return models.Checklist{}, fmt.Errorf("storage: checklist %s data: %w", r.ID, err)
	}
	return cl, nil
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
