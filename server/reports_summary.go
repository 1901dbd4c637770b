package server

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// summaryReportRoutes registers /v1/reports/summary, /v1/reports/dispatch and /v1/reports/visits/{id}.
// The summary and the dispatch are supervision reports (supervisors and admins, DOMAIN.md); a
// visit's report is readable by anyone whose scope covers the visit.
func (s *Server) summaryReportRoutes(app *fiber.App, authed fiber.Handler) {
	supervision := requireRole(models.RoleSupervisor, models.RoleAdmin)
	app.Get("/v1/reports/summary", authed, supervision, s.summaryReport)
	app.Get("/v1/reports/dispatch", authed, supervision, s.dispatchReport)
	app.Get("/v1/reports/visits/:id", authed, s.visitReport)
}

// maxSummaryDays bounds a summary's period (two years and a day: any two calendar years).
const maxSummaryDays = 732

// summaryToday is today's date in China Standard Time (midnight CST).
func summaryToday(now time.Time) time.Time {
	y, m, d := now.In(models.ChinaStandardTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, models.ChinaStandardTime)
}

// summaryParam is a 400 naming the query parameter that is wrong (also as the "param" member,
// as the visit list's errors do).
func summaryParam(name, detail string) *Problem {
	p := errBadRequest(name + ": " + detail)
	p.Extra = map[string]any{"param": name}
	return p
}

// summaryRegion resolves ?region= (a region id or code; default the caller's scope region, or the
// city) the way the visit list does: a region inside the caller's scope is reported; one that
// contains the scope reports the scope (a county supervisor asking for the city gets their
// county); one outside it is a 403; an unknown one a 400.
func (s *Server) summaryRegion(c *fiber.Ctx) (models.Region, error) {
	sc := principal(c).Scope
	ctx := c.UserContext()
	raw := c.Query("region")
	scopeRegion := func() (models.Region, error) {
		if sc.RegionID != nil {
			return s.store.GetRegion(ctx, *sc.RegionID)
		}
		return s.store.RootRegion(ctx)
	}
	if raw == "" {
		return scopeRegion()
	}
	if len(raw) > 200 {
		return models.Region{}, summaryParam("region", "is longer than 200 bytes.")
	}
	var r models.Region
	var err error
	if id, perr := uuid.Parse(raw); perr == nil {
		r, err = s.store.GetRegion(ctx, id)
	} else {
		r, err = s.store.GetRegionByCode(ctx, raw)
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return models.Region{}, summaryParam("region", fmt.Sprintf("no region has id or code %q.", raw))
	case err != nil:
		return models.Region{}, err
	case sc.CoversRegion(r.Path):
		return r, nil
	case strings.HasPrefix(sc.RegionPath, r.Path):
		return scopeRegion()
	}
	p := errForbidden("region: " + r.Name + " is outside your scope.")
	p.Extra = map[string]any{"param": "region"}
	return models.Region{}, p
}

// summaryGroupLevel reads ?by= (county or township; default the level below the region, township for a
// township or village). A level above the region's is refused.
func summaryGroupLevel(c *fiber.Ctx, region models.Region) (models.RegionLevel, error) {
	by := models.RegionLevel(c.Query("by"))
	switch by {
	case "":
		if region.Level == models.LevelCity {
			return models.LevelCounty, nil
		}
		return models.LevelTownship, nil
	case models.LevelCounty, models.LevelTownship:
	default:
		return "", summaryParam("by", "must be county or township.")
	}
	if by.Depth() < region.Level.Depth() {
		var ve models.ValidationError
		ve.Add("by", "invalid", "a %s's summary cannot be broken down by %s; use by=township", region.Level, by)
		return "", &ve
	}
	return by, nil
}

// summaryDate reads a YYYY-MM-DD query parameter as a CST date (def when absent).
func summaryDate(c *fiber.Ctx, name string, def time.Time) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, models.ChinaStandardTime)
	if err != nil || len(v) != 10 {
		return time.Time{}, summaryParam(name, "must be a date, YYYY-MM-DD.")
	}
	return d, nil
}

// summaryPeriod reads ?from=&to= (default: this calendar month, CST).
func summaryPeriod(c *fiber.Ctx, today time.Time) (from, to time.Time, err error) {
	first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, models.ChinaStandardTime)
	if from, err = summaryDate(c, "from", first); err != nil {
		return
	}
	if to, err = summaryDate(c, "to", first.AddDate(0, 1, -1)); err != nil {
		return
	}
	var ve models.ValidationError
	switch {
	case to.Before(from):
		ve.Add("to", "invalid", "to (%s) is before from (%s)", to.Format(time.DateOnly), from.Format(time.DateOnly))
	case int(to.Sub(from).Hours()/24) >= maxSummaryDays:
		ve.Add("to", "out_of_range", "a period is at most %d days", maxSummaryDays)
	}
	return from, to, ve.Err()
}

func summaryBrief(r models.Region) storage.RegionBrief {
	return storage.RegionBrief{ID: r.ID, Code: r.Code, Name: r.Name, Level: r.Level}
}

// coveredKinds is the kinds the caller's scope covers, in the standard order.
func coveredKinds(sc models.Scope) []models.Kind {
	out := []models.Kind{}
	for _, k := range models.Kinds {
		if sc.CoversKind(k) {
			out = append(out, k)
		}
	}
	return out
}

// summaryFor computes the summary of region for from..to.
func (s *Server) summaryFor(c *fiber.Ctx, region models.Region, by models.RegionLevel, from, to, today time.Time) (render.Summary, error) {
	sc := principal(c).Scope
	q := storage.SummaryQuery{RegionPath: region.Path, GroupLevel: by, From: from, To: to, Today: today,
		Kinds: sc.Kinds, ListLimit: 100}
	sum, err := s.store.Summary(c.UserContext(), q)
	if err != nil {
		return render.Summary{}, err
	}
	sum.Total.Region = summaryBrief(region)
	return render.Summary{Region: summaryBrief(region), From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		By: by, AsOf: today.Format(time.DateOnly), Kinds: coveredKinds(sc), Rows: summaryRowsOrEmpty(sum.Rows), Total: sum.Total,
		Defined: render.SummaryDefinitions}, nil
}

func summaryRowsOrEmpty(rows []*storage.SummaryRow) []*storage.SummaryRow {
	if rows == nil {
		return []*storage.SummaryRow{}
	}
	return rows
}

// summaryReport is GET /v1/reports/summary.
func (s *Server) summaryReport(c *fiber.Ctx) error {
	if err := summaryOnlyQuery(c, "region", "from", "to", "by"); err != nil {
		return err
	}
	region, err := s.summaryRegion(c)
	if err != nil {
		return err
	}
	by, err := summaryGroupLevel(c, region)
	if err != nil {
		return err
	}
	today := summaryToday(time.Now())
	from, to, err := summaryPeriod(c, today)
	if err != nil {
		return err
	}
	out, err := s.summaryFor(c, region, by, from, to, today)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// summaryOnlyQuery refuses query parameters a report does not know (a typo would silently change nothing).
func summaryOnlyQuery(c *fiber.Ctx, known ...string) error {
	var bad error
	seen := map[string]bool{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		key := string(k)
		switch {
		case bad != nil:
		case !slices.Contains(known, key):
			bad = summaryParam(key, "unknown parameter (this report takes "+strings.Join(known, ", ")+").")
		case seen[key]:
			bad = summaryParam(key, "is given more than once.")
		case len(v) > 200:
			bad = summaryParam(key, "is longer than 200 bytes.")
		}
		seen[key] = true
	})
	return bad
}
