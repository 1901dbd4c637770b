package server

import (
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// visitReportRoutes registers GET /v1/reports/visits and /v1/reports/findings.
//
// Reports are supervision work (DOMAIN.md: supervisors read "everything under their region,
// reports"; admins read everything): supervisors and admins may read them, each inside their
// scope (region subtree and kinds); every other role gets 403. Field roles see their own records
// through sync.
func (s *Server) visitReportRoutes(app *fiber.App, authed fiber.Handler) {
	readers := requireRole(models.RoleSupervisor, models.RoleAdmin)
	app.Get("/v1/reports/visits", authed, readers, s.reportVisits)
	app.Get("/v1/reports/findings", authed, readers, s.reportFindings)
}

// visitReportParams are the query parameters of GET /v1/reports/visits.
var visitReportParams = []string{"kind", "region", "site", "inspector", "status", "from", "to", "location",
	"has_findings", "overdue_findings", "sort", "limit", "cursor", "format"}

// visitReportFilter reads the report's filters; format is json, csv, xlsx or geojson, and the
// pager pages the JSON list (nil for an export).
func (s *Server) visitReportFilter(c *fiber.Ctx, now time.Time) (storage.VisitReportFilter, string, *pager, error) {
	var f storage.VisitReportFilter
	q, err := readQuery(c, visitReportParams...)
	if err != nil {
		return f, "", nil, err
	}
	f.Scope, f.Today = principal(c).Scope, todayCST(now)
	format, err := q.enum("format", formatJSON, formatCSV, formatXLSX, formatGeoJSON)
	if err != nil {
		return f, "", nil, err
	}
	if format == "" {
		format = formatJSON
	}
	if f.Kind, err = q.kind("kind"); err != nil {
		return f, "", nil, err
	}
	if f.Kind != "" && !f.Scope.CoversKind(f.Kind) {
		p := errForbidden("kind: " + string(f.Kind) + " is outside your scope.")
		p.Extra = map[string]any{"param": "kind"}
		return f, "", nil, p
	}
	if f.SiteID, err = q.uuid("site"); err != nil {
		return f, "", nil, err
	}
	if f.InspectorID, err = q.uuid("inspector"); err != nil {
		return f, "", nil, err
	}
	if f.Status, err = q.enum("status", models.VisitDraft, models.VisitSubmitted); err != nil {
		return f, "", nil, err
	}
	if f.From, f.To, err = q.period(); err != nil {
		return f, "", nil, err
	}
	if f.Location, err = q.enum("location", string(models.VerdictOK), string(models.VerdictWarn),
		string(models.VerdictFail), string(models.VerdictPending), storage.LocationNone); err != nil {
		return f, "", nil, err
	}
	if f.HasFindings, err = q.boolean("has_findings"); err != nil {
		return f, "", nil, err
	}
	if f.OverdueFindings, err = q.boolean("overdue_findings"); err != nil {
		return f, "", nil, err
	}
	sort, err := q.enum("sort", "started_at", "-started_at")
	if err != nil {
		return f, "", nil, err
	}
	f.Asc = sort == "started_at"
	if f.RegionPath, err = s.reportRegion(q, f.Scope); err != nil {
		return f, "", nil, err
	}
	if format != formatJSON {
		// Exports stream every matching row; an explicit limit caps them, a cursor is refused.
		if q.get("cursor") != "" {
			return f, "", nil, errParam("cursor", "pages the JSON list only; an export always starts at the first row.")
		}
		if f.Limit, err = q.limit(0, maxExportRows); err != nil {
			return f, "", nil, err
		}
		return f, format, nil, nil
	}
	pg, err := s.newPager(c, q)
	if err != nil {
		return f, "", nil, err
	}
	if pg.limit, err = q.limit(defaultPageLimit, maxPageLimit); err != nil {
		return f, "", nil, err
	}
	key, err := cursorKey(pg, 2)
	if err != nil {
		return f, "", nil, err
	}
	if key != nil {
		id, ierr := uuid.Parse(key[1])
		_, terr := time.Parse(time.RFC3339Nano, key[0])
		if ierr != nil || (terr != nil && key[0] != "-infinity") {
			return f, "", nil, errBadCursor()
		}
		f.After = &storage.VisitKey{StartedAt: key[0], ID: id}
	}
	return f, format, pg, nil
}

// reportVisits is GET /v1/reports/visits: one JSON page, or a streamed export of every match.
func (s *Server) reportVisits(c *fiber.Ctx) error {
	f, format, pg, err := s.visitReportFilter(c, time.Now())
	if err != nil {
		return err
	}
	if format != formatJSON {
		return s.exportVisits(c, f, format)
	}
	f.Limit = pg.limit + 1
	rows, err := s.store.ReportVisits(c.UserContext(), f)
	if err != nil {
		return err
	}
	page, next := trimPage(pg, rows, func(r storage.VisitReportRow) string {
		return r.Key.StartedAt + "|" + r.Key.ID.String()
	})
	out := visitReportPage{Items: make([]render.VisitItem, len(page)), NextCursor: next}
	for i := range page {
		out.Items[i] = render.NewVisitItem(&page[i])
	}
	return c.JSON(out)
}

type visitReportPage struct {
	Items      []render.VisitItem `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}
