package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// Location filter values of the visit report: a visit_location level, or none (no row: the
// visit has no photos).
const LocationNone = "none"

// VisitReportFilter narrows the visit report. Scope always applies; every other field narrows
// further when set.
type VisitReportFilter struct {
	Scope           models.Scope
	RegionPath      string // a subtree inside the scope ("" = the whole scope)
	Kind            models.Kind
	SiteID          *uuid.UUID
	InspectorID     *uuid.UUID
	Status          string     // draft | submitted
	From, To        *time.Time // From ≤ started_at < To
	Location        string     // ok | warn | fail | pending | none
	HasFindings     *bool
	OverdueFindings *bool
	// Today is today's date in China Standard Time (YYYY-MM-DD): a finding not closed whose
	// deadline is before it is overdue (models.DeadlineLight's rule).
	Today string
	Asc   bool      // oldest first (default newest first)
	After *VisitKey // keyset: rows after this one in the list's order
	Limit int
}

// VisitKey is a visit's place in the report order: started_at (RFC 3339 in UTC with
// microseconds, or "-infinity" for a time that could not be read) and id.
type VisitKey struct {
	StartedAt string
	ID        uuid.UUID
}

// VisitReportRow is one visit of the report, with names resolved.
type VisitReportRow struct {
	ID          uuid.UUID
	Kind        models.Kind
	Status      string
	RegionID    *uuid.UUID
	CountyID    *uuid.UUID
	County      string
	TownshipID  *uuid.UUID
	Township    string
	SiteID      *uuid.UUID
	Site        ReportSite
	InspectorID *uuid.UUID
	Inspector   string
	StartedAt   *time.Time
	EndedAt     *time.Time
	Lat, Lon    *float64 // the position the visit recorded (WGS-84)
	Findings    int
	Overdue     int    // findings not closed and past their deadline
	Location    string // the visit's location verdict level; "" when it has no photos
	PhotoIDs    []uuid.UUID
	Key         VisitKey
}

// visitTimeExpr must match the expression indexes of migration 00004 verbatim.
const visitTimeExpr = `fieldsync_time(r.data->>'started_at')`

