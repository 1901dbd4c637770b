package server

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// findingReportParams are the query parameters of GET /v1/reports/findings.
var findingReportParams = []string{"kind", "region", "severity", "status", "light", "unit", "overdue", "group",
	"limit", "cursor", "format"}

// findingReportFilter reads the finding report's filters; group is "" or "unit".
func (s *Server) findingReportFilter(c *fiber.Ctx, now time.Time) (f storage.FindingReportFilter, format, group string, err error) {
	q, err := newReportQuery(c, findingReportParams...)
	if err != nil {
		return f, "", "", err
	}
	f.Scope, f.Today = principal(c).Scope, todayCST(now)
	if format, err = q.enum("format", formatJSON, formatCSV, formatXLSX); err != nil {
		return f, "", "", err
	}
	if format == "" {
		format = formatJSON
	}
	if group, err = q.enum("group", "unit"); err != nil {
		return f, "", "", err
	}
	if f.Kind, err = q.kind("kind"); err != nil {
		return f, "", "", err
	}
	if f.Kind != "" && !f.Scope.CoversKind(f.Kind) {
		p := errForbidden("kind: " + string(f.Kind) + " is outside your scope.")
		p.Extra = map[string]any{"param": "kind"}
		return f, "", "", p
	}
	if f.Severity, err = q.enum("severity", models.Severities...); err != nil {
		return f, "", "", err
	}
	if f.Status, err = q.enum("status", models.FindingOpen, models.FindingRectifying, models.FindingAwaitingRecheck,
		models.FindingClosed); err != nil {
		return f, "", "", err
	}
	if f.Light, err = q.enum("light", models.LightRed, models.LightYellow, models.LightGreen, models.LightNone); err != nil {
		return f, "", "", err
	}
	f.Unit = q.get("unit")
	if f.Overdue, err = q.boolean("overdue"); err != nil {
		return f, "", "", err
	}
	if f.RegionPath, err = s.reportRegion(q, f.Scope); err != nil {
		return f, "", "", err
	}
	paged := format == formatJSON && group == ""
	if !paged && q.get("cursor") != "" {
		return f, "", "", errParam("cursor", "pages the JSON list only; exports and per-unit counts are not paged.")
	}
	switch {
	case group != "":
		if q.get("limit") != "" {
			return f, "", "", errParam("limit", "per-unit counts are not paged: every unit comes in one answer.")
		}
	case paged:
		if f.Limit, err = q.limit(defaultPageLimit, maxPageLimit); err != nil {
			return f, "", "", err
		}
	default:
		if f.Limit, err = q.limit(0, maxExportRows); err != nil {
			return f, "", "", err
		}
	}
	key, err := q.cursor(3)
	if err != nil || key == nil {
		return f, format, group, err
	}
	id, ierr := uuid.Parse(key[2])
	closed, berr := strconv.ParseBool(key[0])
	if ierr != nil || berr != nil {
		return f, "", "", errParam("cursor", "is not one this server issued for this report.")
	}
	f.After = &storage.FindingKey{Closed: closed, Deadline: key[1], ID: id}
	return f, format, group, nil
}

// reportFindings is GET /v1/reports/findings: findings by deadline light (overdue first, most
// overdue first), as JSON pages or CSV/XLSX exports; group=unit counts them per responsible unit.
func (s *Server) reportFindings(c *fiber.Ctx) error {
	now := time.Now()
	f, format, group, err := s.findingReportFilter(c, now)
	if err != nil {
		return err
	}
	if group == "unit" {
		return s.reportFindingUnits(c, f, format)
	}
	if format != formatJSON {
		return s.exportFindings(c, f, format, now)
	}
	limit := f.Limit
	f.Limit = limit + 1
	rows, err := s.store.ReportFindings(c.UserContext(), f)
	if err != nil {
		return err
	}
	page, next := trimPage(rows, limit, func(r storage.FindingReportRow) string {
		return strconv.FormatBool(r.Key.Closed) + "|" + r.Key.Deadline + "|" + r.Key.ID.String()
	})
	out := findingReportPage{Items: make([]findingReportItem, len(page)), NextCursor: next}
	for i := range page {
		out.Items[i] = newFindingReportItem(&page[i], now)
	}
	return c.JSON(out)
}

