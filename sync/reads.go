package sync

import (
	"context"
	"fmt"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// Reads that depend on the actor's scope. Handlers may read through storage where nothing but the
// request decides what is visible; where the scope decides, they ask the engine, so the rule is
// written once.

// Checklist returns a checklist's record if the actor may read it: a checklist of a kind outside
// their scope is storage.ErrNotFound, as if it did not exist.
func (e *Engine) Checklist(ctx context.Context, a Actor, id uuid.UUID) (models.Record, error) {
	r, err := e.store.GetRecord(ctx, models.TypeChecklist, id)
	if err == nil && !a.Scope.CoversKind(r.Kind) {
		return models.Record{}, fmt.Errorf("sync: checklist %s: %w", id, storage.ErrNotFound)
	}
	return r, err
}

// Regions returns the regions inside the actor's scope (f.Scope is ignored), parents first.
func (e *Engine) Regions(ctx context.Context, a Actor, f storage.RegionFilter) ([]models.Region, error) {
	f.Scope = a.Scope
	return e.store.ListRegions(ctx, f)
}

// AdminRegions returns the whole region tree (f.Scope is ignored), whatever the admin's own
// assignment. Admins only.
func (e *Engine) AdminRegions(ctx context.Context, a Actor, f storage.RegionFilter) ([]models.Region, error) {
	scope, err := adminScope(a)
	if err != nil {
		return nil, err
	}
	f.Scope = scope
	return e.store.ListRegions(ctx, f)
}
