package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
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

type createSiteRequest struct {
	ID                *uuid.UUID      `json:"id"`
	Kind              string          `json:"kind"`
	Name              string          `json:"name"`
	RegionID          *uuid.UUID      `json:"region_id"`
	RegionCode        string          `json:"region_code"`
	Location          *models.Point   `json:"location"`
	Boundary          json.RawMessage `json:"boundary"`
	InvestmentWan     *float64        `json:"investment_wan"`
	Stage             string          `json:"stage"`
	DevelopmentZone   string          `json:"development_zone"`
	ResponsibleLeader string          `json:"responsible_leader"`
	LeadUnit          string          `json:"lead_unit"`
	PlannedStart      string          `json:"planned_start"`
	PlannedFinish     string          `json:"planned_finish"`
	Crop              string          `json:"crop"`
	PlannedAreaMu     *float64        `json:"planned_area_mu"`
	ResponsiblePerson string          `json:"responsible_person"`
	LicenceNumber     string          `json:"licence_number"`
	Owner             string          `json:"owner"`
}

// adminCreateSite adds a site in a region of the level its kind needs. The client may choose the
// id (a UUID), so a retried create is a 409 rather than a duplicate.
func (s *Server) adminCreateSite(c *fiber.Ctx) error {
	var req createSiteRequest
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	k := models.SiteKind(req.Kind)
	site := models.Site{ID: uuid.New(), Kind: k, WorkKind: k.WorkKind(), Name: req.Name, Location: req.Location,
		Boundary: req.Boundary, Status: models.SiteActive, InvestmentWan: req.InvestmentWan,
		Stage: models.ProjectStage(req.Stage), DevelopmentZone: req.DevelopmentZone, ResponsibleLeader: req.ResponsibleLeader,
		LeadUnit: req.LeadUnit, PlannedStart: req.PlannedStart, PlannedFinish: req.PlannedFinish, Crop: req.Crop,
		PlannedAreaMu: req.PlannedAreaMu, ResponsiblePerson: req.ResponsiblePerson, LicenceNumber: req.LicenceNumber,
		Owner: req.Owner}
	if string(site.Boundary) == "null" {
		site.Boundary = nil
	}
	var ve models.ValidationError
	if req.ID != nil && *req.ID == uuid.Nil {
		ve.Add("id", "invalid", "must not be the nil UUID; leave id out to have one made")
	} else if req.ID != nil {
		site.ID = *req.ID
	}
	region := s.siteRegion(c, &ve, k, req.RegionID, req.RegionCode)
	if region != nil {
		site.RegionID = region.ID
	}
	site.Validate(&ve)
	if err := ve.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(site)
	if err != nil {
		return err
	}
	uid := principal(c).User.ID
	rec := models.Record{Type: models.TypeSite, ID: site.ID, Kind: site.WorkKind, RegionID: &region.ID,
		RegionPath: region.Path, Status: site.Status, Version: 1, Data: data, FieldMeta: map[string]models.FieldMeta{},
		CreatedBy: &uid}
	ctx := c.UserContext()
	err = s.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.SaveRecords(ctx, []models.Record{rec}, true); err != nil {
			return err
		}
		if err := tx.Audit(ctx, auditBy(c, "site.create", models.TypeSite, site.ID.String(), map[string]any{
			"kind": site.Kind, "name": site.Name, "region_id": site.RegionID})); err != nil {
			return err
		}
		_, err := tx.AppendChanges(ctx, []models.Change{siteChange(rec, nil)})
		return err
	})
	if err != nil {
		return err // a taken id is storage.ErrConflict: 409 conflict
	}
	return s.respondSite(c, fiber.StatusCreated, site.ID)
}

// siteRegion resolves the region named by id or code and checks its level against the site kind.
func (s *Server) siteRegion(c *fiber.Ctx, ve *models.ValidationError, k models.SiteKind, id *uuid.UUID, code string) *models.Region {
	n := len(ve.Errors)
	r := s.lookupRegion(c, ve, "region", id, code)
	if len(ve.Errors) > n {
		return nil
	}
	field := "region_id"
	if id == nil && code != "" {
		field = "region_code"
	}
	models.ValidateSiteRegion(ve, field, k, r)
	return r
}

