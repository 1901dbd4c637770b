package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/google/uuid"
)

// demoNamespace makes demo ids stable: the same code gives the same UUID on every machine.
var demoNamespace = uuid.MustParse("6f1c7d3e-2b9a-4f50-9c1e-5d2f4b8a7e10")

// DemoResult counts what LoadDemo created; zero counts mean the demo was already there.
type DemoResult struct {
	Regions      int
	Users        int
	Checklists   int
	Projects     int
	PatrolAreas  int
	Dealers      int
	VillagePlots int
}

// Sites is how many sites the load created.
func (r DemoResult) Sites() int { return r.Projects + r.PatrolAreas + r.Dealers + r.VillagePlots }

// DemoSiteID is the stable id of the demo site with key (democity.Site.Key).
func DemoSiteID(key string) uuid.UUID { return uuid.NewSHA1(demoNamespace, []byte("site:"+key)) }

// DemoUserID is the stable id of a demo user.
func DemoUserID(username string) uuid.UUID {
	return uuid.NewSHA1(demoNamespace, []byte("user:"+username))
}

// LoadDemo creates the deterministic demo city (regions and demo users) in one transaction.
// Rows that already exist (by region code or username) are left exactly as they are, so loading
// twice changes nothing. Passwords are hashed with params.
func (s *Store) LoadDemo(ctx context.Context, params models.PasswordParams) (DemoResult, error) {
	var res DemoResult
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Exec(`SELECT pg_advisory_xact_lock(7236101)`).Error; err != nil {
			return fmt.Errorf("storage: demo lock: %w", classify(err))
		}
		paths, err := tx.regionPathsByCode(ctx)
		if err != nil {
			return err
		}
		for _, dr := range democity.Regions() {
			if _, ok := paths[dr.Code]; ok {
				continue
			}
			r := models.Region{ID: uuid.NewSHA1(demoNamespace, []byte("region:"+dr.Code)), Code: dr.Code, Name: dr.Name,
				Level: models.RegionLevel(dr.Level), Centre: &models.Point{Lat: dr.Lat, Lon: dr.Lon}}
			parentPath := ""
			if dr.ParentCode != "" {
				parent, ok := paths[dr.ParentCode]
				if !ok {
					return fmt.Errorf("storage: demo region %s: parent %s missing", dr.Code, dr.ParentCode)
				}
				r.ParentID, parentPath = &parent.id, parent.path
			}
			r.Path = models.RegionPath(parentPath, r.ID)
			if err := tx.q(ctx).Exec(`INSERT INTO regions (id, code, name, level, parent_id, path, centre_lat, centre_lon)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Code, r.Name, string(r.Level), r.ParentID, r.Path,
				r.Centre.Lat, r.Centre.Lon).Error; err != nil {
				return fmt.Errorf("storage: demo region %s: %w", dr.Code, classify(err))
			}
			paths[dr.Code] = regionRef{id: r.ID, path: r.Path}
			res.Regions++
		}
		for _, du := range democity.Users() {
			if _, err := tx.GetUserByUsername(ctx, du.Username); err == nil {
				continue
			}
			u := models.User{ID: DemoUserID(du.Username), Username: du.Username,
				Name: du.Name, Role: models.Role(du.Role), Active: true}
			if !u.Role.Valid() {
				return fmt.Errorf("storage: demo user %s: unknown role %q", du.Username, du.Role)
			}
			for _, k := range du.Kinds {
				u.Kinds = append(u.Kinds, models.Kind(k))
			}
			if du.RegionCode != "" {
				ref, ok := paths[du.RegionCode]
				if !ok {
					return fmt.Errorf("storage: demo user %s: region %s missing", du.Username, du.RegionCode)
				}
				u.RegionID = &ref.id
			}
			hash, err := models.HashPassword(du.Password, params)
			if err != nil {
				return err
			}
			u.PasswordHash = hash
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			res.Users++
		}
		if res.Checklists, err = tx.EnsureDefaultChecklists(ctx, time.Now()); err != nil {
			return err
		}
		if res.Regions+res.Users+res.Checklists > 0 {
			return tx.Audit(ctx, models.AuditEntry{Action: "demo.load", TargetType: "demo",
				Details: map[string]any{"regions": res.Regions, "users": res.Users, "checklists": res.Checklists}})
		}
		return nil
	})
	return res, err
}

// LoadDemoCity loads the whole demo city: LoadDemo (regions, users, checklists), then LoadDemoSites.
// Loading twice changes nothing.
func (s *Store) LoadDemoCity(ctx context.Context, params models.PasswordParams) (DemoResult, error) {
	res, err := s.LoadDemo(ctx, params)
	if err != nil {
		return res, err
	}
	sites, err := s.LoadDemoSites(ctx)
	res.Projects, res.PatrolAreas, res.Dealers, res.VillagePlots = sites.Projects, sites.PatrolAreas, sites.Dealers, sites.VillagePlots
	return res, err
}

// LoadDemoSites creates the demo sites (democity.Sites: projects, patrol areas, dealers, village
// plots) in one transaction, as the admin site API does: a validated site record and a change-log
// put each. Sites that exist (by their stable id) are left as they are. The regions must be loaded
// (LoadDemo). It is separate from LoadDemo so that test fixtures built on LoadDemo keep a city
// without sites.
func (s *Store) LoadDemoSites(ctx context.Context) (DemoResult, error) {
	var res DemoResult
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Exec(`SELECT pg_advisory_xact_lock(7236101)`).Error; err != nil {
			return fmt.Errorf("storage: demo lock: %w", classify(err))
		}
		paths, err := tx.regionPathsByCode(ctx)
		if err != nil {
			return err
		}
		if err := tx.loadDemoSites(ctx, paths, &res); err != nil {
			return err
		}
		if res.Sites() > 0 {
			return tx.Audit(ctx, models.AuditEntry{Action: "demo.load_sites", TargetType: "demo",
				Details: map[string]any{"projects": res.Projects, "patrol_areas": res.PatrolAreas, "dealers": res.Dealers,
					"village_plots": res.VillagePlots}})
		}
		return nil
	})
	return res, err
}

type regionRef struct {
	id   uuid.UUID
	path string
}

func (s *Store) regionPathsByCode(ctx context.Context) (map[string]regionRef, error) {
	var rows []struct {
		ID   uuid.UUID
		Code string
		Path string
	}
	if err := s.q(ctx).Raw(`SELECT id, code, path FROM regions`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: region paths: %w", classify(err))
	}
	out := make(map[string]regionRef, len(rows))
	for _, r := range rows {
		out[r.Code] = regionRef{id: r.ID, path: r.Path}
	}
	return out, nil
}

// DemoSite converts a generated demo site into a site placed in region regionID, and validates it.
func DemoSite(ds democity.Site, regionID uuid.UUID) (models.Site, error) {
	k := models.SiteKind(ds.Kind)
	s := models.Site{ID: DemoSiteID(ds.Key), Kind: k, WorkKind: k.WorkKind(), Name: ds.Name, RegionID: regionID,
		Status: models.SiteActive, Stage: models.ProjectStage(ds.Stage), DevelopmentZone: ds.DevelopmentZone,
		ResponsibleLeader: ds.ResponsibleLeader, LeadUnit: ds.LeadUnit, PlannedStart: ds.PlannedStart,
		PlannedFinish: ds.PlannedFinish, Crop: ds.Crop, ResponsiblePerson: ds.ResponsiblePerson,
		LicenceNumber: ds.LicenceNumber, Owner: ds.Owner}
	switch k {
	case models.SitePatrolArea:
		s.Boundary = json.RawMessage(ds.Boundary)
	default:
		s.Location = &models.Point{Lat: ds.Lat, Lon: ds.Lon}
	}
	switch k {
	case models.SiteProject:
		v := ds.InvestmentWan
		s.InvestmentWan = &v
	case models.SiteVillagePlot:
		v := ds.PlannedAreaMu
		s.PlannedAreaMu = &v
	}
	var ve models.ValidationError
	s.Validate(&ve)
	if err := ve.Err(); err != nil {
		return s, fmt.Errorf("storage: demo site %s (%s) is invalid: %w", ds.Key, ds.Name, err)
	}
	return s, nil
}

// loadDemoSites creates the demo sites that do not exist yet, as the admin site API does: a site
// record (version 1) and a put in the change log for each.
func (s *Store) loadDemoSites(ctx context.Context, paths map[string]regionRef, res *DemoResult) error {
	all := democity.Sites()
	ids := make([]uuid.UUID, len(all))
	for i, ds := range all {
		ids[i] = DemoSiteID(ds.Key)
	}
	existing, err := s.GetRecords(ctx, models.TypeSite, ids)
	if err != nil {
		return err
	}
	var recs []models.Record
	var changes []models.Change
	for _, ds := range all {
		ref, ok := paths[ds.RegionCode]
		if !ok {
			return fmt.Errorf("storage: demo site %s: region %s missing", ds.Key, ds.RegionCode)
		}
		site, err := DemoSite(ds, ref.id)
		if err != nil {
			return err
		}
		if _, ok := existing[site.ID]; ok {
			continue
		}
		data, err := json.Marshal(site)
		if err != nil {
			return err
		}
		rid := ref.id
		rec := models.Record{Type: models.TypeSite, ID: site.ID, Kind: site.WorkKind, RegionID: &rid,
			RegionPath: ref.path, Status: site.Status, Version: 1, Data: data, FieldMeta: map[string]models.FieldMeta{}}
		recs = append(recs, rec)
		changes = append(changes, models.Change{RecordType: models.TypeSite, RecordID: rec.ID.String(), Op: models.OpPut,
			Version: rec.Version, Kind: rec.Kind, RegionPath: rec.RegionPath})
		switch site.Kind {
		case models.SiteProject:
			res.Projects++
		case models.SitePatrolArea:
			res.PatrolAreas++
		case models.SiteDealer:
			res.Dealers++
		case models.SiteVillagePlot:
			res.VillagePlots++
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if err := s.SaveRecords(ctx, recs, true); err != nil {
		return fmt.Errorf("storage: demo sites: %w", err)
	}
	_, err = s.AppendChanges(ctx, changes)
	return err
}

// DemoCounts is what the database holds of the demo city and its field work.
type DemoCounts struct {
	Townships, Projects, PatrolAreas, Dealers, VillagePlots, Checklists int
	Visits, Findings, OverdueFindings, ClosedFindings, Tracks           int
}

// DemoCounts counts regions, live sites by kind, checklists, visits, findings (overdue as of now:
// not closed and the deadline day, China time, before today) and tracks.
func (s *Store) DemoCounts(ctx context.Context, now time.Time) (DemoCounts, error) {
	var c DemoCounts
	today := now.In(models.ChinaStandardTime).Format(time.DateOnly)
	err := s.raw(ctx).QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM regions WHERE level = 'township'),
		count(*) FILTER (WHERE type = 'site' AND data->>'kind' = 'project'),
		count(*) FILTER (WHERE type = 'site' AND data->>'kind' = 'patrol_area'),
		count(*) FILTER (WHERE type = 'site' AND data->>'kind' = 'dealer'),
		count(*) FILTER (WHERE type = 'site' AND data->>'kind' = 'village_plot'),
		count(*) FILTER (WHERE type = 'checklist'),
		count(*) FILTER (WHERE type = 'visit'),
		count(*) FILTER (WHERE type = 'finding'),
		count(*) FILTER (WHERE type = 'finding' AND status <> 'closed' AND data->>'deadline' < $1),
		count(*) FILTER (WHERE type = 'finding' AND status = 'closed'),
		count(*) FILTER (WHERE type = 'track')
		FROM records WHERE deleted_at IS NULL`, today).Scan(&c.Townships, &c.Projects, &c.PatrolAreas, &c.Dealers,
		&c.VillagePlots, &c.Checklists, &c.Visits, &c.Findings, &c.OverdueFindings, &c.ClosedFindings, &c.Tracks)
	if err != nil {
		return c, fmt.Errorf("storage: demo counts: %w", classify(err))
	}
	return c, nil
}

// String is the one-line summary the server and the CLI print.
func (c DemoCounts) String() string {
	return fmt.Sprintf("Demo city %s: %d townships, %d projects, %d patrol areas, %d dealers, %d village plots, "+
		"%d checklists; %d visits, %d findings (%d overdue, %d closed), %d patrol tracks",
		democity.CityName(), c.Townships, c.Projects, c.PatrolAreas, c.Dealers, c.VillagePlots, c.Checklists,
		c.Visits, c.Findings, c.OverdueFindings, c.ClosedFindings, c.Tracks)
}