type findingReportPage struct {
	Items      []findingReportItem `json:"items"`
	NextCursor *string             `json:"next_cursor"`
}

// findingReportItem is one row of the JSON finding report. Light, overdue and days_overdue are
// computed at the request (models.DeadlineLight), not read from the record's snapshot.
type findingReportItem struct {
	ID                uuid.UUID   `json:"id"`
	VisitID           *uuid.UUID  `json:"visit_id"`
	Kind              models.Kind `json:"kind"`
	Status            string      `json:"status"`
	Severity          string      `json:"severity"`
	Category          string      `json:"category"`
	Description       string      `json:"description"`
	ResponsibleUnit   string      `json:"responsible_unit"`
	ResponsiblePerson string      `json:"responsible_person"`
	Deadline          string      `json:"deadline"`
	Light             string      `json:"light"`
	Overdue           bool        `json:"overdue"`
	DaysOverdue       int         `json:"days_overdue"`
	SiteID            *uuid.UUID  `json:"site_id"`
	SiteName          *string     `json:"site_name"`
	RegionID          *uuid.UUID  `json:"region_id"`
	County            *string     `json:"county"`
	Township          *string     `json:"township"`
	CreatedAt         string      `json:"created_at"`
	ClosedAt          *string     `json:"closed_at"`
}

// daysOverdue counts the calendar days in China Standard Time since a finding fell due (the day
// after its deadline is 1); 0 when it is not overdue.
func daysOverdue(deadline string, overdue bool, now time.Time) int {
	if !overdue {
		return 0
	}
	d, err := time.ParseInLocation(time.DateOnly, deadline, models.ChinaStandardTime)
	if err != nil {
		return 0
	}
	y, m, day := now.In(models.ChinaStandardTime).Date()
	today := time.Date(y, m, day, 0, 0, 0, 0, models.ChinaStandardTime)
	return int(today.Sub(d).Hours() / 24)
}

func newFindingReportItem(r *storage.FindingReportRow, now time.Time) findingReportItem {
	light, overdue := models.DeadlineLight(r.Deadline, r.Status, now)
	it := findingReportItem{ID: r.ID, VisitID: r.VisitID, Kind: r.Kind, Status: r.Status, Severity: r.Severity,
		Category: r.Category, Description: r.Description, ResponsibleUnit: r.ResponsibleUnit,
		ResponsiblePerson: r.ResponsiblePerson, Deadline: r.Deadline, Light: light, Overdue: overdue,
		DaysOverdue: daysOverdue(r.Deadline, overdue, now), SiteID: r.SiteID, RegionID: r.RegionID,
		County: strOrNil(r.County), Township: strOrNil(r.Township), CreatedAt: *cstTime(&r.CreatedAt),
		ClosedAt: cstTime(r.ClosedAt)}
	if r.SiteID != nil {
		it.SiteName = &r.Site.Name
	}
	return it
}

var findingColumns = []reportColumn{
	{"问题编号", "Finding ID", colText, 38},
	{"走访编号", "Visit ID", colText, 38},
	{"工作类型", "Kind", colText, 18},
	{"县(市)区", "County", colText, 12},
	{"乡镇", "Township", colText, 12},
	{"现场名称", "Site", colText, 30},
	{"问题类别", "Category", colText, 14},
	{"严重程度", "Severity", colText, 10},
	{"问题描述", "Description", colText, 50},
	{"责任单位", "Responsible unit", colText, 24},
	{"责任人", "Responsible person", colText, 10},
	{"整改期限", "Deadline", colDate, 12},
	{"状态", "Status", colText, 16},
	{"期限灯", "Deadline light", colText, 8},
	{"逾期天数", "Days overdue", colInt, 8},
	{"发现时间", "Found at", colTime, 20},
	{"销号时间", "Closed at", colTime, 20},
}

