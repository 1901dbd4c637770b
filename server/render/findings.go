package render

import (
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// FindingItem is one row of the JSON finding report. Light, overdue and days_overdue are
// computed at the request (models.DeadlineLight), not read from the record's snapshot.
type FindingItem struct {
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

// DaysOverdue counts the calendar days in China Standard Time since a finding fell due (the day
// after its deadline is 1); 0 when it is not overdue.
func DaysOverdue(deadline string, overdue bool, now time.Time) int {
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

// NewFindingItem makes the JSON row of a finding as of now.
func NewFindingItem(r *storage.FindingReportRow, now time.Time) FindingItem {
	light, overdue := models.DeadlineLight(r.Deadline, r.Status, now)
	it := FindingItem{ID: r.ID, VisitID: r.VisitID, Kind: r.Kind, Status: r.Status, Severity: r.Severity,
		Category: r.Category, Description: r.Description, ResponsibleUnit: r.ResponsibleUnit,
		ResponsiblePerson: r.ResponsiblePerson, Deadline: r.Deadline, Light: light, Overdue: overdue,
		DaysOverdue: DaysOverdue(r.Deadline, overdue, now), SiteID: r.SiteID, RegionID: r.RegionID,
		County: strOrNil(r.County), Township: strOrNil(r.Township), CreatedAt: *cstTime(&r.CreatedAt),
		ClosedAt: cstTime(r.ClosedAt)}
	if r.SiteID != nil {
		it.SiteName = &r.Site.Name
	}
	return it
}

// FindingColumns are the columns of the finding export.
var FindingColumns = []Column{
	{"问题编号", "Finding ID", ColText, 38},
	{"走访编号", "Visit ID", ColText, 38},
	{"工作类型", "Kind", ColText, 18},
	{"县(市)区", "County", ColText, 12},
	{"乡镇", "Township", ColText, 12},
	{"现场名称", "Site", ColText, 30},
	{"问题类别", "Category", ColText, 14},
	{"严重程度", "Severity", ColText, 10},
	{"问题描述", "Description", ColText, 50},
	{"责任单位", "Responsible unit", ColText, 24},
	{"责任人", "Responsible person", ColText, 10},
	{"整改期限", "Deadline", ColDate, 12},
	{"状态", "Status", ColText, 16},
	{"期限灯", "Deadline light", ColText, 8},
	{"逾期天数", "Days overdue", ColInt, 8},
	{"发现时间", "Found at", ColTime, 20},
	{"销号时间", "Closed at", ColTime, 20},
}

// FindingCells fills cells (len(FindingColumns) of them) with a finding's row; it is the row's
// JSON item (for the light and days overdue as of the request).
func FindingCells(it *FindingItem, r *storage.FindingReportRow, cells []Cell) {
	site := ""
	if r.SiteID != nil {
		site = r.Site.Name
	}
	cells[0], cells[1], cells[2] = Text(r.ID.String()), Text(uuidText(r.VisitID)), Text(string(r.Kind))
	cells[3], cells[4], cells[5] = Text(r.County), Text(r.Township), Text(site)
	cells[6], cells[7], cells[8] = Text(r.Category), Text(r.Severity), Text(r.Description)
	cells[9], cells[10], cells[11] = Text(r.ResponsibleUnit), Text(r.ResponsiblePerson), Date(r.Deadline)
	cells[12], cells[13], cells[14] = Text(r.Status), Text(it.Light), Int(it.DaysOverdue)
	cells[15], cells[16] = Time(&r.CreatedAt), Time(r.ClosedAt)
}

// FindingUnit is one responsible unit's counts (the finding report's group=unit).
type FindingUnit struct {
	ResponsibleUnit string `json:"responsible_unit"`
	Findings        int    `json:"findings"`
	Open            int    `json:"open"`
	Overdue         int    `json:"overdue"`
	Yellow          int    `json:"yellow"`
	Green           int    `json:"green"`
	Closed          int    `json:"closed"`
	MaxDaysOverdue  int    `json:"max_days_overdue"`
}

// NewFindingUnit makes a unit's counts from its storage row.
func NewFindingUnit(r storage.FindingUnitRow) FindingUnit {
	return FindingUnit{ResponsibleUnit: r.Unit, Findings: r.Findings, Open: r.Open, Overdue: r.Overdue,
		Yellow: r.Yellow, Green: r.Green, Closed: r.Closed, MaxDaysOverdue: r.MaxDaysOverdue}
}

// FindingUnitColumns are the columns of the per-unit export.
var FindingUnitColumns = []Column{
	{"责任单位", "Responsible unit", ColText, 30},
	{"问题数", "Findings", ColInt, 8},
	{"未销号", "Open", ColInt, 8},
	{"逾期", "Overdue", ColInt, 8},
	{"临期(黄灯)", "Yellow", ColInt, 10},
	{"正常(绿灯)", "Green", ColInt, 10},
	{"已销号", "Closed", ColInt, 8},
	{"最长逾期天数", "Most days overdue", ColInt, 12},
}

// FindingUnitCells fills cells (len(FindingUnitColumns) of them) with a unit's counts.
func FindingUnitCells(u *FindingUnit, cells []Cell) {
	cells[0], cells[1], cells[2], cells[3] = Text(u.ResponsibleUnit), Int(u.Findings), Int(u.Open), Int(u.Overdue)
	cells[4], cells[5], cells[6], cells[7] = Int(u.Yellow), Int(u.Green), Int(u.Closed), Int(u.MaxDaysOverdue)
}
