package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// Checklists are records of type "checklist": data is the models.Checklist with every version
// published so far, kind is the checklist's kind, and the record's version counts its writes
// (creation, then one per published version). They belong to no region (region_id NULL,
// region_path ''): every phone whose scope includes the kind receives them.

// NewChecklist is a checklist to create with its version 1, as the admin API takes it. The client
// may choose the id, so a retried create is refused rather than duplicated.
type NewChecklist struct {
	ID    *uuid.UUID             `json:"id"`
	Kind  string                 `json:"kind"`
	Name  string                 `json:"name"`
	Items []models.ChecklistItem `json:"items"`
}

func checklistRecord(cl models.Checklist, by *uuid.UUID, version int64) (*models.Record, error) {
	data, err := json.Marshal(cl)
	if err != nil {
		return nil, err
	}
	return &models.Record{Type: models.TypeChecklist, ID: cl.ID, Kind: cl.Kind, Status: "active", Version: version,
		Data: data, FieldMeta: map[string]models.FieldMeta{}, CreatedBy: by}, nil
}

// CreateChecklist adds a checklist with its version 1, its change-log row and audit line, and
// returns its record. Admins only; a taken id is storage.ErrConflict.
func (e *Engine) CreateChecklist(ctx context.Context, a Actor, nc NewChecklist) (models.Record, error) {
	if _, err := adminScope(a); err != nil {
		return models.Record{}, err
	}
	var id uuid.UUID
	err := e.write(ctx, a, func(w *Work) error {
		cl := models.Checklist{ID: uuid.New(), Kind: models.Kind(nc.Kind), Name: nc.Name,
			Versions: []models.ChecklistVersion{{Version: 1, Items: nc.Items, PublishedAt: w.now, PublishedBy: w.createdBy()}}}
		var ve models.ValidationError
		if nc.ID != nil && *nc.ID == uuid.Nil {
			ve.Add("id", "invalid", "must not be the nil UUID; leave id out to have one made")
		} else if nc.ID != nil {
			cl.ID = *nc.ID
		}
		cl.Validate(&ve)
		for i := range ve.Errors { // the request names the items of version 1 "items"
			if f, ok := strings.CutPrefix(ve.Errors[i].Field, "versions[0]."); ok && strings.HasPrefix(f, "items") {
				ve.Errors[i].Field = f
			}
		}
		if err := ve.Err(); err != nil {
			return err
		}
		existing, err := w.lockRecord(models.TypeChecklist, cl.ID)
		if err != nil {
			return err
		}
		if existing != nil {
			return fmt.Errorf("sync: checklist %s: %w", cl.ID, storage.ErrConflict)
		}
		rec, err := checklistRecord(cl, w.createdBy(), 1)
		if err != nil {
			return err
		}
		w.Put(rec, nil)
		w.Audit("checklist.create", models.TypeChecklist, cl.ID.String(), map[string]any{
			"kind": cl.Kind, "name": cl.Name, "version": 1, "items": len(nc.Items)})
		id = cl.ID
		return nil
	})
	if err != nil {
		return models.Record{}, err
	}
	return e.store.GetRecord(ctx, models.TypeChecklist, id)
}

// PublishChecklistVersion appends the next version (last + 1) of checklist id with items, with its
// change-log row and audit line. The earlier versions are kept unchanged, so phones still on them
// keep being accepted. Admins only; a bad item list is a *models.ValidationError, an unknown id a
// not-found error.
func (e *Engine) PublishChecklistVersion(ctx context.Context, a Actor, id uuid.UUID, items []models.ChecklistItem) (models.Record, error) {
	if _, err := adminScope(a); err != nil {
		return models.Record{}, err
	}
	var ve models.ValidationError
	models.ValidateChecklistItems(&ve, "items", items)
	if err := ve.Err(); err != nil {
		return models.Record{}, err
	}
	err := e.write(ctx, a, func(w *Work) error {
		rec, err := w.lockRecord(models.TypeChecklist, id)
		if err != nil {
			return err
		}
		if rec == nil || rec.DeletedAt != nil {
			return models.NotFound("id", "No checklist %s.", id)
		}
		cl, err := storage.DecodeChecklist(*rec)
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
		cl.Versions = append(cl.Versions, models.ChecklistVersion{Version: next, Items: items, PublishedAt: w.now,
			PublishedBy: w.createdBy()})
		cp := *rec
		if cp.Data, err = json.Marshal(cl); err != nil {
			return err
		}
		cp.Version++
		w.Put(&cp, nil)
		w.Audit("checklist.publish", models.TypeChecklist, id.String(), map[string]any{"version": next, "items": len(items)})
		return nil
	})
	if err != nil {
		return models.Record{}, err
	}
	return e.store.GetRecord(ctx, models.TypeChecklist, id)
}

// EnsureDefaultChecklists stores the built-in checklists (models.DefaultChecklists) that are not
// there yet, each with its change-log row, and returns how many it created. Their ids are fixed,
// so calling it again creates nothing; a checklist already there is left alone (admins may have
// published newer versions). Admins only.
func (e *Engine) EnsureDefaultChecklists(ctx context.Context, a Actor) (int, error) {
	if _, err := adminScope(a); err != nil {
		return 0, err
	}
	created := 0
	err := e.write(ctx, a, func(w *Work) error {
		var err error
		created, err = w.ensureDefaultChecklists()
		return err
	})
	return created, err
}

// ensureDefaultChecklists puts the built-in checklists that are missing in the working set.
func (w *Work) ensureDefaultChecklists() (int, error) {
	defaults := models.DefaultChecklists(w.now)
	refs := make([]Ref, len(defaults))
	for i, cl := range defaults {
		refs[i] = Ref{models.TypeChecklist, cl.ID}
	}
	if err := w.prefetch(refs); err != nil {
		return 0, err
	}
	created := 0
	for _, cl := range defaults {
		if have, err := w.Record(models.TypeChecklist, cl.ID); err != nil {
			return 0, err
		} else if have != nil {
			continue
		}
		var ve models.ValidationError
		if cl.Validate(&ve); ve.Err() != nil {
			return 0, fmt.Errorf("sync: default checklist %s: %w", cl.Kind, ve.Err())
		}
		rec, err := checklistRecord(cl, nil, 1)
		if err != nil {
			return 0, err
		}
		w.Put(rec, nil)
		created++
	}
	return created, nil
}