// visitReportQuery builds the report's SELECT for f (one page, or one batch of an export). Each
// visit's findings and photos are counted in a LATERAL subquery: one probe of records_parent_idx
// per row, whatever the filters (a join of counts aggregated over every visit made the planner
// sort whole rows and ran several times slower on a million visits). Names are resolved
// afterwards (reportNames).
func visitReportQuery(f VisitReportFilter) (string, []any) {
	var a sqlArgs
	today := a.add(f.Today)
	where := []string{`r.type = 'visit'`, `r.deleted_at IS NULL`}
	path := f.Scope.RegionPath
	if len(f.RegionPath) > len(path) {
		path = f.RegionPath
	}
	if path != "" {
		where = append(where, `r.region_path LIKE `+a.add(likePrefix(path))+` ESCAPE '\'`)
		// The same, said as an equality the county and township indexes serve in the list's order.
		if county, township := regionPathIDs(path); township != nil {
			where = append(where, `split_part(r.region_path, '/', 4) = `+a.add(township.String()))
		} else if county != nil {
			where = append(where, `split_part(r.region_path, '/', 3) = `+a.add(county.String()))
		}
	}
	if len(f.Scope.Kinds) > 0 {
		kinds := make([]string, len(f.Scope.Kinds))
		for i, k := range f.Scope.Kinds {
			kinds[i] = string(k)
		}
		where = append(where, `r.kind = ANY(`+a.add(kinds)+`::text[])`)
	}
	if f.Kind != "" {
		where = append(where, `r.kind = `+a.add(string(f.Kind)))
	}
	if f.SiteID != nil {
		where = append(where, `r.data->>'site_id' = `+a.add(f.SiteID.String()))
	}
	if f.InspectorID != nil {
		where = append(where, `r.data->>'inspector_id' = `+a.add(f.InspectorID.String()))
	}
	if f.Status != "" {
		where = append(where, `r.status = `+a.add(f.Status))
	}
	if f.From != nil {
		where = append(where, visitTimeExpr+` >= `+a.add(f.From.UTC())+`::timestamptz`)
	}
	if f.To != nil {
		where = append(where, visitTimeExpr+` < `+a.add(f.To.UTC())+`::timestamptz`)
	}
	switch f.Location {
	case "":
	case LocationNone:
		where = append(where, `vl.visit_id IS NULL`)
	default:
		where = append(where, `vl.level = `+a.add(f.Location))
	}
	if f.HasFindings != nil {
		exists := `EXISTS (SELECT 1 FROM records f WHERE f.parent_id = r.id AND f.type = 'finding' AND f.deleted_at IS NULL)`
		if !*f.HasFindings {
			exists = "NOT " + exists
		}
		where = append(where, exists)
	}
	if f.OverdueFindings != nil {
		exists := `EXISTS (SELECT 1 FROM records f WHERE f.parent_id = r.id AND f.type = 'finding' AND f.deleted_at IS NULL
			AND f.status <> 'closed' AND ` + overdueDeadline("f", today) + `)`
		if !*f.OverdueFindings {
			exists = "NOT " + exists
		}
		where = append(where, exists)
	}
	dir, cmp := "DESC", "<"
	if f.Asc {
		dir, cmp = "ASC", ">"
	}
	if f.After != nil {
		where = append(where, `(`+visitTimeExpr+`, r.id) `+cmp+` (`+a.add(f.After.StartedAt)+`::timestamptz, `+
			a.add(f.After.ID.String())+`::uuid)`)
	}
	counts := `SELECT count(*) FILTER (WHERE ch.type = 'finding') AS findings,
				count(*) FILTER (WHERE ch.type = 'finding' AND ch.status <> 'closed' AND ` + overdueDeadline("ch", today) + `) AS overdue,
				string_agg(ch.id::text, ',' ORDER BY ch.created_at, ch.id) FILTER (WHERE ch.type = 'photo') AS photos
			FROM records ch`
	children := `CROSS JOIN LATERAL (` + counts + `
			WHERE ch.parent_id = r.id AND ch.deleted_at IS NULL AND ch.type IN ('finding', 'photo')) c`
	q := `SELECT r.id, r.kind, r.status, r.region_id, r.region_path, r.data->>'site_id', r.data->>'inspector_id',
			r.data->>'started_at', r.data->>'ended_at',
			(r.data->'position'->>'lat')::float8, (r.data->'position'->>'lon')::float8,
			vl.level, coalesce(c.findings, 0), coalesce(c.overdue, 0), coalesce(c.photos, '')
		FROM records r
		LEFT JOIN visit_location vl ON vl.visit_id = r.id
		` + children + `
		WHERE ` + strings.Join(where, "\n\t\t  AND ") + `
		ORDER BY ` + visitTimeExpr + ` ` + dir + `, r.id ` + dir + `
		LIMIT ` + a.add(f.Limit)
	return q, a
}

// overdueDeadline is the SQL twin of models.DeadlineLight's overdue rule for a finding that is not
// closed: a readable deadline (YYYY-MM-DD) before today (China Standard Time).
func overdueDeadline(alias, today string) string {
	d := alias + `.data->>'deadline'`
	return d + ` ~ '^\d{4}-\d\d-\d\d$' AND ` + d + ` < ` + today
}

// scanVisitRow reads the current row of visitReportQuery into row (its PhotoIDs slice reused).
func scanVisitRow(rows *sql.Rows, row *VisitReportRow) error {
	row.County, row.Township, row.Inspector, row.Site = "", "", "", ReportSite{}
	{
		var kind, path, photos string
		var region uuid.NullUUID
		var site, inspector, started, ended, level sql.NullString
		var lat, lon sql.NullFloat64
		if err := rows.Scan(&row.ID, &kind, &row.Status, &region, &path, &site, &inspector, &started, &ended,
			&lat, &lon, &level, &row.Findings, &row.Overdue, &photos); err != nil {
			return fmt.Errorf("storage: visit report: %w", classify(err))
		}
		row.Kind = models.Kind(kind)
		row.RegionID = nullUUID(region)
		row.CountyID, row.TownshipID = regionPathIDs(path)
		row.SiteID, row.InspectorID = parseNullUUID(site), parseNullUUID(inspector)
		row.StartedAt, row.EndedAt = nil, nil
		row.Key = VisitKey{StartedAt: "-infinity", ID: row.ID}
		// fieldsync_time's reading, done here: an RFC 3339 time, else -infinity (sorted last).
		if started.Valid {
			if t, err := time.Parse(time.RFC3339Nano, started.String); err == nil {
				t = t.UTC()
				row.StartedAt = &t
				row.Key.StartedAt = t.Format(time.RFC3339Nano)
			}
		}
		if ended.Valid {
			if t, err := time.Parse(time.RFC3339Nano, ended.String); err == nil {
				row.EndedAt = &t
			}
		}
		row.Lat, row.Lon = nil, nil
		if lat.Valid && lon.Valid {
			la, lo := lat.Float64, lon.Float64
			row.Lat, row.Lon = &la, &lo
		}
		row.Location = level.String
		row.PhotoIDs = row.PhotoIDs[:0]
		if photos != "" {
			for _, p := range strings.Split(photos, ",") {
				if id, err := uuid.Parse(p); err == nil {
					row.PhotoIDs = append(row.PhotoIDs, id)
				}
			}
		}
	}
	return nil
}

