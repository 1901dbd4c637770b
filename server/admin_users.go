package server

import (
	"errors"
	"unicode/utf8"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/gofiber/fiber/v2"
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

// adminCreateUser creates a user; the password is stored as an argon2id hash only.
func (s *Server) adminCreateUser(c *fiber.Ctx) error {
	var req fsync.NewUser
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	u, err := s.sync.CreateUser(c.UserContext(), actorOf(c), req)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toUserDTO(u))
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

// adminUpdateUser changes a user's name, role, scope, active flag or password. A null region_id
// (or empty region_code) means the whole city. Disabling or a new password ends their sessions.
func (s *Server) adminUpdateUser(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var req fsync.UserPatch
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	u, err := s.sync.UpdateUser(c.UserContext(), actorOf(c), id, req)
	if err != nil {
		return err
	}
	return c.JSON(toUserDTO(u))
}

// adminDisableUser disables a user; every token they hold stops working at once.
func (s *Server) adminDisableUser(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	u, err := s.sync.DisableUser(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toUserDTO(u))
}
