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

// visitReportQuery builds the report's SELECT for f. Names are resolved afterwards (reportNames).
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
	q := `SELECT r.id, r.kind, r.status, r.region_id, r.region_path, r.data->>'site_id', r.data->>'inspector_id',
			CASE WHEN isfinite(t.at) THEN t.at END, r.data->>'ended_at',
			(r.data->'position'->>'lat')::float8, (r.data->'position'->>'lon')::float8,
			vl.level, c.findings, c.overdue, coalesce(c.photos, '')
		FROM records r
		CROSS JOIN LATERAL (SELECT ` + visitTimeExpr + ` AS at) t
		LEFT JOIN visit_location vl ON vl.visit_id = r.id
		CROSS JOIN LATERAL (
			SELECT count(*) FILTER (WHERE ch.type = 'finding') AS findings,
				count(*) FILTER (WHERE ch.type = 'finding' AND ch.status <> 'closed' AND ` + overdueDeadline("ch", today) + `) AS overdue,
				string_agg(ch.id::text, ',' ORDER BY ch.created_at, ch.id) FILTER (WHERE ch.type = 'photo') AS photos
			FROM records ch
			WHERE ch.parent_id = r.id AND ch.deleted_at IS NULL AND ch.type IN ('finding', 'photo')) c
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

// scanVisitReport reads the rows of visitReportQuery, calling fn with each (the row is reused:
// fn must copy what it keeps).
func scanVisitReport(rows *sql.Rows, fn func(*VisitReportRow) error) error {
	defer rows.Close()
	var row VisitReportRow
	for rows.Next() {
		var kind, path, photos string
		var region uuid.NullUUID
		var site, inspector, ended, level sql.NullString
		var started sql.NullTime
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
		if started.Valid {
			t := started.Time.UTC()
			row.StartedAt = &t
			row.Key.StartedAt = t.Format(time.RFC3339Nano)
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
		if err := fn(&row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: visit report: %w", classify(err))
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

func cloneVisitRow(r *VisitReportRow) VisitReportRow {
	c := *r
	c.PhotoIDs = append([]uuid.UUID(nil), r.PhotoIDs...)
	return c
}

// visitBatch runs one keyset batch of the report and resolves its names.
func (s *Store) visitBatch(ctx context.Context, f VisitReportFilter, names *reportNames) ([]VisitReportRow, error) {
	q, args := visitReportQuery(f)
	rows, err := s.raw(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: visit report: %w", classify(err))
	}
	out := make([]VisitReportRow, 0, min(f.Limit, 1024))
	if err := scanVisitReport(rows, func(r *VisitReportRow) error {
		out = append(out, cloneVisitRow(r))
		return nil
	}); err != nil {
		return nil, err
	}
	w := names.wants()
	for i := range out {
		r := &out[i]
		names.region(w, r.CountyID)
		names.region(w, r.TownshipID)
		names.user(w, r.InspectorID)
		names.site(w, r.SiteID)
	}
	if err := names.load(ctx, s, w); err != nil {
		return nil, err
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
	return out, nil
}

// ReportVisits returns one page of the visit report: at most f.Limit rows after f.After.
func (s *Store) ReportVisits(ctx context.Context, f VisitReportFilter) ([]VisitReportRow, error) {
	return s.visitBatch(ctx, f, newReportNames())
}

// ExportVisitBatch is how many visits one query of an export reads.
const ExportVisitBatch = 2000

// ExportVisits calls fn with every visit of the report in order, in keyset batches of
// ExportVisitBatch (f.After and f.Limit are where it starts and the most rows it returns; 0 = all),
// so memory stays flat however many rows match. fn gets one batch at a time and must not keep it.
func (s *Store) ExportVisits(ctx context.Context, f VisitReportFilter, fn func([]VisitReportRow) error) error {
	names := newReportNames()
	left := f.Limit
	for {
		f.Limit = ExportVisitBatch
		if left > 0 {
			f.Limit = min(left, ExportVisitBatch)
		}
		rows, err := s.visitBatch(ctx, f, names)
		if err != nil {
			return err
		}
		if len(rows) > 0 {
			if err := fn(rows); err != nil {
				return err
			}
			key := rows[len(rows)-1].Key
			f.After = &key
		}
		if left > 0 {
			if left -= len(rows); left == 0 {
				return nil
			}
		}
		if len(rows) < f.Limit {
			return nil
		}
	}
}
