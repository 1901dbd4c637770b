package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// NewRegion is a region to create, as the admin API takes it: the parent is named by id or by
// code (neither for the city).
type NewRegion struct {
	ID         uuid.UUID       `json:"-"` // zero: a new random id (an import gives stable ones)
	Code       string          `json:"code"`
	Name       string          `json:"name"`
	Level      string          `json:"level"`
	ParentID   *uuid.UUID      `json:"parent_id"`
	ParentCode string          `json:"parent_code"`
	Centre     *models.Point   `json:"centre"`
	Boundary   json.RawMessage `json:"boundary"`
}

// RegionPatch is a change to a region: rename, set or clear its centre and boundary, or move it
// (with its subtree) under another parent of the level above. Fields left out stay as they are.
type RegionPatch struct {
	Name     models.Optional[string]          `json:"name"`
	Centre   models.Optional[models.Point]    `json:"centre"`
	Boundary models.Optional[json.RawMessage] `json:"boundary"`
	ParentID models.Optional[uuid.UUID]       `json:"parent_id"`
}

// errRegionCodeTaken refuses a region whose code another region has.
var errRegionCodeTaken = models.StateConflict("region_code_taken", "code", "Another region already has this code.")

// regionChange is the change-log row of a region write.
func regionChange(r models.Region, oldPath *string) models.Change {
	return models.Change{RecordType: models.TypeRegion, RecordID: r.ID.String(), Op: models.OpPut,
		Version: r.UpdatedAt.UnixMicro(), RegionPath: r.Path, OldRegionPath: oldPath}
}

// CreateRegion adds a region under a parent of the level directly above (a city has none), with
// its change-log row and audit line. Admins only.
func (e *Engine) CreateRegion(ctx context.Context, a Actor, nr NewRegion) (models.Region, error) {
	scope, err := adminScope(a)
	if err != nil {
		return models.Region{}, err
	}
	var out models.Region
	err = e.write(ctx, a, func(w *Work) error {
		r, err := w.createRegion(scope, nr)
		if err != nil {
			return err
		}
		w.Audit("region.create", "region", r.ID.String(), map[string]any{
			"code": r.Code, "name": r.Name, "level": r.Level, "parent_id": r.ParentID})
		out = r
		return nil
	})
	return out, err
}

// createRegion validates and stores one new region and logs it.
func (w *Work) createRegion(scope models.Scope, nr NewRegion) (models.Region, error) {
	r := models.Region{ID: nr.ID, Code: nr.Code, Name: nr.Name, Level: models.RegionLevel(nr.Level), Centre: nr.Centre,
		Boundary: nr.Boundary}
	var ve models.ValidationError
	models.ValidateRegionCode(&ve, "code", r.Code)
	ve.CheckText("name", r.Name, true, 100)
	models.ValidatePoint(&ve, "centre", r.Centre)
	models.ValidateBoundary(&ve, "boundary", r.Boundary)
	if r.Level.Depth() < 0 {
		ve.Add("level", "unknown", "must be one of city, county, township, village")
	}
	parent, err := w.lookupRegion(&ve, "parent", nr.ParentID, nr.ParentCode)
	if err != nil {
		return models.Region{}, err
	}
	switch {
	case r.Level.Depth() < 0:
	case parent == nil && r.Level != models.LevelCity:
		ve.Add("parent_id", "required", "a %s needs a parent region", r.Level)
	case parent != nil && !r.Level.ChildOf(parent.Level):
		ve.Add("level", "invalid", "a %s cannot sit under a %s", r.Level, parent.Level)
	}
	if err := ve.Err(); err != nil {
		return models.Region{}, err
	}
	if r.ID == uuid.Nil {
		r.ID = uuid.New()
	}
	parentPath := ""
	if parent != nil {
		r.ParentID, parentPath = &parent.ID, parent.Path
	}
	r.Path = models.RegionPath(parentPath, r.ID)
	if !scope.CoversRegion(r.Path) {
		return models.Region{}, models.OutOfScope("parent_id", "this region is outside your scope")
	}
	stored, err := w.tx.CreateRegion(w.ctx, r)
	if errors.Is(err, storage.ErrConflict) {
		return models.Region{}, errRegionCodeTaken.WithCause(err)
	} else if err != nil {
		return models.Region{}, err
	}
	w.cacheRegion(stored)
	w.logChange(regionChange(stored, nil))
	return stored, nil
}

