package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// siteRoutes registers the admin site API; routes() calls it with its admin-only wrapper.
func (s *Server) siteRoutes(app *fiber.App, with func(fiber.Handler) []fiber.Handler) {
	app.Get("/v1/admin/sites", with(s.adminListSites)...)
	app.Post("/v1/admin/sites", with(s.adminCreateSite)...)
	app.Get("/v1/admin/sites/:id", with(s.adminGetSite)...)
	app.Patch("/v1/admin/sites/:id", with(s.adminUpdateSite)...)
	app.Post("/v1/admin/sites/:id/archive", with(s.adminArchiveSite)...)
}

// siteDTO is a site as the admin API shows it: the site's data plus its record's bookkeeping.
type siteDTO struct {
	models.Site
	Version    int64      `json:"version"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ArchivedAt *time.Time `json:"archived_at"`
}

func toSiteDTO(r models.Record) (siteDTO, error) {
	d := siteDTO{Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ArchivedAt: r.DeletedAt}
	if err := json.Unmarshal(r.Data, &d.Site); err != nil {
		return siteDTO{}, fmt.Errorf("server: site %s data: %w", r.ID, err)
	}
	return d, nil
}

type siteList struct {
	Sites      []siteDTO `json:"sites"`
	NextCursor *string   `json:"next_cursor"`
}

// adminListSites pages through sites by id; filters: kind (site kind), region (code: sites in that
// subtree), status (active or archived; default both), q (substring of the name, any case).
func (s *Server) adminListSites(c *fiber.Ctx) error {
	q, pg, err := s.listQuery(c, "kind", "region", "status", "q")
	if err != nil {
		return err
	}
	f := storage.SiteFilter{Limit: pg.limit + 1, Query: q.get("q"), Status: q.get("status")}
	if pg.after != "" {
		if f.After, err = uuid.Parse(pg.after); err != nil {
			return errBadCursor()
		}
	}
	if k := models.SiteKind(q.get("kind")); k != "" {
		if !k.Valid() {
			return errBadRequest("kind must be one of project, village_plot, patrol_area, dealer.")
		}
		f.WorkKind = k.WorkKind()
	}
	if f.Status != "" && f.Status != models.SiteActive && f.Status != models.SiteArchived {
		return errBadRequest("status must be active or archived.")
	}
	if utf8.RuneCountInString(f.Query) > 64 {
		return errBadRequest("q must be at most 64 characters.")
	}
	if code := q.get("region"); code != "" {
		r, err := s.store.GetRegionByCode(c.UserContext(), code)
		if errors.Is(err, storage.ErrNotFound) {
			return errBadRequest("region: no region has code " + code + ".")
		} else if err != nil {
			return err
		}
		f.RegionPath = r.Path
	}
	recs, err := s.store.ListSites(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := siteList{Sites: []siteDTO{}}
	recs, out.NextCursor = trimPage(pg, recs, func(r models.Record) string { return r.ID.String() })
	for _, r := range recs {
		d, err := toSiteDTO(r)
		if err != nil {
			return err
		}
		out.Sites = append(out.Sites, d)
	}
	return c.JSON(out)
}

// adminCreateSite adds a site in a region of the level its kind needs. The client may choose the
// id (a UUID), so a retried create is a 409 rather than a duplicate.
func (s *Server) adminCreateSite(c *fiber.Ctx) error {
	var req fsync.NewSite
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	rec, err := s.sync.CreateSite(c.UserContext(), actorOf(c), req)
	if err != nil {
		return err // a taken id is storage.ErrConflict: 409 conflict
	}
	return writeSite(c, fiber.StatusCreated, rec)
}

func (s *Server) respondSite(c *fiber.Ctx, status int, id uuid.UUID) error {
	r, err := s.store.GetRecord(c.UserContext(), models.TypeSite, id)
	if err != nil {
		return err
	}
	return writeSite(c, status, r)
}

func writeSite(c *fiber.Ctx, status int, r models.Record) error {
	d, err := toSiteDTO(r)
	if err != nil {
		return err
	}
	return c.Status(status).JSON(d)
}

func (s *Server) adminGetSite(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	return s.respondSite(c, fiber.StatusOK, id)
}

// adminUpdateSite changes the fields present (null clears an optional one); the kind never changes.
// The whole site is validated again after the change. Moving it to another region logs the old
// region path, so phones that no longer cover it receive a remove.
func (s *Server) adminUpdateSite(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var req fsync.SitePatch
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	rec, err := s.sync.UpdateSite(c.UserContext(), actorOf(c), id, req)
	if err != nil {
		return err
	}
	return writeSite(c, fiber.StatusOK, rec)
}

// adminArchiveSite archives a site: its record becomes a tombstone (status archived, deleted_at
// set), phones receive a remove, and new visits cannot name it. Archiving again changes nothing.
func (s *Server) adminArchiveSite(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	rec, err := s.sync.ArchiveSite(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return writeSite(c, fiber.StatusOK, rec)
}