func parseNullUUID(s sql.NullString) *uuid.UUID {
	if !s.Valid {
		return nil
	}
	id, err := uuid.Parse(s.String)
	if err != nil {
		return nil
	}
	return &id
}

// resolve fills the names of rows, fetching the ids names does not know yet.
func (s *Store) resolveVisitNames(ctx context.Context, names *reportNames, out []VisitReportRow) error {
	w := names.wants()
	for i := range out {
		r := &out[i]
		names.region(w, r.CountyID)
		names.region(w, r.TownshipID)
		names.user(w, r.InspectorID)
		names.site(w, r.SiteID)
	}
	if err := names.load(ctx, s, w); err != nil {
		return err
	}
	for i := range out {
		r := &out[i]
		if r.CountyID != nil {
			r.County = names.regions[*r.CountyID]
		}
		if r.TownshipID != nil {
			r.Township = names.regions[*r.TownshipID]
		}
		if r.InspectorID != nil {
			r.Inspector = names.users[*r.InspectorID]
		}
		if r.SiteID != nil {
			r.Site = names.sites[*r.SiteID]
		}
	}
	return nil
}

// ReportVisits returns one page of the visit report: at most f.Limit rows after f.After.
func (s *Store) ReportVisits(ctx context.Context, f VisitReportFilter) ([]VisitReportRow, error) {
	q, args := visitReportQuery(f)
	rows, err := s.raw(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: visit report: %w", classify(err))
	}
	defer rows.Close()
	out := make([]VisitReportRow, 0, min(f.Limit, 1024))
	for rows.Next() {
		var r VisitReportRow
		if err := scanVisitRow(rows, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: visit report: %w", classify(err))
	}
	if err := s.resolveVisitNames(ctx, newReportNames(), out); err != nil {
		return nil, err
	}
	return out, nil
}

// ExportVisitBatch is how many visits one query of an export reads.
const ExportVisitBatch = 2000

// VisitExport is an export of the visit report being read in keyset batches of
// ExportVisitBatch, each a query of its own, so memory stays flat however many rows match and
// no connection is held while the client reads.
type VisitExport struct {
	s       *Store
	f       VisitReportFilter
	names   *reportNames
	left    int // rows still to read when capped; -1 = all
	pending []VisitReportRow
	done    bool
}

// ExportVisits starts an export of every visit matching f (f.After ignored; f.Limit > 0 caps
// the rows). It reads the first batch at once, so a failing query shows here.
func (s *Store) ExportVisits(ctx context.Context, f VisitReportFilter) (*VisitExport, error) {
	e := &VisitExport{s: s, f: f, names: newReportNames(), left: -1}
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

func (e *VisitExport) read(ctx context.Context) ([]VisitReportRow, error) {
	if e.done || e.left == 0 {
		return nil, nil
	}
	e.f.Limit = ExportVisitBatch
	if e.left > 0 {
		e.f.Limit = min(e.left, ExportVisitBatch)
	}
	q, args := visitReportQuery(e.f)
	rows, err := e.s.raw(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: visit export: %w", classify(err))
	}
	defer rows.Close()
	out := make([]VisitReportRow, 0, e.f.Limit)
	for rows.Next() {
		var r VisitReportRow
		if err := scanVisitRow(rows, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: visit export: %w", classify(err))
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
	return out, e.s.resolveVisitNames(ctx, e.names, out)
}

// Next returns the next batch of visits, none at the end.
func (e *VisitExport) Next(ctx context.Context) ([]VisitReportRow, error) {
	if e.pending != nil {
		b := e.pending
		e.pending = nil
		return b, nil
	}
	return e.read(ctx)
}

// Close ends the export (nothing is held between batches).
func (e *VisitExport) Close() error { return nil }
