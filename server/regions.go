package server

import (
	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
)

type regionList struct {
	Regions []regionDTO `json:"regions"`
}

// listRegions returns the region tree inside the caller's scope as a flat list, parents first.
// ?max_level=township stops at that level; ?boundary=true includes boundaries.
func (s *Server) listRegions(c *fiber.Ctx) error {
	return s.writeRegions(c, principal(c).Scope)
}

// adminListRegions returns the whole tree, whatever the admin's own assignment.
func (s *Server) adminListRegions(c *fiber.Ctx) error {
	return s.writeRegions(c, models.Scope{})
}

func (s *Server) writeRegions(c *fiber.Ctx, scope models.Scope) error {
	q, err := readQuery(c, "max_level", "boundary")
	if err != nil {
		return err
	}
	f := storage.RegionFilter{Scope: scope, MaxLevel: models.RegionLevel(q.get("max_level"))}
	if f.MaxLevel != "" && f.MaxLevel.Depth() < 0 {
		return errBadRequest("max_level must be one of city, county, township, village.")
	}
	b, err := q.boolean("boundary")
	if err != nil {
		return err
	}
	f.Boundary = b != nil && *b
	regions, err := s.store.ListRegions(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := regionList{Regions: make([]regionDTO, len(regions))}
	for i, r := range regions {
		out.Regions[i] = toRegionDTO(r)
	}
	return c.JSON(out)
}