// siteChange is the change-log row of a site write: a put, or a remove once archived.
func siteChange(r models.Record, oldPath *string) models.Change {
	op := models.OpPut
	if r.DeletedAt != nil {
		op = models.OpRemove
	}
	return models.Change{RecordType: models.TypeSite, RecordID: r.ID.String(), Op: op, Version: r.Version,
		Kind: r.Kind, RegionPath: r.RegionPath, OldRegionPath: oldPath}
}

func (s *Server) respondSite(c *fiber.Ctx, status int, id uuid.UUID) error {
	r, err := s.store.GetRecord(c.UserContext(), models.TypeSite, id)
	if err != nil {
		return err
	}
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

// lockSite loads a site for a change inside tx; an archived site cannot change.
func lockSite(ctx context.Context, tx *storage.Store, id uuid.UUID) (models.Record, models.Site, error) {
	m, err := tx.LockRecords(ctx, models.TypeSite, []uuid.UUID{id})
	if err != nil {
		return models.Record{}, models.Site{}, err
	}
	rec, ok := m[id]
	if !ok {
		return models.Record{}, models.Site{}, fmt.Errorf("server: site %s: %w", id, storage.ErrNotFound)
	}
	var site models.Site
	if err := json.Unmarshal(rec.Data, &site); err != nil {
		return models.Record{}, models.Site{}, fmt.Errorf("server: site %s data: %w", id, err)
	}
	return rec, site, nil
}

type updateSiteRequest struct {
	Name              optional[string]          `json:"name"`
	RegionID          optional[uuid.UUID]       `json:"region_id"`
	RegionCode        optional[string]          `json:"region_code"`
	Location          optional[models.Point]    `json:"location"`
	Boundary          optional[json.RawMessage] `json:"boundary"`
	InvestmentWan     optional[float64]         `json:"investment_wan"`
	Stage             optional[string]          `json:"stage"`
	DevelopmentZone   optional[string]          `json:"development_zone"`
	ResponsibleLeader optional[string]          `json:"responsible_leader"`
	LeadUnit          optional[string]          `json:"lead_unit"`
	PlannedStart      optional[string]          `json:"planned_start"`
	PlannedFinish     optional[string]          `json:"planned_finish"`
	Crop              optional[string]          `json:"crop"`
	PlannedAreaMu     optional[float64]         `json:"planned_area_mu"`
	ResponsiblePerson optional[string]          `json:"responsible_person"`
	LicenceNumber     optional[string]          `json:"licence_number"`
	Owner             optional[string]          `json:"owner"`
}

// apply copies the fields present onto site (null clears) and returns their names. The region is
// resolved by the caller.
func (r updateSiteRequest) apply(site *models.Site) []string {
	var changed []string
	str := func(name string, o optional[string], dst *string) {
		if o.Set {
			*dst, changed = o.Value, append(changed, name)
		}
	}
	num := func(name string, o optional[float64], dst **float64) {
		if o.Set {
			*dst, changed = nil, append(changed, name)
			if !o.Null {
				v := o.Value
				*dst = &v
			}
		}
	}
	str("name", r.Name, &site.Name)
	if r.RegionID.Set || r.RegionCode.Set {
		changed = append(changed, "region")
	}
	if r.Location.Set {
		site.Location, changed = nil, append(changed, "location")
		if !r.Location.Null {
			p := r.Location.Value
			site.Location = &p
		}
	}
	if r.Boundary.Set {
		site.Boundary, changed = r.Boundary.Value, append(changed, "boundary")
	}
	num("investment_wan", r.InvestmentWan, &site.InvestmentWan)
	stage := string(site.Stage)
	str("stage", r.Stage, &stage)
	site.Stage = models.ProjectStage(stage)
	str("development_zone", r.DevelopmentZone, &site.DevelopmentZone)
	str("responsible_leader", r.ResponsibleLeader, &site.ResponsibleLeader)
	str("lead_unit", r.LeadUnit, &site.LeadUnit)
	str("planned_start", r.PlannedStart, &site.PlannedStart)
	str("planned_finish", r.PlannedFinish, &site.PlannedFinish)
	str("crop", r.Crop, &site.Crop)
	num("planned_area_mu", r.PlannedAreaMu, &site.PlannedAreaMu)
	str("responsible_person", r.ResponsiblePerson, &site.ResponsiblePerson)
	str("licence_number", r.LicenceNumber, &site.LicenceNumber)
	str("owner", r.Owner, &site.Owner)
	return changed
}

// errSiteArchived refuses a change to an archived site (the generic conflict type: the state of
// the resource forbids the change).
var errSiteArchived = problem(fiber.StatusConflict, "conflict", "Conflict", "An archived site cannot be changed.")

// adminUpdateSite changes the fields present (null clears an optional one); the kind never changes.
// The whole site is validated again after the change. Moving it to another region logs the old
// region path, so phones that no longer cover it receive a remove.
func (s *Server) adminUpdateSite(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var req updateSiteRequest
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	ctx := c.UserContext()
	err = s.store.InTx(ctx, func(tx *storage.Store) error {
		rec, site, err := lockSite(ctx, tx, id)
		if err != nil {
			return err
		}
		if rec.DeletedAt != nil {
			return errSiteArchived
		}
		changed := req.apply(&site)
		var ve models.ValidationError
		var region *models.Region
		if req.RegionID.Set || req.RegionCode.Set {
			var rid *uuid.UUID
			if req.RegionID.Set && !req.RegionID.Null {
				rid = &req.RegionID.Value
			}
			if region = s.siteRegion(c, &ve, site.Kind, rid, req.RegionCode.Value); region != nil {
				site.RegionID = region.ID
			}
		}
		site.Validate(&ve)
		if err := ve.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		var oldPath *string
		if region != nil && region.Path != rec.RegionPath {
			p := rec.RegionPath
			oldPath = &p
		}
		if region != nil {
			rec.RegionID, rec.RegionPath = &region.ID, region.Path
		}
		if rec.Data, err = json.Marshal(site); err != nil {
			return err
		}
		rec.Version++
		if err := tx.SaveRecords(ctx, []models.Record{rec}, false); err != nil {
			return err
		}
		if err := tx.Audit(ctx, auditBy(c, "site.update", models.TypeSite, id.String(), map[string]any{
			"fields": changed, "old_region_path": oldPath, "version": rec.Version})); err != nil {
			return err
		}
		_, err = tx.AppendChanges(ctx, []models.Change{siteChange(rec, oldPath)})
		return err
	})
	if err != nil {
		return err
	}
	return s.respondSite(c, fiber.StatusOK, id)
}

// adminArchiveSite archives a site: its record becomes a tombstone (status archived, deleted_at
// set), phones receive a remove, and new visits cannot name it. Archiving again changes nothing.
func (s *Server) adminArchiveSite(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	err = s.store.InTx(ctx, func(tx *storage.Store) error {
		rec, site, err := lockSite(ctx, tx, id)
		if err != nil || rec.DeletedAt != nil {
			return err
		}
		now := time.Now().UTC()
		site.Status = models.SiteArchived
		if rec.Data, err = json.Marshal(site); err != nil {
			return err
		}
		rec.Status, rec.DeletedAt = models.SiteArchived, &now
		rec.Version++
		if err := tx.SaveRecords(ctx, []models.Record{rec}, false); err != nil {
			return err
		}
		if err := tx.Audit(ctx, auditBy(c, "site.archive", models.TypeSite, id.String(), map[string]any{
			"version": rec.Version})); err != nil {
			return err
		}
		_, err = tx.AppendChanges(ctx, []models.Change{siteChange(rec, nil)})
		return err
	})
	if err != nil {
		return err
	}
	return s.respondSite(c, fiber.StatusOK, id)
}
