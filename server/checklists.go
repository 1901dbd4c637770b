package server

import (
	"errors"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// checklistRoutes registers the checklist API: every logged-in user reads the checklists of the
// kinds in their scope; admins create checklists and publish new versions.
func (s *Server) checklistRoutes(app *fiber.App, authed fiber.Handler, admin func(fiber.Handler) []fiber.Handler) {
	app.Get("/v1/checklists", authed, s.listChecklists)
	app.Post("/v1/checklists", admin(s.createChecklist)...)
	app.Get("/v1/checklists/:id", authed, s.getChecklist)
	app.Post("/v1/checklists/:id/versions", admin(s.publishChecklistVersion)...)
}

// checklistDTO is a checklist as the API shows it: every version, oldest first, and the record's
// bookkeeping. latest_version is the number of the newest version.
type checklistDTO struct {
	models.Checklist
	LatestVersion int       `json:"latest_version"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toChecklistDTO(r models.Record) (checklistDTO, error) {
	cl, err := storage.DecodeChecklist(r)
	if err != nil {
		return checklistDTO{}, err
	}
	d := checklistDTO{Checklist: cl, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if last := cl.Latest(); last != nil {
		d.LatestVersion = last.Version
	}
	return d, nil
}

type checklistList struct {
	Checklists []checklistDTO `json:"checklists"`
	NextCursor *string        `json:"next_cursor"`
}

// scopeKinds are the kinds the caller may read checklists of, narrowed by ?kind= (nil, false when
// the filter names a kind outside the scope: the answer is an empty list).
func scopeKinds(p *models.Principal, kind models.Kind) ([]models.Kind, bool) {
	if kind == "" {
		return p.Scope.Kinds, true
	}
	if !p.Scope.CoversKind(kind) {
		return nil, false
	}
	return []models.Kind{kind}, true
}

// listChecklists pages through the checklists of the caller's kinds by id; ?kind= narrows to one.
func (s *Server) listChecklists(c *fiber.Ctx) error {
	q, pg, err := s.listQuery(c, "kind")
	if err != nil {
		return err
	}
	f := storage.ChecklistFilter{Limit: pg.limit + 1}
	if pg.after != "" {
		if f.After, err = uuid.Parse(pg.after); err != nil {
			return errBadCursor()
		}
	}
	k := models.Kind(q.get("kind"))
	if k != "" && !k.Valid() {
		return errBadRequest("kind must be one of project_visit, planting_check, fire_patrol, agri_input_check.")
	}
	out := checklistList{Checklists: []checklistDTO{}}
	kinds, ok := scopeKinds(principal(c), k)
	if !ok {
		return c.JSON(out)
	}
	f.Kinds = kinds
	recs, err := s.store.ListChecklists(c.UserContext(), f)
	if err != nil {
		return err
	}
	recs, out.NextCursor = trimPage(pg, recs, func(r models.Record) string { return r.ID.String() })
	for _, r := range recs {
		d, err := toChecklistDTO(r)
		if err != nil {
			return err
		}
		out.Checklists = append(out.Checklists, d)
	}
	return c.JSON(out)
}

// getChecklist returns one checklist with all its versions; one of a kind outside the caller's
// scope is a 404, as if it did not exist.
func (s *Server) getChecklist(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	return s.respondChecklist(c, fiber.StatusOK, id, true)
}

func (s *Server) respondChecklist(c *fiber.Ctx, status int, id uuid.UUID, scoped bool) error {
	r, err := s.store.GetRecord(c.UserContext(), models.TypeChecklist, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && scoped && !principal(c).Scope.CoversKind(r.Kind)) {
		return errNotFound("No checklist " + id.String() + ".")
	} else if err != nil {
		return err
	}
	d, err := toChecklistDTO(r)
	if err != nil {
		return err
	}
	return c.Status(status).JSON(d)
}

type createChecklistRequest struct {
	ID    *uuid.UUID             `json:"id"`
	Kind  string                 `json:"kind"`
	Name  string                 `json:"name"`
	Items []models.ChecklistItem `json:"items"`
}

// createChecklist adds a checklist with its version 1. The client may choose the id, so a retried
// create is a 409 rather than a duplicate.
func (s *Server) createChecklist(c *fiber.Ctx) error {
	var req createChecklistRequest
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	p := principal(c)
	uid := p.User.ID
	cl := models.Checklist{ID: uuid.New(), Kind: models.Kind(req.Kind), Name: req.Name,
		Versions: []models.ChecklistVersion{{Version: 1, Items: req.Items, PublishedAt: time.Now().UTC(), PublishedBy: &uid}}}
	var ve models.ValidationError
	if req.ID != nil && *req.ID == uuid.Nil {
		ve.Add("id", "invalid", "must not be the nil UUID; leave id out to have one made")
	} else if req.ID != nil {
		cl.ID = *req.ID
	}
	cl.Validate(&ve)
	for i := range ve.Errors { // the request names the items of version 1 "items"
		if f := ve.Errors[i].Field; len(f) >= len("versions[0].items") && f[:len("versions[0].items")] == "versions[0].items" {
			ve.Errors[i].Field = f[len("versions[0]."):]
		}
	}
	if err := ve.Err(); err != nil {
		return err
	}
	audit := auditBy(c, "checklist.create", models.TypeChecklist, cl.ID.String(), map[string]any{
		"kind": cl.Kind, "name": cl.Name, "version": 1, "items": len(req.Items)})
	if _, err := s.store.CreateChecklist(c.UserContext(), cl, &uid, &audit); err != nil {
		return err // a taken id is storage.ErrConflict: 409 conflict
	}
	return s.respondChecklist(c, fiber.StatusCreated, cl.ID, false)
}

type publishChecklistRequest struct {
	Items []models.ChecklistItem `json:"items"`
}

// publishChecklistVersion publishes the next version of a checklist; earlier versions stay as they
// were, so phones still on them keep being accepted.
func (s *Server) publishChecklistVersion(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var req publishChecklistRequest
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	uid := principal(c).User.ID
	_, err = s.store.PublishChecklistVersion(c.UserContext(), id, req.Items, &uid, time.Now(), func(v int) models.AuditEntry {
		return auditBy(c, "checklist.publish", models.TypeChecklist, id.String(), map[string]any{
			"version": v, "items": len(req.Items)})
	})
	if errors.Is(err, storage.ErrNotFound) {
		return errNotFound("No checklist " + id.String() + ".")
	} else if err != nil {
		return err
	}
	return s.respondChecklist(c, fiber.StatusCreated, id, false)
}
