// Package demo loads the deterministic demo city (models/democity) and a few weeks of its field
// work. It writes only through the sync engine's exported API, as an admin and the demo users
// would: the city is one import (regions, users, the built-in checklists), the sites another, and
// the field work is pushed by the demo users. Every step is idempotent: loading twice changes
// nothing.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/fieldsync/fieldsync/storage"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/google/uuid"
)

// namespace makes demo ids stable: the same code gives the same UUID on every machine.
var namespace = uuid.MustParse("6f1c7d3e-2b9a-4f50-9c1e-5d2f4b8a7e10")

// RegionID is the stable id of the demo region with a code.
func RegionID(code string) uuid.UUID { return uuid.NewSHA1(namespace, []byte("region:"+code)) }

// UserID is the stable id of a demo user.
func UserID(username string) uuid.UUID { return uuid.NewSHA1(namespace, []byte("user:"+username)) }

// SiteID is the stable id of the demo site with key (democity.Site.Key).
func SiteID(key string) uuid.UUID { return uuid.NewSHA1(namespace, []byte("site:"+key)) }

// CityImport is the demo city as an import: every region (parents first), the demo logins and
// the built-in checklists.
func CityImport() fsync.Import {
	imp := fsync.Import{Action: "demo.load", TargetType: "demo", DefaultChecklists: true}
	for _, dr := range democity.Regions() {
		imp.Regions = append(imp.Regions, fsync.NewRegion{ID: RegionID(dr.Code), Code: dr.Code, Name: dr.Name,
			Level: dr.Level, ParentCode: dr.ParentCode, Centre: &models.Point{Lat: dr.Lat, Lon: dr.Lon}})
	}
	for _, du := range democity.Users() {
		nu := fsync.NewUser{ID: UserID(du.Username), Username: du.Username, Name: du.Name, Password: du.Password,
			Role: du.Role, Kinds: du.Kinds}
		if du.RegionCode != "" {
			code := du.RegionCode
			nu.RegionCode = &code
		}
		imp.Users = append(imp.Users, nu)
	}
	return imp
}

// SitesImport is the demo sites (projects, patrol areas, dealers, village plots) as an import.
func SitesImport() fsync.Import {
	imp := fsync.Import{Action: "demo.load_sites", TargetType: "demo"}
	for _, ds := range democity.Sites() {
		imp.Sites = append(imp.Sites, newSite(ds))
	}
	return imp
}

// newSite is a generated demo site as the admin API would create it.
func newSite(ds democity.Site) fsync.NewSite {
	id := SiteID(ds.Key)
	ns := fsync.NewSite{ID: &id, Kind: ds.Kind, Name: ds.Name, RegionCode: ds.RegionCode, Stage: ds.Stage,
		DevelopmentZone: ds.DevelopmentZone, ResponsibleLeader: ds.ResponsibleLeader, LeadUnit: ds.LeadUnit,
		PlannedStart: ds.PlannedStart, PlannedFinish: ds.PlannedFinish, Crop: ds.Crop,
		ResponsiblePerson: ds.ResponsiblePerson, LicenceNumber: ds.LicenceNumber, Owner: ds.Owner}
	switch models.SiteKind(ds.Kind) {
	case models.SitePatrolArea:
		ns.Boundary = json.RawMessage(ds.Boundary)
	default:
		ns.Location = &models.Point{Lat: ds.Lat, Lon: ds.Lon}
	}
	switch models.SiteKind(ds.Kind) {
	case models.SiteProject:
		v := ds.InvestmentWan
		ns.InvestmentWan = &v
	case models.SiteVillagePlot:
		v := ds.PlannedAreaMu
		ns.PlannedAreaMu = &v
	}
	return ns
}

// LoadCity creates the demo city (regions, demo users, built-in checklists) in one transaction, as
// the system. What exists (a region by code, a user by username) is left as it is.
func LoadCity(ctx context.Context, e *fsync.Engine) (fsync.ImportResult, error) {
	return e.Import(ctx, fsync.SystemActor(), CityImport())
}

// LoadSites creates the demo sites in one transaction, as the system; the city must be loaded.
// It is separate from LoadCity so that test fixtures keep a city without sites.
func LoadSites(ctx context.Context, e *fsync.Engine) (fsync.ImportResult, error) {
	return e.Import(ctx, fsync.SystemActor(), SitesImport())
}

// Result is what Load did.
type Result struct {
	City, Sites fsync.ImportResult
	Activity    Activity
}

// Changed reports whether the load created or applied anything.
func (r Result) Changed() bool {
	return r.City.Regions+r.City.Users+r.City.Checklists+r.Sites.SiteCount()+r.Activity.Applied > 0
}

// Load loads the whole demo: LoadCity, LoadSites, then LoadActivity as of now.
func Load(ctx context.Context, e *fsync.Engine, now time.Time) (Result, error) {
	var res Result
	var err error
	if res.City, err = LoadCity(ctx, e); err != nil {
		return res, err
	}
	if res.Sites, err = LoadSites(ctx, e); err != nil {
		return res, err
	}
	res.Activity, err = LoadActivity(ctx, e, now)
	return res, err
}

// Summary is the one-line summary of what the database holds of the demo city, which the server
// and the command line print.
func Summary(c storage.DemoCounts) string {
	return fmt.Sprintf("Demo city %s: %d townships, %d projects, %d patrol areas, %d dealers, %d village plots, "+
		"%d checklists; %d visits, %d findings (%d overdue, %d closed), %d patrol tracks",
		democity.CityName(), c.Townships, c.Projects, c.PatrolAreas, c.Dealers, c.VillagePlots, c.Checklists,
		c.Visits, c.Findings, c.OverdueFindings, c.ClosedFindings, c.Tracks)
}
