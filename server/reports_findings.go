package server

import (
	"io"
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// findingReportParams are the query parameters of GET /v1/reports/findings.
var findingReportParams = []string{"kind", "region", "severity", "status", "light", "unit", "overdue", "group",
	"limit", "cursor", "format"}

// findingReportFilter reads the finding report's filters; group is "" or "unit"; the pager pages
// the JSON list (nil for exports and per-unit counts).
func (s *Server) findingReportFilter(c *fiber.Ctx, now time.Time) (f storage.FindingReportFilter, format, group string, pg *pager, err error) {
	q, err := readQuery(c, findingReportParams...)
	if err != nil {
		return f, "", "", nil, err
	}
	f.Scope, f.Today = principal(c).Scope, todayCST(now)
	if format, err = q.enum("format", formatJSON, formatCSV, formatXLSX); err != nil {
		return f, "", "", nil, err
	}
	if format == "" {
		format = formatJSON
	}
	if group, err = q.enum("group", "unit"); err != nil {
		return f, "", "", nil, err
	}
	if f.Kind, err = q.kind("kind"); err != nil {
		return f, "", "", nil, err
	}
	if f.Kind != "" && !f.Scope.CoversKind(f.Kind) {
		p := errForbidden("kind: " + string(f.Kind) + " is outside your scope.")
		p.Extra = map[string]any{"param": "kind"}
		return f, "", "", nil, p
	}
	if f.Severity, err = q.enum("severity", models.Severities...); err != nil {
		return f, "", "", nil, err
	}
	if f.Status, err = q.enum("status", models.FindingOpen, models.FindingRectifying, models.FindingAwaitingRecheck,
		models.FindingClosed); err != nil {
		return f, "", "", nil, err
	}
	if f.Light, err = q.enum("light", models.LightRed, models.LightYellow, models.LightGreen, models.LightNone); err != nil {
		return f, "", "", nil, err
	}
	f.Unit = q.get("unit")
	if f.Overdue, err = q.boolean("overdue"); err != nil {
		return f, "", "", nil, err
	}
	if f.RegionPath, err = s.reportRegion(q, f.Scope); err != nil {
		return f, "", "", nil, err
	}
	paged := format == formatJSON && group == ""
	if !paged && q.get("cursor") != "" {
		return f, "", "", nil, errParam("cursor", "pages the JSON list only; exports and per-unit counts are not paged.")
	}
	switch {
	case group != "":
		if q.get("limit") != "" {
			return f, "", "", nil, errParam("limit", "per-unit counts are not paged: every unit comes in one answer.")
		}
		return f, format, group, nil, nil
	case !paged:
		if f.Limit, err = q.limit(0, maxExportRows); err != nil {
			return f, "", "", nil, err
		}
		return f, format, group, nil, nil
	}
	if pg, err = s.newPager(c, q); err != nil {
		return f, "", "", nil, err
	}
	if pg.limit, err = q.limit(defaultPageLimit, maxPageLimit); err != nil {
		return f, "", "", nil, err
	}
	key, err := cursorKey(pg, 3)
	if err != nil || key == nil {
		return f, format, group, pg, err
	}
	id, ierr := uuid.Parse(key[2])
	closed, berr := strconv.ParseBool(key[0])
	if ierr != nil || berr != nil {
		return f, "", "", nil, errBadCursor()
	}
	f.After = &storage.FindingKey{Closed: closed, Deadline: key[1], ID: id}
	return f, format, group, pg, nil
}

// reportFindings is GET /v1/reports/findings: findings by deadline light (overdue first, most
// overdue first), as JSON pages or CSV/XLSX exports; group=unit counts them per responsible unit.
func (s *Server) reportFindings(c *fiber.Ctx) error {
	now := time.Now()
	f, format, group, pg, err := s.findingReportFilter(c, now)
	if err != nil {
		return err
	}
	if group == "unit" {
		return s.reportFindingUnits(c, f, format)
	}
	if format != formatJSON {
		return s.exportFindings(c, f, format, now)
	}
	f.Limit = pg.limit + 1
	rows, err := s.store.ReportFindings(c.UserContext(), f)
	if err != nil {
		return err
	}
	page, next := trimPage(pg, rows, func(r storage.FindingReportRow) string {
		return strconv.FormatBool(r.Key.Closed) + "|" + r.Key.Deadline + "|" + r.Key.ID.String()
	})
	out := findingReportPage{Items: make([]render.FindingItem, len(page)), NextCursor: next}
	for i := range page {
		out.Items[i] = render.NewFindingItem(&page[i], now)
	}
	return c.JSON(out)
}

type findingReportPage struct {
	Items      []render.FindingItem `json:"items"`
	NextCursor *string              `json:"next_cursor"`
}

// exportFindings streams the finding report as CSV or XLSX (the query opened before the body
// starts, as exportVisits).
func (s *Server) exportFindings(c *fiber.Ctx, f storage.FindingReportFilter, format string, now time.Time) error {
	ctx, cancel := exportContext(c)
	exp, err := s.store.ExportFindings(ctx, f)
	if err != nil {
		cancel(nil)
		return err
	}
	s.streamExport(c, "findings", format, cancel, func(w io.Writer) error {
		defer cancel(nil)
		defer exp.Close()
		tw, err := newTable(format, w, "Findings", render.FindingColumns)
		if err != nil {
			return err
		}
		cells := make([]render.Cell, len(render.FindingColumns))
		for {
			batch, err := exp.Next(ctx)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				return tw.Close()
			}
			for i := range batch {
				it := render.NewFindingItem(&batch[i], now)
				render.FindingCells(&it, &batch[i], cells)
				if err := tw.Row(cells); err != nil {
					return err
				}
			}
		}
	})
	return nil
}

// reportFindingUnits answers group=unit: per responsible unit, the findings matching the filters
// counted by light; the units with the most overdue findings first.
func (s *Server) reportFindingUnits(c *fiber.Ctx, f storage.FindingReportFilter, format string) error {
	rows, err := s.store.ReportFindingUnits(c.UserContext(), f)
	if err != nil {
		return err
	}
	units := make([]render.FindingUnit, len(rows))
	for i, r := range rows {
		units[i] = render.NewFindingUnit(r)
	}
	if format == formatJSON {
		return c.JSON(fiber.Map{"units": units})
	}
	s.streamExport(c, "findings-by-unit", format, func(error) {}, func(w io.Writer) error {
		tw, err := newTable(format, w, "Units", render.FindingUnitColumns)
		if err != nil {
			return err
		}
		cells := make([]render.Cell, len(render.FindingUnitColumns))
		for i := range units {
			render.FindingUnitCells(&units[i], cells)
			if err := tw.Row(cells); err != nil {
				return err
			}
		}
		return tw.Close()
	})
	return nil
}
