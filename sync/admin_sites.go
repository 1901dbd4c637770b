package sync

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// errSiteArchived refuses a change to an archived site: the state of the site forbids it.
var errSiteArchived = models.StateConflict("archived", "", "An archived site cannot be changed.")

// CreateSite adds a site in a region of the level its kind needs, with its change-log put and
// audit line, and returns its record. Admins only; a taken id is storage.ErrConflict.
func (e *Engine) CreateSite(ctx context.Context, a Actor, ns NewSite) (models.Record, error) {
	scope, err := adminScope(a)
	if err != nil {
		return models.Record{}, err
	}
	var id uuid.UUID
	err = e.write(ctx, a, func(w *Work) error {
		site, err := w.createSite(scope, ns)
		if err != nil {
			return err
		}
		id = site.ID
		w.Audit("site.create", models.TypeSite, site.ID.String(), map[string]any{
			"kind": site.Kind, "name": site.Name, "region_id": site.RegionID})
		return nil
	})
	if err != nil {
		return models.Record{}, err
	}
	return e.store.GetRecord(ctx, models.TypeSite, id)
}

// createSite validates one new site and puts its record (version 1) in the working set.
func (w *Work) createSite(scope models.Scope, ns NewSite) (models.Site, error) {
	site := ns.site()
	var ve models.ValidationError
	if ns.ID != nil && *ns.ID == uuid.Nil {
		ve.Add("id", "invalid", "must not be the nil UUID; leave id out to have one made")
	}
	region, err := w.siteRegion(&ve, site.Kind, ns.RegionID, ns.RegionCode)
	if err != nil {
		return site, err
	}
	if region != nil {
		site.RegionID = region.ID
	}
	site.Validate(&ve)
	if err := ve.Err(); err != nil {
		return site, err
	}
	if err := checkRegionInScope(scope, "region_id", region); err != nil {
		return site, err
	}
	existing, err := w.Record(models.TypeSite, site.ID)
	if err != nil {
		return site, err
	}
	if existing != nil {
		return site, fmt.Errorf("sync: site %s: %w", site.ID, storage.ErrConflict)
	}
	data, err := json.Marshal(site)
	if err != nil {
		return site, err
	}
	rid := region.ID
	rec := &models.Record{Type: models.TypeSite, ID: site.ID, Kind: site.WorkKind, RegionID: &rid,
		RegionPath: region.Path, Status: site.Status, Version: 1, Data: data, FieldMeta: map[string]models.FieldMeta{},
		CreatedBy: w.createdBy(), CreatedAt: w.now, UpdatedAt: w.now}
	w.Put(rec, nil)
	return site, nil
}

// createdBy is the actor's user id for a record's created_by (nil for the command line and the
// system).
func (w *Work) createdBy() *uuid.UUID {
	if w.actor.User.ID == uuid.Nil {
		return nil
	}
	id := w.actor.User.ID
	return &id
}

// siteRegion resolves the region named by id or code and checks its level against the site kind.
func (w *Work) siteRegion(ve *models.ValidationError, k models.SiteKind, id *uuid.UUID, code string) (*models.Region, error) {
	n := len(ve.Errors)
	r, err := w.lookupRegion(ve, "region", id, code)
	if err != nil || len(ve.Errors) > n {
		return nil, err
	}
	field := "region_id"
	if id == nil && code != "" {
		field = "region_code"
	}
	models.ValidateSiteRegion(ve, field, k, r)
	return r, nil
}

// lockSite loads a site for a change and locks it until commit (storage.ErrNotFound when there is
// none).
func (w *Work) lockSite(id uuid.UUID) (models.Record, models.Site, error) {
	rec, err := w.lockRecord(models.TypeSite, id)
	if err != nil {
		return models.Record{}, models.Site{}, err
	}
	if rec == nil {
		return models.Record{}, models.Site{}, fmt.Errorf("sync: site %s: %w", id, storage.ErrNotFound)
	}
	var site models.Site
	if err := json.Unmarshal(rec.Data, &site); err != nil {
		return models.Record{}, models.Site{}, fmt.Errorf("sync: site %s data: %w", id, err)
	}
	return *rec, site, nil
}

// UpdateSite changes the fields present (null clears an optional one); the kind never changes.
// The whole site is validated again after the change. Moving it to another region logs the old
// region path, so phones that no longer cover it receive a remove. An archived site cannot change.
// Admins only.
func (e *Engine) UpdateSite(ctx context.Context, a Actor, id uuid.UUID, p SitePatch) (models.Record, error) {
	scope, err := adminScope(a)
	if err != nil {
		return models.Record{}, err
	}
	err = e.write(ctx, a, func(w *Work) error {
		rec, site, err := w.lockSite(id)
		if err != nil {
			return err
		}
		if rec.DeletedAt != nil {
			return errSiteArchived
		}
		if !scope.CoversRegion(rec.RegionPath) {
			return models.OutOfScope("id", "this site is outside your scope")
		}
		changed := p.apply(&site)
		var ve models.ValidationError
		var region *models.Region
		if p.movesRegion() {
			var rid *uuid.UUID
			if p.RegionID.Set && !p.RegionID.Null {
				rid = &p.RegionID.Value
			}
			if region, err = w.siteRegion(&ve, site.Kind, rid, p.RegionCode.Value); err != nil {
				return err
			}
			if region != nil {
				site.RegionID = region.ID
			}
		}
		site.Validate(&ve)
		if err := ve.Err(); err != nil {
			return err
		}
		if err := checkRegionInScope(scope, "region_id", region); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		var oldPath *string
		if region != nil && region.Path != rec.RegionPath {
			p := rec.RegionPath
			oldPath = &p
		}
		if region != nil {
			rec.RegionID, rec.RegionPath = &region.ID, region.Path
		}
		if rec.Data, err = json.Marshal(site); err != nil {
			return err
		}
		rec.Version++
		w.Put(&rec, oldPath)
		w.Audit("site.update", models.TypeSite, id.String(), map[string]any{
			"fields": changed, "old_region_path": oldPath, "version": rec.Version})
		return nil
	})
	if err != nil {
		return models.Record{}, err
	}
	return e.store.GetRecord(ctx, models.TypeSite, id)
}

// ArchiveSite archives a site: its record becomes a tombstone (status archived, deleted_at set),
// phones receive a remove, and new visits cannot name it. Archiving again changes nothing.
// Admins only.
func (e *Engine) ArchiveSite(ctx context.Context, a Actor, id uuid.UUID) (models.Record, error) {
	scope, err := adminScope(a)
	if err != nil {
		return models.Record{}, err
	}
	err = e.write(ctx, a, func(w *Work) error {
		rec, site, err := w.lockSite(id)
		if err != nil || rec.DeletedAt != nil {
			return err
		}
		if !scope.CoversRegion(rec.RegionPath) {
			return models.OutOfScope("id", "this site is outside your scope")
		}
		site.Status = models.SiteArchived
		if rec.Data, err = json.Marshal(site); err != nil {
			return err
		}
		now := w.now
		rec.Status, rec.DeletedAt = models.SiteArchived, &now
		rec.Version++
		w.Put(&rec, nil)
		w.Audit("site.archive", models.TypeSite, id.String(), map[string]any{"version": rec.Version})
		return nil
	})
	if err != nil {
		return models.Record{}, err
	}
	return e.store.GetRecord(ctx, models.TypeSite, id)
}
