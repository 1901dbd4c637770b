package server

import (
	"bytes"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"
)

// dispatchListLimit caps each list of the dispatch report (a truncated list says so).
const dispatchListLimit = 5000

// dispatchResponse is GET /v1/reports/dispatch (JSON).
type dispatchResponse struct {
	Month                string                        `json:"month"`
	Summary              summaryResponse               `json:"summary"`
	OverdueFindings      []storage.OverdueFinding      `json:"overdue_findings"`
	OverdueTruncated     bool                          `json:"overdue_findings_truncated"`
	ProjectsWithoutVisit []storage.ProjectWithoutVisit `json:"projects_without_visit"`
	ProjectsTruncated    bool                          `json:"projects_without_visit_truncated"`
}

// dispatchMonth reads ?month=YYYY-MM (default this month, CST); a month after this one is a 422.
func dispatchMonth(c *fiber.Ctx, today time.Time) (from, to time.Time, err error) {
	v := c.Query("month")
	if v == "" {
		v = today.Format("2006-01")
	}
	m, perr := time.ParseInLocation("2006-01", v, models.ChinaStandardTime)
	if perr != nil || len(v) != 7 || m.Year() < 2000 {
		return from, to, summaryParam("month", "must be a month, YYYY-MM (e.g. 2026-04).")
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
	if err := summaryOnlyQuery(c, "month", "region", "format"); err != nil {
		return err
	}
	format := c.Query("format", formatJSON)
	if format != formatJSON && format != formatXLSX && format != "pdf" {
		return summaryParam("format", "must be json, xlsx or pdf.")
	}
	region, err := s.summaryRegion(c)
	if err != nil {
		return err
	}
	today := summaryToday(time.Now())
	from, to, err := dispatchMonth(c, today)
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
	out := dispatchResponse{Month: from.Format("2006-01"), Summary: sum, ProjectsWithoutVisit: []storage.ProjectWithoutVisit{}}
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
		data, err := dispatchXLSX(&out)
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
		dispatchPDF(d, &out, region)
		return sendPDF(c, d, name+".pdf")
	}
	return c.JSON(out)
}