func findingCells(it *findingReportItem, r *storage.FindingReportRow, cells []reportCell) {
	site := ""
	if r.SiteID != nil {
		site = r.Site.Name
	}
	cells[0], cells[1], cells[2] = textCell(r.ID.String()), textCell(uuidText(r.VisitID)), textCell(string(r.Kind))
	cells[3], cells[4], cells[5] = textCell(r.County), textCell(r.Township), textCell(site)
	cells[6], cells[7], cells[8] = textCell(r.Category), textCell(r.Severity), textCell(r.Description)
	cells[9], cells[10], cells[11] = textCell(r.ResponsibleUnit), textCell(r.ResponsiblePerson), dateCell(r.Deadline)
	cells[12], cells[13], cells[14] = textCell(r.Status), textCell(it.Light), intCell(it.DaysOverdue)
	cells[15], cells[16] = timeCell(&r.CreatedAt), timeCell(r.ClosedAt)
}

// exportFindings streams the finding report as CSV or XLSX (the query opened before the body
// starts, as exportVisits).
func (s *Server) exportFindings(c *fiber.Ctx, f storage.FindingReportFilter, format string, now time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
	exp, err := s.store.ExportFindings(ctx, f)
	if err != nil {
		cancel()
		return err
	}
	s.streamExport(c, "findings", format, func(w io.Writer) error {
		defer cancel()
		defer exp.Close()
		tw, err := newTable(format, w, "Findings", findingColumns)
		if err != nil {
			return err
		}
		cells := make([]reportCell, len(findingColumns))
		for {
			batch, err := exp.Next(ctx)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				return tw.close()
			}
			for i := range batch {
				it := newFindingReportItem(&batch[i], now)
				findingCells(&it, &batch[i], cells)
				if err := tw.row(cells); err != nil {
					return err
				}
			}
		}
	})
	return nil
}

// findingUnit is one responsible unit's counts (group=unit).
type findingUnit struct {
	ResponsibleUnit string `json:"responsible_unit"`
	Findings        int    `json:"findings"`
	Open            int    `json:"open"`
	Overdue         int    `json:"overdue"`
	Yellow          int    `json:"yellow"`
	Green           int    `json:"green"`
	Closed          int    `json:"closed"`
	MaxDaysOverdue  int    `json:"max_days_overdue"`
}

var findingUnitColumns = []reportColumn{
	{"责任单位", "Responsible unit", colText, 30},
	{"问题数", "Findings", colInt, 8},
	{"未销号", "Open", colInt, 8},
	{"逾期", "Overdue", colInt, 8},
	{"临期(黄灯)", "Yellow", colInt, 10},
	{"正常(绿灯)", "Green", colInt, 10},
	{"已销号", "Closed", colInt, 8},
	{"最长逾期天数", "Most days overdue", colInt, 12},
}

// reportFindingUnits answers group=unit: per responsible unit, the findings matching the filters
// counted by light; the units with the most overdue findings first.
func (s *Server) reportFindingUnits(c *fiber.Ctx, f storage.FindingReportFilter, format string) error {
	rows, err := s.store.ReportFindingUnits(c.UserContext(), f)
	if err != nil {
		return err
	}
	units := make([]findingUnit, len(rows))
	for i, r := range rows {
		units[i] = findingUnit{ResponsibleUnit: r.Unit, Findings: r.Findings, Open: r.Open, Overdue: r.Overdue,
			Yellow: r.Yellow, Green: r.Green, Closed: r.Closed, MaxDaysOverdue: r.MaxDaysOverdue}
	}
	if format == formatJSON {
		return c.JSON(fiber.Map{"units": units})
	}
	s.streamExport(c, "findings-by-unit", format, func(w io.Writer) error {
		tw, err := newTable(format, w, "Units", findingUnitColumns)
		if err != nil {
			return err
		}
		cells := make([]reportCell, len(findingUnitColumns))
		for _, u := range units {
			cells[0], cells[1], cells[2], cells[3] = textCell(u.ResponsibleUnit), intCell(u.Findings), intCell(u.Open), intCell(u.Overdue)
			cells[4], cells[5], cells[6], cells[7] = intCell(u.Yellow), intCell(u.Green), intCell(u.Closed), intCell(u.MaxDaysOverdue)
			if err := tw.row(cells); err != nil {
				return err
			}
		}
		return tw.close()
	})
	return nil
}
