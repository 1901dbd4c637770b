package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
)

// importLock is the advisory lock key that serialises imports, so two servers loading the same
// data at once do not both create it.
const importLock = 7236101

// Import is a batch of regions, users, built-in checklists and sites created together, as an
// admin would create them one by one (the same validation, scope and change-log rows) but in one
// transaction with one audit line: the demo city, a city's initial tree. What exists already (a
// region by code, a user by username, a checklist or site by id) is left exactly as it is, so
// importing the same batch twice changes nothing.
type Import struct {
	Action     string // the audit action, such as "demo.load"
	TargetType string // the audit target type, such as "demo"

	Regions           []NewRegion // parents before their children
	Users             []NewUser   // passwords in clear; hashed with the engine's password parameters
	DefaultChecklists bool        // models.DefaultChecklists
	Sites             []NewSite
}

// ImportResult counts what an import created (zero everywhere: it was all there).
type ImportResult struct {
	Regions, Users, Checklists int
	Sites                      map[models.SiteKind]int
}

// SiteCount is how many sites the import created.
func (r ImportResult) SiteCount() int {
	n := 0
	for _, c := range r.Sites {
		n += c
	}
	return n
}

func (r ImportResult) created() bool { return r.Regions+r.Users+r.Checklists+r.SiteCount() > 0 }

// Import creates what the batch holds and does not exist yet, in one transaction, and audits it
// once (when it created anything). Admins only.
func (e *Engine) Import(ctx context.Context, a Actor, imp Import) (ImportResult, error) {
	scope, err := adminScope(a)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err = e.write(ctx, a, func(w *Work) error {
		res = ImportResult{Sites: map[models.SiteKind]int{}}
		if err := w.tx.LockXact(ctx, importLock); err != nil {
			return err
		}
		if err := w.preloadRegions(); err != nil {
			return err
		}
		if err := w.importRegions(scope, imp.Regions, &res); err != nil {
			return err
		}
		if err := w.importUsers(scope, imp.Users, e.cfg.Password, &res); err != nil {
			return err
		}
		if imp.DefaultChecklists {
			if res.Checklists, err = w.ensureDefaultChecklists(); err != nil {
				return err
			}
		}
		if err := w.importSites(scope, imp.Sites, &res); err != nil {
			return err
		}
		if res.created() {
			w.Audit(imp.Action, imp.TargetType, "", importDetails(imp, res))
		}
		return nil
	})
	return res, err
}

func (w *Work) importRegions(scope models.Scope, regions []NewRegion, res *ImportResult) error {
	for _, nr := range regions {
		if _, ok := w.regionsByCode[nr.Code]; ok {
			continue
		}
		if _, err := w.createRegion(scope, nr); err != nil {
			return importError("region", nr.Code, err)
		}
		res.Regions++
	}
	return nil
}

func (w *Work) importUsers(scope models.Scope, users []NewUser, params models.PasswordParams, res *ImportResult) error {
	for _, nu := range users {
		_, err := w.tx.GetUserByUsername(w.ctx, nu.Username)
		if err == nil {
			continue
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		hash, err := models.HashPassword(nu.Password, params)
		if err != nil {
			return err
		}
		if _, err := w.createUser(scope, nu, hash); err != nil {
			return importError("user", nu.Username, err)
		}
		res.Users++
	}
	return nil
}

func (w *Work) importSites(scope models.Scope, sites []NewSite, res *ImportResult) error {
	refs := make([]Ref, 0, len(sites))
	for _, ns := range sites {
		if ns.ID != nil {
			refs = append(refs, Ref{models.TypeSite, *ns.ID})
		}
	}
	if err := w.prefetch(refs); err != nil {
		return err
	}
	for _, ns := range sites {
		if ns.ID != nil {
			if have, err := w.Record(models.TypeSite, *ns.ID); err != nil {
				return err
			} else if have != nil {
				continue
			}
		}
		site, err := w.createSite(scope, ns)
		if err != nil {
			return importError("site", ns.Name, err)
		}
		res.Sites[site.Kind]++
	}
	return nil
}

// importError names the item of a batch that failed.
func importError(what, key string, err error) error {
	return fmt.Errorf("sync: import %s %s: %w", what, key, err)
}

// importDetails are the audit details of an import: what it created.
func importDetails(imp Import, res ImportResult) map[string]any {
	d := map[string]any{}
	if len(imp.Regions) > 0 || len(imp.Users) > 0 || imp.DefaultChecklists {
		d["regions"], d["users"], d["checklists"] = res.Regions, res.Users, res.Checklists
	}
	if len(imp.Sites) > 0 {
		d["projects"], d["patrol_areas"] = res.Sites[models.SiteProject], res.Sites[models.SitePatrolArea]
		d["dealers"], d["village_plots"] = res.Sites[models.SiteDealer], res.Sites[models.SiteVillagePlot]
	}
	return d
}

// ActorFor is the user with a username as an actor on a device, with their scope computed from
// their assignment as a login computes it. Tools that act as a known user (the demo's field work)
// start from it.
func (e *Engine) ActorFor(ctx context.Context, username, deviceID string) (Actor, error) {
	u, err := e.store.GetUserByUsername(ctx, username)
	if err != nil {
		return Actor{}, err
	}
	sc, err := e.store.UserScope(ctx, u)
	if err != nil {
		return Actor{}, err
	}
	return Actor{User: u, Scope: sc, DeviceID: deviceID}, nil
}
