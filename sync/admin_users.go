package sync

import (
	"context"
	"errors"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// NewUser is a user to create, as the admin API takes it: the scope's region is named by id or by
// code (neither: the whole city), no kinds means every kind.
type NewUser struct {
	ID         uuid.UUID  `json:"-"` // zero: a new random id (an import gives stable ones)
	Username   string     `json:"username"`
	Name       string     `json:"name"`
	Password   string     `json:"password"`
	Role       string     `json:"role"`
	RegionID   *uuid.UUID `json:"region_id"`
	RegionCode *string    `json:"region_code"`
	Kinds      []string   `json:"kinds"`
}

// UserPatch is a change to a user's name, role, scope, active flag or password. A null region_id
// (or an empty region_code) means the whole city.
type UserPatch struct {
	Name       models.Optional[string]    `json:"name"`
	Role       models.Optional[string]    `json:"role"`
	RegionID   models.Optional[uuid.UUID] `json:"region_id"`
	RegionCode models.Optional[string]    `json:"region_code"`
	Kinds      models.Optional[[]string]  `json:"kinds"`
	Active     models.Optional[bool]      `json:"active"`
	Password   models.Optional[string]    `json:"password"`
}

var (
	errUsernameTaken = models.StateConflict("username_taken", "username", "Another user already has this username.")
	errLastAdmin     = models.StateConflict("last_admin", "",
		"This change would leave no active admin; make another user admin first.")
)

// CreateUser creates a user (the password is stored as an argon2id hash only), with its change-log
// row and audit line. Admins only.
func (e *Engine) CreateUser(ctx context.Context, a Actor, nu NewUser) (models.User, error) {
	scope, err := adminScope(a)
	if err != nil {
		return models.User{}, err
	}
	var hash string
	var pw models.ValidationError
	if models.ValidatePassword(&pw, "password", nu.Password); pw.Err() == nil {
		if hash, err = models.HashPassword(nu.Password, e.cfg.Password); err != nil {
			return models.User{}, err
		}
	}
	var u models.User
	err = e.write(ctx, a, func(w *Work) error {
		if u, err = w.createUser(scope, nu, hash); err != nil {
			return err
		}
		w.Audit("user.create", "user", u.ID.String(), map[string]any{
			"username": u.Username, "role": u.Role, "region_id": u.RegionID, "kinds": u.Kinds})
		return nil
	})
	return u, err
}

// createUser validates and stores one new user and logs it; hash is the password's (empty when
// the password is invalid, which validation reports).
func (w *Work) createUser(scope models.Scope, nu NewUser, hash string) (models.User, error) {
	u := models.User{ID: nu.ID, Username: models.NormalizeUsername(nu.Username), Name: nu.Name, Role: models.Role(nu.Role),
		Active: true, PasswordHash: hash}
	var ve models.ValidationError
	models.ValidateUsername(&ve, "username", u.Username)
	ve.CheckText("name", u.Name, true, 100)
	models.ValidatePassword(&ve, "password", nu.Password)
	models.ValidateRole(&ve, "role", u.Role)
	u.Kinds = models.ValidateKinds(&ve, "kinds", nu.Kinds)
	code := ""
	if nu.RegionCode != nil {
		code = *nu.RegionCode
	}
	region, err := w.lookupRegion(&ve, "region", nu.RegionID, code)
	if err != nil {
		return u, err
	}
	if err := ve.Err(); err != nil {
		return u, err
	}
	path := ""
	if region != nil {
		u.RegionID, path = &region.ID, region.Path
	}
	if err := checkRegionInScope(scope, "region_id", region); err != nil {
		return u, err
	}
	if err := w.tx.CreateUser(w.ctx, &u); errors.Is(err, storage.ErrConflict) {
		return u, errUsernameTaken.WithCause(err)
	} else if err != nil {
		return u, err
	}
	w.logChange(userChange(u, path, nil))
	return u, nil
}

// userChange is the change-log row of a write to user u, assigned to the region at path ("" =
// whole city); oldPath is the path before the write.
func userChange(u models.User, path string, oldPath *string) models.Change {
	return models.Change{RecordType: models.TypeUser, RecordID: u.ID.String(), Op: models.OpPut,
		Version: u.UpdatedAt.UnixMicro(), RegionPath: path, OldRegionPath: oldPath}
}

// UpdateUser changes a user's name, role, scope, active flag or password. Disabling or a new
// password ends their sessions; a change that leaves no active admin is refused. Admins only; an
// unknown id is storage.ErrNotFound.
func (e *Engine) UpdateUser(ctx context.Context, a Actor, id uuid.UUID, p UserPatch) (models.User, error) {
	scope, err := adminScope(a)
	if err != nil {
		return models.User{}, err
	}
	var u models.User
	err = e.write(ctx, a, func(w *Work) error {
		sp, err := w.userPatch(scope, p, e.cfg.Password)
		if err != nil {
			return err
		}
		u, err = w.updateUser(id, sp, "user.update", p.details())
		return err
	})
	return u, err
}

// DisableUser disables a user; every token they hold stops working at once. Admins only.
func (e *Engine) DisableUser(ctx context.Context, a Actor, id uuid.UUID) (models.User, error) {
	if _, err := adminScope(a); err != nil {
		return models.User{}, err
	}
	inactive := false
	var u models.User
	err := e.write(ctx, a, func(w *Work) error {
		var err error
		u, err = w.updateUser(id, storage.UserPatch{Active: &inactive}, "user.disable", nil)
		return err
	})
	return u, err
}

// userPatch validates p and turns it into the storage patch (hashing a new password).
func (w *Work) userPatch(scope models.Scope, p UserPatch, params models.PasswordParams) (storage.UserPatch, error) {
	var ve models.ValidationError
	var sp storage.UserPatch
	if p.Name.Set {
		ve.CheckText("name", p.Name.Value, true, 100)
		sp.Name = &p.Name.Value
	}
	if p.Role.Set {
		r := models.Role(p.Role.Value)
		models.ValidateRole(&ve, "role", r)
		sp.Role = &r
	}
	if p.Kinds.Set {
		k := models.ValidateKinds(&ve, "kinds", p.Kinds.Value)
		sp.Kinds = &k
	}
	if p.Active.Set {
		if p.Active.Null {
			ve.Add("active", "invalid", "must be true or false")
		}
		sp.Active = &p.Active.Value
	}
	if p.Password.Set {
		models.ValidatePassword(&ve, "password", p.Password.Value)
		if len(ve.Errors) == 0 {
			hash, err := models.HashPassword(p.Password.Value, params)
			if err != nil {
				return sp, err
			}
			sp.PasswordHash = &hash
		}
	}
	if p.RegionID.Set || p.RegionCode.Set {
		var idp *uuid.UUID
		if p.RegionID.Set && !p.RegionID.Null {
			idp = &p.RegionID.Value
		}
		region, err := w.lookupRegion(&ve, "region", idp, p.RegionCode.Value)
		if err != nil {
			return sp, err
		}
		if err := checkRegionInScope(scope, "region_id", region); err != nil {
			return sp, err
		}
		if region != nil {
			sp.RegionID = &region.ID
		}
		sp.WholeCity = sp.RegionID == nil
	}
	return sp, ve.Err()
}

// details are the audit details of a user update: the fields it set (a new password only as
// "changed").
func (p UserPatch) details() map[string]any {
	d := map[string]any{}
	if p.Name.Set {
		d["name"] = p.Name.Value
	}
	if p.Role.Set {
		d["role"] = p.Role.Value
	}
	if p.Kinds.Set {
		d["kinds"] = p.Kinds.Value
	}
	if p.Active.Set {
		d["active"] = p.Active.Value
	}
	if p.RegionID.Set || p.RegionCode.Set {
		d["region"] = map[string]any{"id": p.RegionID.Value, "code": p.RegionCode.Value}
	}
	if p.Password.Set {
		d["password"] = "changed"
	}
	return d
}

// updateUser applies sp to user id with its rules: a change that leaves no active admin is
// refused; disabling or a new password ends every session of the user. It logs the user (with
// the path of their region before the change) and audits action.
func (w *Work) updateUser(id uuid.UUID, sp storage.UserPatch, action string, details map[string]any) (models.User, error) {
	oldPath, err := w.tx.UserRegionPath(w.ctx, id)
	if err != nil {
		return models.User{}, err
	}
	u, err := w.tx.UpdateUser(w.ctx, id, sp)
	if err != nil {
		return models.User{}, err
	}
	if (sp.Active != nil && !*sp.Active) || sp.Role != nil {
		admins, err := w.tx.CountActiveAdmins(w.ctx)
		if err != nil {
			return models.User{}, err
		}
		if admins == 0 {
			return models.User{}, errLastAdmin
		}
	}
	if (sp.Active != nil && !*sp.Active) || sp.PasswordHash != nil {
		if err := w.tx.RevokeUserTokens(w.ctx, id); err != nil {
			return models.User{}, err
		}
	}
	path, err := w.tx.UserRegionPath(w.ctx, id)
	if err != nil {
		return models.User{}, err
	}
	w.logChange(userChange(u, path, &oldPath))
	w.Audit(action, "user", id.String(), details)
	return u, nil
}
