package render

import (
	"bytes"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/xuri/excelize/v2"
)

// Dispatch is the monthly dispatch report (GET /v1/reports/dispatch): the month's summary, the
// findings overdue today and the projects without a visit in the month. ListLimit is the cap of
// each list (a truncated list says so).
type Dispatch struct {
	Month                string                        `json:"month"`
	Summary              Summary                       `json:"summary"`
	OverdueFindings      []storage.OverdueFinding      `json:"overdue_findings"`
	OverdueTruncated     bool                          `json:"overdue_findings_truncated"`
	ProjectsWithoutVisit []storage.ProjectWithoutVisit `json:"projects_without_visit"`
	ProjectsTruncated    bool                          `json:"projects_without_visit_truncated"`
	ListLimit            int                           `json:"-"`
}

// DispatchXLSX writes the dispatch as a workbook of three sheets: 汇总 (the summary, total last),
// 逾期问题 (overdue findings) and 未督查项目 (projects without a visit); headers in Chinese and English.
// Text is written as strings (never formulas), defused as in the other exports.
func DispatchXLSX(out *Dispatch) ([]byte, error) {
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
		for i, v := range vals {
			if s, ok := v.(string); ok {
				vals[i] = DefuseFormula(s)
			}
		}
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

// DispatchPDF typesets the dispatch report (landscape A4).
func DispatchPDF(d *PDF, out *Dispatch, region models.Region) {
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

	d.heading(fmt.Sprintf("二、逾期未整改问题（%d 条%s）", len(out.OverdueFindings), truncatedNote(out.OverdueTruncated, out.ListLimit)), 13)
	rows = rows[:0]
	for i, o := range out.OverdueFindings {
		rows = append(rows, []string{fmt.Sprint(i + 1), o.Place.County + " " + o.Place.Township, o.Site,
			label(severityLabels, o.Severity), o.Description, o.ResponsibleUnit, o.Deadline, fmt.Sprint(o.DaysOverdue),
			label(findingStatusLabels, o.Status)})
	}
	d.table([]string{"序号", "地区", "地点", "等级", "问题", "责任单位", "整改期限", "逾期天数", "状态"},
		[]float64{0.5, 2, 2, 0.6, 4, 2, 1.1, 0.8, 0.9}, rows, 8)

	d.heading(fmt.Sprintf("三、本月未督查的重点项目（%d 个%s）", len(out.ProjectsWithoutVisit), truncatedNote(out.ProjectsTruncated, out.ListLimit)), 13)
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

func truncatedNote(t bool, limit int) string {
	if t {
		return fmt.Sprintf("，仅列前 %d 条", limit)
	}
	return ""
}
