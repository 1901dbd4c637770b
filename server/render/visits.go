package render

import (
	"strings"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// PhotoLink is a photo of a report row with the paths that serve its bytes.
type PhotoLink struct {
	ID           uuid.UUID `json:"id"`
	URL          string    `json:"url"`
	ThumbnailURL string    `json:"thumbnail_url"`
}

// VisitItem is one row of the JSON visit report. Times are China Standard Time.
type VisitItem struct {
	ID              uuid.UUID     `json:"id"`
	Kind            models.Kind   `json:"kind"`
	Status          string        `json:"status"`
	SiteID          *uuid.UUID    `json:"site_id"`
	SiteName        *string       `json:"site_name"`
	RegionID        *uuid.UUID    `json:"region_id"`
	County          *string       `json:"county"`
	Township        *string       `json:"township"`
	InspectorID     *uuid.UUID    `json:"inspector_id"`
	InspectorName   *string       `json:"inspector_name"`
	StartedAt       *string       `json:"started_at"`
	EndedAt         *string       `json:"ended_at"`
	Position        *models.Point `json:"position"`
	Findings        int           `json:"findings"`
	OverdueFindings int           `json:"overdue_findings"`
	Location        *string       `json:"location"`
	PhotoCount      int           `json:"photo_count"`
	Photos          []PhotoLink   `json:"photos"`
}

// NewVisitItem makes the JSON row of a visit.
func NewVisitItem(r *storage.VisitReportRow) VisitItem {
	it := VisitItem{ID: r.ID, Kind: r.Kind, Status: r.Status, SiteID: r.SiteID, RegionID: r.RegionID,
		County: strOrNil(r.County), Township: strOrNil(r.Township), InspectorID: r.InspectorID,
		InspectorName: strOrNil(r.Inspector), StartedAt: cstTime(r.StartedAt), EndedAt: cstTime(r.EndedAt),
		Findings: r.Findings, OverdueFindings: r.Overdue, Location: strOrNil(r.Location),
		PhotoCount: len(r.PhotoIDs), Photos: make([]PhotoLink, len(r.PhotoIDs))}
	if r.SiteID != nil {
		it.SiteName = &r.Site.Name
	}
	if r.Lat != nil && r.Lon != nil {
		it.Position = &models.Point{Lat: *r.Lat, Lon: *r.Lon}
	}
	for i, id := range r.PhotoIDs {
		it.Photos[i] = PhotoLink{ID: id, URL: PhotoURL(id), ThumbnailURL: ThumbnailURL(id)}
	}
	return it
}

// VisitColumns are the columns of the visit export.
var VisitColumns = []Column{
	{"走访编号", "Visit ID", ColText, 38},
	{"工作类型", "Kind", ColText, 18},
	{"状态", "Status", ColText, 10},
	{"现场编号", "Site ID", ColText, 38},
	{"现场名称", "Site", ColText, 30},
	{"县(市)区", "County", ColText, 12},
	{"乡镇", "Township", ColText, 12},
	{"检查人编号", "Inspector ID", ColText, 38},
	{"检查人", "Inspector", ColText, 10},
	{"走访时间", "Started at", ColTime, 20},
	{"结束时间", "Ended at", ColTime, 20},
	{"问题数", "Findings", ColInt, 8},
	{"逾期问题数", "Overdue findings", ColInt, 8},
	{"位置核验", "Location check", ColText, 10},
	{"照片数", "Photos", ColInt, 8},
	{"照片链接", "Photo links", ColText, 60},
	{"缩略图链接", "Thumbnail links", ColText, 60},
}

// VisitCells fills cells (len(VisitColumns) of them) with a visit's row.
func VisitCells(r *storage.VisitReportRow, cells []Cell) {
	links := func(f func(uuid.UUID) string) string {
		parts := make([]string, len(r.PhotoIDs))
		for i, id := range r.PhotoIDs {
			parts[i] = f(id)
		}
		return strings.Join(parts, " ")
	}
	site := ""
	if r.SiteID != nil {
		site = r.Site.Name
	}
	cells[0], cells[1], cells[2] = Text(r.ID.String()), Text(string(r.Kind)), Text(r.Status)
	cells[3], cells[4], cells[5], cells[6] = Text(uuidText(r.SiteID)), Text(site), Text(r.County), Text(r.Township)
	cells[7], cells[8] = Text(uuidText(r.InspectorID)), Text(r.Inspector)
	cells[9], cells[10] = Time(r.StartedAt), Time(r.EndedAt)
	cells[11], cells[12], cells[13] = Int(r.Findings), Int(r.Overdue), Text(r.Location)
	cells[14], cells[15], cells[16] = Int(len(r.PhotoIDs)), Text(links(PhotoURL)), Text(links(ThumbnailURL))
}
