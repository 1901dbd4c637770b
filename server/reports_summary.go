package server

import (
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
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

// summaryRegion resolves ?region= as the list reports do (regionParam); without it, the caller's
// scope region, or the city.
func (s *Server) summaryRegion(c *fiber.Ctx, q *query) (models.Region, error) {
	sc := principal(c).Scope
	r, ok, err := s.regionParam(q, sc)
	switch {
	case err != nil:
		return models.Region{}, err
	case ok:
		return r, nil
	case sc.RegionID != nil:
		return s.store.GetRegion(c.UserContext(), *sc.RegionID)
	}
	return s.store.RootRegion(c.UserContext())
}

// summaryGroupLevel reads ?by= (county or township; default the level below the region, township for a
// township or village). A level above the region's is refused.
func summaryGroupLevel(q *query, region models.Region) (models.RegionLevel, error) {
	by := models.RegionLevel(q.get("by"))
	switch by {
	case "":
		if region.Level == models.LevelCity {
			return models.LevelCounty, nil
		}
		return models.LevelTownship, nil
	case models.LevelCounty, models.LevelTownship:
	default:
		return "", errParam("by", "must be county or township.")
	}
	if by.Depth() < region.Level.Depth() {
		var ve models.ValidationError
		ve.Add("by", "invalid", "a %s's summary cannot be broken down by %s; use by=township", region.Level, by)
		return "", &ve
	}
	return by, nil
}

// summaryDate reads a YYYY-MM-DD query parameter as a CST date (def when absent).
func summaryDate(q *query, name string, def time.Time) (time.Time, error) {
	v := q.get(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, models.ChinaStandardTime)
	if err != nil || len(v) != 10 {
		return time.Time{}, errParam(name, "must be a date, YYYY-MM-DD.")
	}
	return d, nil
}

// summaryPeriod reads ?from=&to= (default: this calendar month, CST).
func summaryPeriod(q *query, today time.Time) (from, to time.Time, err error) {
	first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, models.ChinaStandardTime)
	if from, err = summaryDate(q, "from", first); err != nil {
		return
	}
	if to, err = summaryDate(q, "to", first.AddDate(0, 1, -1)); err != nil {
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
	q, err := readQuery(c, "region", "from", "to", "by")
	if err != nil {
		return err
	}
	region, err := s.summaryRegion(c, q)
	if err != nil {
		return err
	}
	by, err := summaryGroupLevel(q, region)
	if err != nil {
		return err
	}
	today := summaryToday(time.Now())
	from, to, err := summaryPeriod(q, today)
	if err != nil {
		return err
	}
	out, err := s.summaryFor(c, region, by, from, to, today)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
