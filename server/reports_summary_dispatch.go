package server

import (
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
)

// dispatchListLimit caps each list of the dispatch report (a truncated list says so).
const dispatchListLimit = 5000

// dispatchMonth reads ?month=YYYY-MM (default this month, CST); a month after this one is a 422.
func dispatchMonth(q *query, today time.Time) (from, to time.Time, err error) {
	v := q.get("month")
	if v == "" {
		v = today.Format("2006-01")
	}
	m, perr := time.ParseInLocation("2006-01", v, models.ChinaStandardTime)
	if perr != nil || len(v) != 7 || m.Year() < 2000 {
		return from, to, errParam("month", "must be a month, YYYY-MM (e.g. 2026-04).")
	}
	if m.After(today) {
		var ve models.ValidationError
		ve.Add("month", "out_of_range", "%s has not begun; the latest month is %s", v, today.Format("2006-01"))
		return from, to, &ve
	}
	return m, m.AddDate(0, 1, -1), nil
}

// dispatchReport is GET /v1/reports/dispatch: the summary of the month, the findings overdue
// today and the projects without a visit in the month, as JSON, XLSX or PDF.
func (s *Server) dispatchReport(c *fiber.Ctx) error {
	q, err := readQuery(c, "month", "region", "format")
	if err != nil {
		return err
	}
	format := q.get("format")
	switch format {
	case "":
		format = formatJSON
	case formatJSON, formatXLSX, "pdf":
	default:
		return errParam("format", "must be json, xlsx or pdf.")
	}
	region, err := s.summaryRegion(c, q)
	if err != nil {
		return err
	}
	today := summaryToday(time.Now())
	from, to, err := dispatchMonth(q, today)
	if err != nil {
		return err
	}
	if format == "pdf" { // fail before the work when the font is missing
		if _, err := s.pdfFontData(); err != nil {
			return err
		}
	}
	by := models.LevelTownship
	if region.Level == models.LevelCity {
		by = models.LevelCounty
	}
	sum, err := s.summaryFor(c, region, by, from, to, today)
	if err != nil {
		return err
	}
	sc := principal(c).Scope
	out := render.Dispatch{Month: from.Format("2006-01"), Summary: sum, ProjectsWithoutVisit: []storage.ProjectWithoutVisit{},
		ListLimit: dispatchListLimit}
	ctx := c.UserContext()
	out.OverdueFindings, out.OverdueTruncated, err = s.store.OverdueFindings(ctx, region.Path, sc.Kinds, today, dispatchListLimit)
	if err != nil {
		return err
	}
	if sc.CoversKind(models.KindProjectVisit) {
		out.ProjectsWithoutVisit, out.ProjectsTruncated, err = s.store.ProjectsWithoutVisit(ctx, region.Path, from, to, dispatchListLimit)
		if err != nil {
			return err
		}
	}
	name := fmt.Sprintf("%s%s月调度", region.Name, from.Format("2006年01"))
	switch format {
	case formatXLSX:
		data, err := render.DispatchXLSX(&out)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		c.Set(fiber.HeaderContentDisposition, attachmentName(name+".xlsx"))
		return c.Send(data)
	case "pdf":
		d, err := s.newPDF(true, name)
		if err != nil {
			return err
		}
		render.DispatchPDF(d, &out, region)
		return sendPDF(c, d, name+".pdf")
	}
	return c.JSON(out)
}
