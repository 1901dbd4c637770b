package server

import (
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/gofiber/fiber/v2"
)

// adminCreateRegion adds a region under a parent of the level directly above (a city has none).
func (s *Server) adminCreateRegion(c *fiber.Ctx) error {
	var req fsync.NewRegion
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	r, err := s.sync.CreateRegion(c.UserContext(), actorOf(c), req)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toRegionDTO(r))
}

// adminUpdateRegion renames a region, sets or clears its centre and boundary, or moves it (with its
// whole subtree) under another parent of the same level as before.
func (s *Server) adminUpdateRegion(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var req fsync.RegionPatch
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	r, err := s.sync.UpdateRegion(c.UserContext(), actorOf(c), id, req)
	if err != nil {
		return err
	}
	return c.JSON(toRegionDTO(r))
}
