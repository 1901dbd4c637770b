package server

import (
	"errors"
	"unicode/utf8"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

type userList struct {
	Users      []userDTO `json:"users"`
	NextCursor *string   `json:"next_cursor"`
}

// adminListUsers pages through users by username; filters: role, active, region (code: users in
// that subtree), q (substring of username or name).
func (s *Server) adminListUsers(c *fiber.Ctx) error {
	q, pg, err := s.listQuery(c, "role", "active", "region", "q")
	if err != nil {
		return err
	}
	f := storage.UserFilter{Role: models.Role(q.get("role")), Query: q.get("q"), After: pg.after, Limit: pg.limit + 1}
	if f.Role != "" && !f.Role.Valid() {
		return errBadRequest("role must be one of inspector, township_officer, department, supervisor, admin.")
	}
	if utf8.RuneCountInString(f.Query) > 64 {
		return errBadRequest("q must be at most 64 characters.")
	}
	if f.Active, err = q.boolean("active"); err != nil {
		return err
	}
	if code := q.get("region"); code != "" {
		r, err := s.store.GetRegionByCode(c.UserContext(), code)
		if errors.Is(err, storage.ErrNotFound) {
			return errBadRequest("region: no region has code " + code + ".")
		} else if err != nil {
			return err
		}
		f.Scope = models.Scope{RegionID: &r.ID, RegionPath: r.Path}
	}
	users, err := s.store.ListUsers(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := userList{Users: []userDTO{}}
	users, out.NextCursor = trimPage(pg, users, func(u models.User) string { return u.Username })
	for _, u := range users {
		out.Users = append(out.Users, toUserDTO(u))
	}
	return c.JSON(out)
}

type createUserRequest struct {
	Username   string     `json:"username"`
	Name       string     `json:"name"`
	Password   string     `json:"password"`
	Role       string     `json:"role"`
	RegionID   *uuid.UUID `json:"region_id"`
	RegionCode *string    `json:"region_code"`
	Kinds      []string   `json:"kinds"`
}

// adminCreateUser creates a user; the password is stored as an argon2id hash only.
func (s *Server) adminCreateUser(c *fiber.Ctx) error {
	var req createUserRequest
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	u := models.User{Username: models.NormalizeUsername(req.Username), Name: req.Name, Role: models.Role(req.Role), Active: true}
	var ve models.ValidationError
	models.ValidateUsername(&ve, "username", u.Username)
	ve.CheckText("name", u.Name, true, 100)
	models.ValidatePassword(&ve, "password", req.Password)
	models.ValidateRole(&ve, "role", u.Role)
	u.Kinds = models.ValidateKinds(&ve, "kinds", req.Kinds)
	code := ""
	if req.RegionCode != nil {
		code = *req.RegionCode
	}
	u.RegionID = s.regionID(c, &ve, req.RegionID, code)
	if err := ve.Err(); err != nil {
		return err
	}
	hash, err := models.HashPassword(req.Password, s.cfg.Password)
	if err != nil {
		return err
	}
	u.PasswordHash = hash
	ctx := c.UserContext()
	err = s.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := tx.Audit(ctx, auditBy(c, "user.create", "user", u.ID.String(), map[string]any{
			"username": u.Username, "role": u.Role, "region_id": u.RegionID, "kinds": u.Kinds})); err != nil {
			return err
		}
		return tx.RecordUserChange(ctx, u.ID, nil)
	})
	if errors.Is(err, storage.ErrConflict) {
		return problem(fiber.StatusConflict, "username-taken", "Username taken", "Another user already has this username.")
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toUserDTO(u))
}

// regionID resolves the region_id or region_code of a request to an id (nil = whole city).
func (s *Server) regionID(c *fiber.Ctx, ve *models.ValidationError, id *uuid.UUID, code string) *uuid.UUID {
	if r := s.lookupRegion(c, ve, "region", id, code); r != nil {
		return &r.ID
	}
	return nil
}

func (s *Server) adminGetUser(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	u, err := s.store.GetUser(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toUserDTO(u))
}

type updateUserRequest struct {
	Name       optional[string]    `json:"name"`
	Role       optional[string]    `json:"role"`
	RegionID   optional[uuid.UUID] `json:"region_id"`
	RegionCode optional[string]    `json:"region_code"`
	Kinds      optional[[]string]  `json:"kinds"`
	Active     optional[bool]      `json:"active"`
	Password   optional[string]    `json:"password"`
}

// adminUpdateUser changes a user's name, role, scope, active flag or password. A null region_id
// (or empty region_code) means the whole city. Disabling or a new password ends their sessions.
func (s *Server) adminUpdateUser(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var req updateUserRequest
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	var ve models.ValidationError
	var p storage.UserPatch
	if req.Name.Set {
		ve.CheckText("name", req.Name.Value, true, 100)
		p.Name = &req.Name.Value
	}
	if req.Role.Set {
		r := models.Role(req.Role.Value)
		models.ValidateRole(&ve, "role", r)
		p.Role = &r
	}
	if req.Kinds.Set {
		k := models.ValidateKinds(&ve, "kinds", req.Kinds.Value)
		p.Kinds = &k
	}
	if req.Active.Set {
		if req.Active.Null {
			ve.Add("active", "invalid", "must be true or false")
		}
		p.Active = &req.Active.Value
	}
	if req.Password.Set {
		models.ValidatePassword(&ve, "password", req.Password.Value)
		if len(ve.Errors) == 0 {
			hash, err := models.HashPassword(req.Password.Value, s.cfg.Password)
			if err != nil {
				return err
			}
			p.PasswordHash = &hash
		}
	}
	if req.RegionID.Set || req.RegionCode.Set {
		var idp *uuid.UUID
		if req.RegionID.Set && !req.RegionID.Null {
			idp = &req.RegionID.Value
		}
		p.RegionID = s.regionID(c, &ve, idp, req.RegionCode.Value)
		p.WholeCity = p.RegionID == nil
	}
	if err := ve.Err(); err != nil {
		return err
	}
	return s.updateUser(c, id, p, "user.update", changedFields(req))
}

func changedFields(req updateUserRequest) map[string]any {
	d := map[string]any{}
	if req.Name.Set {
		d["name"] = req.Name.Value
	}
	if req.Role.Set {
		d["role"] = req.Role.Value
	}
	if req.Kinds.Set {
		d["kinds"] = req.Kinds.Value
	}
	if req.Active.Set {
		d["active"] = req.Active.Value
	}
	if req.RegionID.Set || req.RegionCode.Set {
		d["region"] = map[string]any{"id": req.RegionID.Value, "code": req.RegionCode.Value}
	}
	if req.Password.Set {
		d["password"] = "changed"
	}
	return d
}

// adminDisableUser disables a user; every token they hold stops working at once.
func (s *Server) adminDisableUser(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	inactive := false
	return s.updateUser(c, id, storage.UserPatch{Active: &inactive}, "user.disable", nil)
}

func (s *Server) updateUser(c *fiber.Ctx, id uuid.UUID, p storage.UserPatch, action string, details map[string]any) error {
	ctx := c.UserContext()
	var u models.User
	err := s.store.InTx(ctx, func(tx *storage.Store) error {
		oldPath, err := tx.UserRegionPath(ctx, id)
		if err != nil {
			return err
		}
		if u, err = tx.UpdateUser(ctx, id, p); err != nil {
			return err
		}
		if err := tx.Audit(ctx, auditBy(c, action, "user", id.String(), details)); err != nil {
			return err
		}
		return tx.RecordUserChange(ctx, id, &oldPath)
	})
	if err != nil {
		return err
	}
	return c.JSON(toUserDTO(u))
}
