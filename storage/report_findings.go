package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// FindingReportFilter narrows the finding report. Scope always applies.
type FindingReportFilter struct {
	Scope      models.Scope
	RegionPath string // a subtree inside the scope ("" = the whole scope)
	Kind       models.Kind
	Severity   string
	Status     string
	Light      string // red | yellow | green | none (models.DeadlineLight at Today)
	Unit       string // responsible unit, exactly
	Overdue    *bool
	// Today is today's date in China Standard Time (YYYY-MM-DD); the lights are computed for it.
	Today string
	After *FindingKey
	Limit int
}

// FindingKey is a finding's place in the report order: open ones before closed ones, then by
// deadline (the most overdue first), then id.
type FindingKey struct {
	Closed   bool
	Deadline string
	ID       uuid.UUID
}

// FindingReportRow is one finding of the report, with names resolved.
type FindingReportRow struct {
	ID                uuid.UUID
	VisitID           *uuid.UUID
	Kind              models.Kind
	Status            string
	Severity          string
	Category          string
	Description       string
	ResponsibleUnit   string
	ResponsiblePerson string
	Deadline          string
	CreatedAt         time.Time
	ClosedAt          *time.Time
	RegionID          *uuid.UUID
	CountyID          *uuid.UUID
	County            string
	TownshipID        *uuid.UUID
	Township          string
	SiteID            *uuid.UUID
	Site              ReportSite
	Key               FindingKey
}

// lightParams adds today and today + YellowDays as query parameters when first used (PostgreSQL
// cannot type a parameter no one uses).
type lightParams struct {
	a           *sqlArgs
	day         string // today in China Standard Time, YYYY-MM-DD
	today, soon string
}

func (p *lightParams) todayP() string {
	if p.today == "" {
		p.today = p.a.add(p.day)
	}
	return p.today
}

func (p *lightParams) soonP() string {
	if p.soon == "" {
		t, err := time.Parse(time.DateOnly, p.day)
		if err != nil {
			t = time.Now().In(models.ChinaStandardTime)
		}
		p.soon = p.a.add(t.AddDate(0, 0, models.YellowDays).Format(time.DateOnly))
	}
	return p.soon
}

// lightSQL is the SQL twin of models.DeadlineLight for one light, for the finding aliased r.
func (p *lightParams) lightSQL(light string) string {
	d := `r.data->>'deadline'`
	readable := d + ` ~ '^\d{4}-\d\d-\d\d$'`
	switch light {
	case models.LightRed:
		return `(r.status <> 'closed' AND ` + readable + ` AND ` + d + ` < ` + p.todayP() + `)`
	case models.LightYellow:
		return `(r.status <> 'closed' AND ` + readable + ` AND ` + d + ` >= ` + p.todayP() + ` AND ` + d + ` <= ` + p.soonP() + `)`
	case models.LightGreen:
		return `(r.status <> 'closed' AND ` + readable + ` AND ` + d + ` > ` + p.soonP() + `)`
	}
	return `(r.status = 'closed' OR ` + d + ` IS NULL OR NOT ` + readable + `)`
}

// findingWhere builds the WHERE clause shared by the list and the per-unit counts.
func findingWhere(f FindingReportFilter, a *sqlArgs) (w *reportWhere, lights *lightParams) {
	lights = &lightParams{a: a, day: f.Today}
	w = newReportWhere(a, reportScope{Type: models.TypeFinding, Scope: f.Scope, RegionPath: f.RegionPath, Kind: f.Kind,
		Status: f.Status})
	if f.Severity != "" {
		w.eq(`r.data->>'severity'`, f.Severity)
	}
	if f.Light != "" {
		w.add(lights.lightSQL(f.Light))
	}
	if f.Unit != "" {
		w.eq(`r.data->>'responsible_unit'`, f.Unit)
	}
	if f.Overdue != nil {
		red := lights.lightSQL(models.LightRed)
		if !*f.Overdue {
			red = "NOT " + red
		}
		w.add(red)
	}
	return w, lights
}

// findingReportQuery builds the report's SELECT (one page, or one batch of an export).
func findingReportQuery(f FindingReportFilter) (string, []any) {
	var a sqlArgs
	w, _ := findingWhere(f, &a)
	if f.After != nil {
		w.add(`((r.status = 'closed'), r.data->>'deadline', r.id) > (` + a.add(f.After.Closed) + `::boolean, ` +
			a.add(f.After.Deadline) + `::text, ` + a.add(f.After.ID.String()) + `::uuid)`)
	}
	q := `SELECT r.id, r.parent_id, r.kind, r.status, r.region_id, r.region_path,
			coalesce(r.data->>'severity', ''), coalesce(r.data->>'category', ''), coalesce(r.data->>'description', ''),
			coalesce(r.data->>'responsible_unit', ''), coalesce(r.data->>'responsible_person', ''),
			coalesce(r.data->>'deadline', ''), r.created_at, r.data->>'closed_at', v.data->>'site_id'
		FROM records r
		LEFT JOIN records v ON v.type = 'visit' AND v.id = r.parent_id
		WHERE ` + w.sql() + `
		ORDER BY (r.status = 'closed'), r.data->>'deadline', r.id
		LIMIT ` + a.add(f.Limit)
	return q, a
}

