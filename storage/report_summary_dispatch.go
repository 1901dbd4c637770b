package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// The lists of the monthly dispatch report (每月调度): the findings overdue today and the key
// projects nobody visited in the month.

// DispatchPlace names where a finding or project is: its own region, county and township.
type DispatchPlace struct {
	Region   string `json:"region"`
	County   string `json:"county"`
	Township string `json:"township"`
}

// OverdueFinding is one line of the dispatch's overdue list.
type OverdueFinding struct {
	ID                uuid.UUID     `json:"id"`
	VisitID           uuid.UUID     `json:"visit_id"`
	Kind              models.Kind   `json:"kind"`
	Place             DispatchPlace `json:"place"`
	Site              string        `json:"site"`
	Category          string        `json:"category"`
	Severity          string        `json:"severity"`
	Description       string        `json:"description"`
	ResponsibleUnit   string        `json:"responsible_unit"`
	ResponsiblePerson string        `json:"responsible_person"`
	Status            string        `json:"status"`
	Deadline          string        `json:"deadline"`
	DaysOverdue       int           `json:"days_overdue"`
	RecordedOn        string        `json:"recorded_on"`
}

// ProjectWithoutVisit is one line of the dispatch's list of projects not visited in the month.
type ProjectWithoutVisit struct {
	ID                uuid.UUID     `json:"id"`
	Name              string        `json:"name"`
	Place             DispatchPlace `json:"place"`
	Stage             string        `json:"stage"`
	ResponsibleLeader string        `json:"responsible_leader"`
	LeadUnit          string        `json:"lead_unit"`
	LastVisit         *string       `json:"last_visit"` // CST date of the last submitted visit before the month's end
}

// placeJoins resolves the county and township names of the regions row reg.
const placeJoins = `
	LEFT JOIN regions cty ON cty.id = report_uuid(NULLIF(split_part(reg.path, '/', 3), ''))
	LEFT JOIN regions twn ON twn.id = report_uuid(NULLIF(split_part(reg.path, '/', 4), ''))`

// OverdueFindings lists the live findings of kinds (empty = all) under regionPath that are not
// closed and whose deadline is before today (CST), most overdue first; at most limit of them, and
// whether there were more.
func (s *Store) OverdueFindings(ctx context.Context, regionPath string, kinds []models.Kind, today time.Time, limit int) ([]OverdueFinding, bool, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT f.id, r.parent_id, r.kind, reg.name, COALESCE(cty.name, ''), COALESCE(twn.name, ''),
			COALESCE(site.data->>'name', ''), COALESCE(r.data->>'category', ''), COALESCE(r.data->>'severity', ''),
			COALESCE(r.data->>'description', ''), COALESCE(r.data->>'responsible_unit', ''),
			COALESCE(r.data->>'responsible_person', ''), r.status, f.deadline::text, $3::date - f.deadline, f.day::text
		FROM report_findings f
		JOIN records r ON r.type = 'finding' AND r.id = f.id
		JOIN regions reg ON reg.id = f.region_id`+placeJoins+`
		LEFT JOIN records v ON v.type = 'visit' AND v.id = r.parent_id
		LEFT JOIN records site ON site.type = 'site' AND site.id = report_uuid(v.data->>'site_id')
		WHERE f.fstatus <> 4 AND f.deadline < $3 AND reg.path LIKE $1 AND f.kind = ANY($2::smallint[])
		ORDER BY f.deadline, reg.code, f.id LIMIT $4`,
		likePrefix(regionPath), kindCodeList(kinds), dateOnly(today), limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("storage: overdue findings: %w", classify(err))
	}
	defer rows.Close()
	out := []OverdueFinding{}
	for rows.Next() {
		var o OverdueFinding
		var parent uuid.NullUUID
		var kind string
		if err := rows.Scan(&o.ID, &parent, &kind, &o.Place.Region, &o.Place.County, &o.Place.Township, &o.Site,
			&o.Category, &o.Severity, &o.Description, &o.ResponsibleUnit, &o.ResponsiblePerson, &o.Status,
			&o.Deadline, &o.DaysOverdue, &o.RecordedOn); err != nil {
			return nil, false, fmt.Errorf("storage: overdue findings: %w", classify(err))
		}
		o.VisitID, o.Kind = parent.UUID, models.Kind(kind)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("storage: overdue findings: %w", classify(err))
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// ProjectsWithoutVisit lists the live project sites under regionPath without a submitted project
// visit on the CST dates from..to, by region code and name; at most limit, and whether there were more.
func (s *Store) ProjectsWithoutVisit(ctx context.Context, regionPath string, from, to time.Time, limit int) ([]ProjectWithoutVisit, bool, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT s.id, COALESCE(s.data->>'name', ''), reg.name, COALESCE(cty.name, ''),
			COALESCE(twn.name, ''), COALESCE(s.data->>'stage', ''), COALESCE(s.data->>'responsible_leader', ''),
			COALESCE(s.data->>'lead_unit', ''),
			(SELECT max(v.day)::text FROM report_visits v WHERE v.site_id = s.id AND v.kind = 1 AND v.day <= $3)
		FROM records s
		JOIN regions reg ON reg.id = s.region_id`+placeJoins+`
		WHERE s.type = 'site' AND s.deleted_at IS NULL AND s.kind = 'project_visit' AND reg.path LIKE $1
		  AND NOT EXISTS (SELECT 1 FROM report_visits v WHERE v.site_id = s.id AND v.kind = 1 AND v.day BETWEEN $2 AND $3)
		ORDER BY reg.code, s.data->>'name', s.id LIMIT $4`,
		likePrefix(regionPath), dateOnly(from), dateOnly(to), limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("storage: projects without visit: %w", classify(err))
	}
	defer rows.Close()
	out := []ProjectWithoutVisit{}
	for rows.Next() {
		var p ProjectWithoutVisit
		if err := rows.Scan(&p.ID, &p.Name, &p.Place.Region, &p.Place.County, &p.Place.Township, &p.Stage,
			&p.ResponsibleLeader, &p.LeadUnit, &p.LastVisit); err != nil {
			return nil, false, fmt.Errorf("storage: projects without visit: %w", classify(err))
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("storage: projects without visit: %w", classify(err))
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}