// dispatchXLSX writes the dispatch as a workbook of three sheets: 汇总 (the summary, total last),
// 逾期问题 (overdue findings) and 未督查项目 (projects without a visit); headers in Chinese and English.
func dispatchXLSX(out *dispatchResponse) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const summarySheet, overdueSheet, projectSheet = "汇总", "逾期问题", "未督查项目"
	if err := f.SetSheetName("Sheet1", summarySheet); err != nil {
		return nil, err
	}
	for _, n := range []string{overdueSheet, projectSheet} {
		if _, err := f.NewSheet(n); err != nil {
			return nil, err
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	write := func(sheet string, row int, vals []any) error {
		cell, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		return f.SetSheetRow(sheet, cell, &vals)
	}
	header := func(sheet string, zh, en []string) error {
		z, e := make([]any, len(zh)), make([]any, len(en))
		for i := range zh {
			z[i], e[i] = zh[i], en[i]
		}
		if err := write(sheet, 1, z); err != nil {
			return err
		}
		if err := write(sheet, 2, e); err != nil {
			return err
		}
		last, _ := excelize.CoordinatesToCellName(len(zh), 2)
		return f.SetCellStyle(sheet, "A1", last, bold)
	}

	cols := summaryColumns(out.Summary.Kinds)
	zh, en := make([]string, len(cols)), make([]string, len(cols))
	for i, c := range cols {
		zh[i], en[i] = c.zh, c.en
	}
	if err := header(summarySheet, zh, en); err != nil {
		return nil, err
	}
	rows := append(append([]*storage.SummaryRow{}, out.Summary.Rows...), out.Summary.Total)
	for i, r := range rows {
		vals := make([]any, len(cols))
		for j, c := range cols {
			vals[j] = c.value(r)
		}
		if i == len(rows)-1 {
			vals[0] = "合计 " + r.Region.Name
		}
		if err := write(summarySheet, i+3, vals); err != nil {
			return nil, err
		}
	}

	if err := header(overdueSheet,
		[]string{"县(市)区", "乡镇", "地点", "类别", "等级", "问题描述", "责任单位", "责任人", "整改期限", "逾期天数", "状态", "发现日期", "问题编号"},
		[]string{"County", "Township", "Site", "Category", "Severity", "Description", "Responsible unit", "Responsible person",
			"Deadline", "Days overdue", "Status", "Recorded on", "Finding id"}); err != nil {
		return nil, err
	}
	for i, o := range out.OverdueFindings {
		deadline, _ := time.Parse(time.DateOnly, o.Deadline)
		recorded, _ := time.Parse(time.DateOnly, o.RecordedOn)
		if err := write(overdueSheet, i+3, []any{o.Place.County, o.Place.Township, o.Site, o.Category,
			label(severityLabels, o.Severity), o.Description, o.ResponsibleUnit, o.ResponsiblePerson, deadline, o.DaysOverdue,
			label(findingStatusLabels, o.Status), recorded, o.ID.String()}); err != nil {
			return nil, err
		}
	}
	if err := header(projectSheet,
		[]string{"县(市)区", "乡镇", "项目名称", "项目阶段", "责任领导", "牵头单位", "最近督查日期", "项目编号"},
		[]string{"County", "Township", "Project", "Stage", "Responsible leader", "Lead unit", "Last visit", "Project id"}); err != nil {
		return nil, err
	}
	for i, p := range out.ProjectsWithoutVisit {
		var last any = ""
		if p.LastVisit != nil {
			last, _ = time.Parse(time.DateOnly, *p.LastVisit)
		}
		if err := write(projectSheet, i+3, []any{p.Place.County, p.Place.Township, p.Name, label(stageLabels, p.Stage),
			p.ResponsibleLeader, p.LeadUnit, last, p.ID.String()}); err != nil {
			return nil, err
		}
	}
	dates, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // m/d/yy in the reader's locale: a real date cell
	if err != nil {
		return nil, err
	}
	for _, c := range []struct{ sheet, col string }{{overdueSheet, "I"}, {overdueSheet, "L"}, {projectSheet, "G"}} {
		if err := f.SetColStyle(c.sheet, c.col, dates); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// dispatchPDF typesets the dispatch report (landscape A4).
func dispatchPDF(d *pdfDoc, out *dispatchResponse, region models.Region) {
	month, _ := time.Parse("2006-01", out.Month)
	d.text(fmt.Sprintf("%s %s 每月调度报告", region.Name, month.Format("2006年1月")), 18, 0)
	d.text(fmt.Sprintf("统计期间 %s 至 %s；逾期按 %s 计；生成于 %s", out.Summary.From, out.Summary.To, out.Summary.AsOf,
		time.Now().In(models.ChinaStandardTime).Format("2006-01-02 15:04")), 9, 0)

	d.heading("一、工作汇总", 13)
	cols := summaryColumns(out.Summary.Kinds)
	var header []string
	var widths []float64
	var picked []summaryColumn
	for _, c := range cols {
		if c.pdf {
			picked = append(picked, c)
			header = append(header, c.zh)
			w := 1.0
			if c.zh == "地区" {
				w = 2
			}
			widths = append(widths, w)
		}
	}
	var rows [][]string
	for _, r := range append(append([]*storage.SummaryRow{}, out.Summary.Rows...), out.Summary.Total) {
		cells := make([]string, len(picked))
		for i, c := range picked {
			switch v := c.value(r).(type) {
			case float64:
				cells[i] = fmt.Sprintf("%.1f", v)
			default:
				cells[i] = fmt.Sprint(v)
			}
		}
		if r == out.Summary.Total {
			cells[0] = "合计"
		}
		rows = append(rows, cells)
	}
	d.table(header, widths, rows, 8)

	d.heading(fmt.Sprintf("二、逾期未整改问题（%d 条%s）", len(out.OverdueFindings), truncatedNote(out.OverdueTruncated)), 13)
	rows = rows[:0]
	for i, o := range out.OverdueFindings {
		rows = append(rows, []string{fmt.Sprint(i + 1), o.Place.County + " " + o.Place.Township, o.Site,
			label(severityLabels, o.Severity), o.Description, o.ResponsibleUnit, o.Deadline, fmt.Sprint(o.DaysOverdue),
			label(findingStatusLabels, o.Status)})
	}
	d.table([]string{"序号", "地区", "地点", "等级", "问题", "责任单位", "整改期限", "逾期天数", "状态"},
		[]float64{0.5, 2, 2, 0.6, 4, 2, 1.1, 0.8, 0.9}, rows, 8)

	d.heading(fmt.Sprintf("三、本月未督查的重点项目（%d 个%s）", len(out.ProjectsWithoutVisit), truncatedNote(out.ProjectsTruncated)), 13)
	rows = rows[:0]
	for i, p := range out.ProjectsWithoutVisit {
		last := "从未督查"
		if p.LastVisit != nil {
			last = *p.LastVisit
		}
		rows = append(rows, []string{fmt.Sprint(i + 1), p.Place.County + " " + p.Place.Township, p.Name,
			label(stageLabels, p.Stage), p.ResponsibleLeader, p.LeadUnit, last})
	}
	d.table([]string{"序号", "地区", "项目名称", "阶段", "责任领导", "牵头单位", "最近督查"},
		[]float64{0.5, 2, 4, 0.8, 1.2, 2, 1.2}, rows, 8)
}

func truncatedNote(t bool) string {
	if t {
		return fmt.Sprintf("，仅列前 %d 条", dispatchListLimit)
	}
	return ""
}