func scanFindingRow(rows *sql.Rows, r *FindingReportRow) error {
	*r = FindingReportRow{}
	var kind, path string
	var visit, region uuid.NullUUID
	var closed, site sql.NullString
	if err := rows.Scan(&r.ID, &visit, &kind, &r.Status, &region, &path, &r.Severity, &r.Category, &r.Description,
		&r.ResponsibleUnit, &r.ResponsiblePerson, &r.Deadline, &r.CreatedAt, &closed, &site); err != nil {
		return fmt.Errorf("storage: finding report: %w", classify(err))
	}
	r.Kind, r.VisitID, r.RegionID = models.Kind(kind), nullUUID(visit), nullUUID(region)
	r.CountyID, r.TownshipID = regionPathIDs(path)
	r.SiteID = parseNullUUID(site)
	if closed.Valid {
		if t, err := time.Parse(time.RFC3339Nano, closed.String); err == nil {
			r.ClosedAt = &t
		}
	}
	r.Key = FindingKey{Closed: r.Status == models.FindingClosed, Deadline: r.Deadline, ID: r.ID}
	return nil
}

func (s *Store) resolveFindingNames(ctx context.Context, names *reportNames, out []FindingReportRow) error {
	return names.resolve(ctx, s, len(out), func(i int, w *nameWants) {
		r := &out[i]
		names.region(w, r.CountyID)
		names.region(w, r.TownshipID)
		names.site(w, r.SiteID)
	}, func(i int) {
		r := &out[i]
		r.County, r.Township, r.Site = names.regionName(r.CountyID), names.regionName(r.TownshipID), names.siteOf(r.SiteID)
	})
}

// ReportFindings returns one page of the finding report: at most f.Limit rows after f.After.
func (s *Store) ReportFindings(ctx context.Context, f FindingReportFilter) ([]FindingReportRow, error) {
	q, args := findingReportQuery(f)
	rows, err := s.raw(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: finding report: %w", classify(err))
	}
	defer rows.Close()
	var out []FindingReportRow
	for rows.Next() {
		var r FindingReportRow
		if err := scanFindingRow(rows, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: finding report: %w", classify(err))
	}
	return out, s.resolveFindingNames(ctx, newReportNames(), out)
}

// FindingExport is an export of the finding report read in keyset batches, as VisitExport.
type FindingExport struct {
	s       *Store
	f       FindingReportFilter
	names   *reportNames
	left    int // rows still to read when capped; -1 = all
	pending []FindingReportRow
	done    bool
}

// ExportFindings starts an export of every finding matching f (f.After ignored; f.Limit > 0
// caps the rows). It reads the first batch at once, so a failing query shows here.
func (s *Store) ExportFindings(ctx context.Context, f FindingReportFilter) (*FindingExport, error) {
	e := &FindingExport{s: s, f: f, names: newReportNames(), left: -1}
	if f.Limit > 0 {
		e.left = f.Limit
	}
	e.f.After = nil
	first, err := e.read(ctx)
	if err != nil {
		return nil, err
	}
	e.pending = first
	return e, nil
}

func (e *FindingExport) read(ctx context.Context) ([]FindingReportRow, error) {
	if e.done || e.left == 0 {
		return nil, nil
	}
	e.f.Limit = ExportVisitBatch
	if e.left > 0 {
		e.f.Limit = min(e.left, ExportVisitBatch)
	}
	out, err := e.s.ReportFindings(ctx, e.f)
	if err != nil {
		return nil, err
	}
	if len(out) < e.f.Limit {
		e.done = true
	}
	if e.left > 0 {
		e.left -= len(out)
	}
	if len(out) > 0 {
		e.f.After = &out[len(out)-1].Key
	}
	return out, nil
}

// Next returns the next batch of findings, none at the end.
func (e *FindingExport) Next(ctx context.Context) ([]FindingReportRow, error) {
	if e.pending != nil {
		b := e.pending
		e.pending = nil
		return b, nil
	}
	return e.read(ctx)
}

// Close ends the export (nothing is held between batches).
func (e *FindingExport) Close() error { return nil }

// FindingUnitRow counts the findings of one responsible unit.
type FindingUnitRow struct {
	Unit           string
	Findings       int
	Open           int // not closed
	Overdue        int // red
	Yellow, Green  int
	Closed         int
	MaxDaysOverdue int // of its overdue findings; 0 when none is overdue
}

// ReportFindingUnits counts the findings matching f per responsible unit: the units with the
// most overdue findings first, then the most open, then by name.
func (s *Store) ReportFindingUnits(ctx context.Context, f FindingReportFilter) ([]FindingUnitRow, error) {
	var a sqlArgs
	w, lights := findingWhere(f, &a)
	red := lights.lightSQL(models.LightRed)
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT coalesce(r.data->>'responsible_unit', ''), count(*),
			count(*) FILTER (WHERE r.status <> 'closed'),
			count(*) FILTER (WHERE `+red+`),
			count(*) FILTER (WHERE `+lights.lightSQL(models.LightYellow)+`),
			count(*) FILTER (WHERE `+lights.lightSQL(models.LightGreen)+`),
			count(*) FILTER (WHERE r.status = 'closed'),
			coalesce(max(`+lights.todayP()+`::date - (r.data->>'deadline')::date) FILTER (WHERE `+red+`), 0)
		FROM records r
		WHERE `+w.sql()+`
		GROUP BY 1
		ORDER BY 4 DESC, 3 DESC, 1`, a...)
	if err != nil {
		return nil, fmt.Errorf("storage: finding units: %w", classify(err))
	}
	defer rows.Close()
	var out []FindingUnitRow
	for rows.Next() {
		var u FindingUnitRow
		if err := rows.Scan(&u.Unit, &u.Findings, &u.Open, &u.Overdue, &u.Yellow, &u.Green, &u.Closed, &u.MaxDaysOverdue); err != nil {
			return nil, fmt.Errorf("storage: finding units: %w", classify(err))
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: finding units: %w", classify(err))
	}
	return out, nil
}
