package server

import (
	"encoding/json"
	"errors"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

type createRegionRequest struct {
	Code       string          `json:"code"`
	Name       string          `json:"name"`
	Level      string          `json:"level"`
	ParentID   *uuid.UUID      `json:"parent_id"`
	ParentCode string          `json:"parent_code"`
	Centre     *models.Point   `json:"centre"`
	Boundary   json.RawMessage `json:"boundary"`
}

// adminCreateRegion adds a region under a parent of the level directly above (a city has none).
func (s *Server) adminCreateRegion(c *fiber.Ctx) error {
	var req createRegionRequest
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	r := models.Region{Code: req.Code, Name: req.Name, Level: models.RegionLevel(req.Level), Centre: req.Centre,
		Boundary: req.Boundary}
	var ve models.ValidationError
	models.ValidateRegionCode(&ve, "code", r.Code)
	ve.CheckText("name", r.Name, true, 100)
	models.ValidatePoint(&ve, "centre", r.Centre)
	models.ValidateBoundary(&ve, "boundary", r.Boundary)
	if r.Level.Depth() < 0 {
		ve.Add("level", "unknown", "must be one of city, county, township, village")
	}
	parent := s.lookupRegion(c, &ve, "parent", req.ParentID, req.ParentCode)
	switch {
	case r.Level.Depth() < 0:
	case parent == nil && r.Level != models.LevelCity:
		ve.Add("parent_id", "required", "a %s needs a parent region", r.Level)
	case parent != nil && !r.Level.ChildOf(parent.Level):
		ve.Add("level", "invalid", "a %s cannot sit under a %s", r.Level, parent.Level)
	}
	if err := ve.Err(); err != nil {
		return err
	}
	if parent != nil {
		r.ParentID = &parent.ID
	}
	ctx := c.UserContext()
	err := s.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.CreateRegion(ctx, &r); err != nil {
			return err
		}
		if err := tx.Audit(ctx, auditBy(c, "region.create", "region", r.ID.String(), map[string]any{
			"code": r.Code, "name": r.Name, "level": r.Level, "parent_id": r.ParentID})); err != nil {
			return err
		}
		_, err := tx.AppendChanges(ctx, []models.Change{storage.RegionChange(r, nil)})
		return err
	})
	if errors.Is(err, storage.ErrConflict) {
		return problem(fiber.StatusConflict, "region-code-taken", "Region code taken", "Another region already has this code.")
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toRegionDTO(r))
}

// lookupRegion resolves a region named by id or by code (nil when neither is given), recording a
// field error under the field the client used when it names no region or both are given.
func (s *Server) lookupRegion(c *fiber.Ctx, ve *models.ValidationError, field string, id *uuid.UUID, code string) *models.Region {
	var r models.Region
	var err error
	switch {
	case id != nil && code != "":
		ve.Add(field+"_code", "invalid", "give %s_id or %s_code, not both", field, field)
		return nil
	case id != nil:
		r, err = s.store.GetRegion(c.UserContext(), *id)
	case code != "":
		r, err = s.store.GetRegionByCode(c.UserContext(), code)
	default:
		return nil
	}
	if err != nil {
		if id != nil {
			ve.Add(field+"_id", "unknown", "no region has this id")
		} else {
			ve.Add(field+"_code", "unknown", "no region has code %q", code)
		}
		return nil
	}
	return &r
}

type updateRegionRequest struct {
	Name     optional[string]          `json:"name"`
	Centre   optional[models.Point]    `json:"centre"`
	Boundary optional[json.RawMessage] `json:"boundary"`
	ParentID optional[uuid.UUID]       `json:"parent_id"`
}

// adminUpdateRegion renames a region, sets or clears its centre and boundary, or moves it (with its
// whole subtree) under another parent of the same level as before.
func (s *Server) adminUpdateRegion(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var req updateRegionRequest
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	ctx := c.UserContext()
	cur, err := s.store.GetRegion(ctx, id)
	if err != nil {
		return err
	}
	var ve models.ValidationError
	var p storage.RegionPatch
	if req.Name.Set {
		ve.CheckText("name", req.Name.Value, true, 100)
		p.Name = &req.Name.Value
	}
	if req.Centre.Set {
		p.ClearCentre = req.Centre.Null
		if !req.Centre.Null {
			models.ValidatePoint(&ve, "centre", &req.Centre.Value)
			p.Centre = &req.Centre.Value
		}
	}
	if req.Boundary.Set {
		p.ClearBoundary = req.Boundary.Null
		models.ValidateBoundary(&ve, "boundary", req.Boundary.Value)
		p.Boundary = req.Boundary.Value
	}
	if req.ParentID.Set && req.ParentID.Null {
		ve.Add("parent_id", "invalid", "a region cannot be detached from the tree")
	} else if req.ParentID.Set {
		parent := s.lookupRegion(c, &ve, "parent", &req.ParentID.Value, "")
		switch {
		case parent != nil && !cur.Level.ChildOf(parent.Level):
			ve.Add("parent_id", "invalid", "a %s cannot sit under a %s", cur.Level, parent.Level)
		case parent != nil:
			p.ParentID = &parent.ID
		}
	}
	if err := ve.Err(); err != nil {
		return err
	}
	var r models.Region
	err = s.store.InTx(ctx, func(tx *storage.Store) error {
		var changes []models.Change
		if r, changes, err = tx.UpdateRegion(ctx, id, p); err != nil {
			return err
		}
		if err := tx.Audit(ctx, auditBy(c, "region.update", "region", id.String(), map[string]any{
			"name": req.Name.Value, "parent_id": p.ParentID, "centre_changed": req.Centre.Set,
			"boundary_changed": req.Boundary.Set, "moved": len(changes) - 1})); err != nil {
			return err
		}
		_, err = tx.AppendChanges(ctx, changes)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(toRegionDTO(r))
}