// UpdateRegion renames a region, sets or clears its centre and boundary, or moves it (with its
// whole subtree) under another parent of the same level as before. A move logs every region,
// record and user of the subtree with its old path, so phones that no longer cover them get
// removes. Admins only; an unknown id is storage.ErrNotFound.
func (e *Engine) UpdateRegion(ctx context.Context, a Actor, id uuid.UUID, p RegionPatch) (models.Region, error) {
	scope, err := adminScope(a)
	if err != nil {
		return models.Region{}, err
	}
	var out models.Region
	err = e.write(ctx, a, func(w *Work) error {
		cur, err := w.tx.GetRegion(ctx, id)
		if err != nil {
			return err
		}
		if err := checkRegionInScope(scope, "id", &cur); err != nil {
			return err
		}
		sp, parent, err := w.regionPatch(cur, p)
		if err != nil {
			return err
		}
		if err := checkRegionInScope(scope, "parent_id", parent); err != nil {
			return err
		}
		var changes []models.Change
		if parent != nil {
			moved, err := w.tx.MoveRegionSubtree(ctx, cur.Path, models.RegionPath(parent.Path, cur.ID))
			if err != nil {
				return err
			}
			changes = movedChanges(moved)
		}
		if out, err = w.tx.UpdateRegion(ctx, id, sp); err != nil {
			return err
		}
		if len(changes) == 0 {
			changes = []models.Change{regionChange(out, nil)}
		}
		w.logChange(changes...)
		var parentID *uuid.UUID
		if p.ParentID.Set && !p.ParentID.Null {
			parentID = &p.ParentID.Value
		}
		w.Audit("region.update", "region", id.String(), map[string]any{
			"name": p.Name.Value, "parent_id": parentID, "centre_changed": p.Centre.Set,
			"boundary_changed": p.Boundary.Set, "moved": len(changes) - 1})
		return nil
	})
	return out, err
}

// regionPatch validates p against region cur and returns the storage patch and, when the region
// moves, its new parent.
func (w *Work) regionPatch(cur models.Region, p RegionPatch) (storage.RegionPatch, *models.Region, error) {
	var ve models.ValidationError
	var sp storage.RegionPatch
	if p.Name.Set {
		ve.CheckText("name", p.Name.Value, true, 100)
		sp.Name = &p.Name.Value
	}
	if p.Centre.Set {
		sp.ClearCentre = p.Centre.Null
		if !p.Centre.Null {
			models.ValidatePoint(&ve, "centre", &p.Centre.Value)
			sp.Centre = &p.Centre.Value
		}
	}
	if p.Boundary.Set {
		sp.ClearBoundary = p.Boundary.Null
		models.ValidateBoundary(&ve, "boundary", p.Boundary.Value)
		sp.Boundary = p.Boundary.Value
	}
	var moveTo *models.Region
	if p.ParentID.Set && p.ParentID.Null {
		ve.Add("parent_id", "invalid", "a region cannot be detached from the tree")
	} else if p.ParentID.Set {
		parent, err := w.lookupRegion(&ve, "parent", &p.ParentID.Value, "")
		if err != nil {
			return sp, nil, err
		}
		switch {
		case parent != nil && !cur.Level.ChildOf(parent.Level):
			ve.Add("parent_id", "invalid", "a %s cannot sit under a %s", cur.Level, parent.Level)
		case parent != nil && (cur.ParentID == nil || *cur.ParentID != parent.ID):
			sp.ParentID, moveTo = &parent.ID, parent
		}
	}
	return sp, moveTo, ve.Err()
}

// movedChanges are the change-log rows of a moved subtree: every region, live record and user
// with its old path (tombstones moved too, but phones hold none to remove).
func movedChanges(moved []storage.Moved) []models.Change {
	out := make([]models.Change, 0, len(moved))
	for _, m := range moved {
		if m.Deleted {
			continue
		}
		old := m.OldPath
		out = append(out, models.Change{RecordType: m.Type, RecordID: m.ID, Op: models.OpPut, Version: m.Version,
			Kind: m.Kind, RegionPath: m.Path, OldRegionPath: &old})
	}
	return out
}

// lookupRegion resolves a region named by id or by code (nil when neither is given), recording a
// field error under the field the client used when it names no region or both are given. Only a
// failed look-up is an error.
func (w *Work) lookupRegion(ve *models.ValidationError, field string, id *uuid.UUID, code string) (*models.Region, error) {
	switch {
	case id != nil && code != "":
		ve.Add(field+"_code", "invalid", "give %s_id or %s_code, not both", field, field)
		return nil, nil
	case id != nil:
		r, err := w.Region(*id)
		if err == nil && r == nil {
			ve.Add(field+"_id", "unknown", "no region has this id")
		}
		return r, err
	case code != "":
		r, err := w.regionByCode(code)
		if err == nil && r == nil {
			ve.Add(field+"_code", "unknown", "no region has code %q", code)
		}
		return r, err
	}
	return nil, nil
}

// regionByCode returns the region with a code (nil when there is none).
func (w *Work) regionByCode(code string) (*models.Region, error) {
	if w.regionsByCode != nil {
		if r, ok := w.regionsByCode[code]; ok {
			return &r, nil
		}
		return nil, nil
	}
	r, err := w.tx.GetRegionByCode(w.ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	w.regions[r.ID] = r
	return &r, nil
}

// preloadRegions reads every region (without boundaries) into the working set, so a batch that
// names many regions by code looks each up in memory.
func (w *Work) preloadRegions() error {
	all, err := w.tx.ListRegions(w.ctx, storage.RegionFilter{})
	if err != nil {
		return fmt.Errorf("sync: regions: %w", err)
	}
	w.regionsByCode = make(map[string]models.Region, len(all))
	for _, r := range all {
		w.cacheRegion(r)
	}
	return nil
}

func (w *Work) cacheRegion(r models.Region) {
	w.regions[r.ID] = r
	if w.regionsByCode != nil {
		w.regionsByCode[r.Code] = r
	}
}
