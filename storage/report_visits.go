package storage

import (
	"context"
	"database/sql"
	"fmt"
	gosync "sync"
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

// visitReportQuery builds the report's SELECT of the visits themselves for f (one page, or one
// batch of an export). Their findings, photos and location verdicts are read afterwards for the
// whole batch at once (visitChildren), and names too (reportNames): per-row subqueries cost three
// random index probes per visit, which at a million rows made the export several times slower.
func visitReportQuery(f VisitReportFilter) (string, []any) {
	var a sqlArgs
	w := newReportWhere(&a, reportScope{Type: models.TypeVisit, Scope: f.Scope, RegionPath: f.RegionPath, Kind: f.Kind,
		Status: f.Status, RegionIndexes: true})
	if f.SiteID != nil {
		w.eq(`r.data->>'site_id'`, f.SiteID.String())
	}
	if f.InspectorID != nil {
		w.eq(`r.data->>'inspector_id'`, f.InspectorID.String())
	}
	if f.From != nil {
		w.add(visitTimeExpr + ` >= ` + a.add(f.From.UTC()) + `::timestamptz`)
	}
	if f.To != nil {
		w.add(visitTimeExpr + ` < ` + a.add(f.To.UTC()) + `::timestamptz`)
	}
	switch f.Location {
	case "":
	case LocationNone:
		w.add(`vl.visit_id IS NULL`)
	default:
		w.add(`vl.level = ` + a.add(f.Location))
	}
	if f.HasFindings != nil {
		// OFFSET 0 keeps each EXISTS a per-row probe: as a semi-join the planner hashes every
		// matching finding of the city and sorts, 30 times slower for a page (1.2 s against 40 ms
		// on a million visits), since it cannot estimate how many visits have one.
		exists := `EXISTS (SELECT 1 FROM records f WHERE f.parent_id = r.id AND f.type = 'finding' AND f.deleted_at IS NULL OFFSET 0)`
		if !*f.HasFindings {
			exists = "NOT " + exists
		}
		w.add(exists)
	}
	if f.OverdueFindings != nil {
		exists := `EXISTS (SELECT 1 FROM records f WHERE f.parent_id = r.id AND f.type = 'finding' AND f.deleted_at IS NULL
			AND f.status <> 'closed' AND ` + overdueDeadline("f", a.add(f.Today)) + ` OFFSET 0)`
		if !*f.OverdueFindings {
			exists = "NOT " + exists
		}
		w.add(exists)
	}
	dir, cmp := "DESC", "<"
	if f.Asc {
		dir, cmp = "ASC", ">"
	}
	if f.After != nil {
		w.add(`(` + visitTimeExpr + `, r.id) ` + cmp + ` (` + a.add(f.After.StartedAt) + `::timestamptz, ` +
			a.add(f.After.ID.String()) + `::uuid)`)
	}
	join := ""
	if f.Location != "" {
		join = `LEFT JOIN visit_location vl ON vl.visit_id = r.id`
	}
	q := `SELECT r.id, r.kind, r.status, r.region_id, r.region_path, r.data->>'site_id', r.data->>'inspector_id',
			r.data->>'started_at', r.data->>'ended_at',
			(r.data->'position'->>'lat')::float8, (r.data->'position'->>'lon')::float8
		FROM records r
		` + join + `
		WHERE ` + w.sql() + `
		ORDER BY ` + visitTimeExpr + ` ` + dir + `, r.id ` + dir
	if f.Limit > 0 {
		q += ` LIMIT ` + a.add(f.Limit)
	}
	return q, a
}

// overdueDeadline is the SQL twin of models.DeadlineLight's overdue rule for a finding that is not
// closed: a deadline (YYYY-MM-DD, which the sync engine validates) before today (China Standard
// Time). No pattern test here: the planner cannot estimate one, and misjudges the whole query.
func overdueDeadline(alias, today string) string {
	return alias + `.data->>'deadline' < ` + today
}

// scanVisitRow reads the current row of visitReportQuery into row (its PhotoIDs slice reused).
func scanVisitRow(rows *sql.Rows, row *VisitReportRow) error {
	row.County, row.Township, row.Inspector, row.Site = "", "", "", ReportSite{}
	{
		var kind, path string
		var region uuid.NullUUID
		var site, inspector, started, ended sql.NullString
		var lat, lon sql.NullFloat64
		if err := rows.Scan(&row.ID, &kind, &row.Status, &region, &path, &site, &inspector, &started, &ended,
			&lat, &lon); err != nil {
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
		row.Location, row.Findings, row.Overdue, row.PhotoIDs = "", 0, 0, row.PhotoIDs[:0]
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

// resolveVisitNames fills the names of rows, fetching the ids names does not know yet.
func (s *Store) resolveVisitNames(ctx context.Context, names *reportNames, out []VisitReportRow) error {
	return names.resolve(ctx, s, len(out), func(i int, w *nameWants) {
		r := &out[i]
		names.region(w, r.CountyID)
		names.region(w, r.TownshipID)
		names.user(w, r.InspectorID)
		names.site(w, r.SiteID)
	}, func(i int) {
		r := &out[i]
		r.County, r.Township = names.regionName(r.CountyID), names.regionName(r.TownshipID)
		r.Inspector, r.Site = names.userName(r.InspectorID), names.siteOf(r.SiteID)
	})
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
	if err := s.fillVisitBatch(ctx, out, f.Today, newReportNames()); err != nil {
		return nil, err
	}
	return out, nil
}

// ExportVisitBatch is how many visits VisitExport.Next returns at most.
const ExportVisitBatch = 2000

// VisitExport is an export of the visit report being read. The visits come from one query whose
// rows stream from the server as they are read (pgx buffers no result set; for a whole city the
// planner sorts a parallel sequential scan, several times faster than walking the index), taken
// in batches of ExportVisitBatch. Goroutines work ahead of the caller: one reads batches off the
// query, exportFillers others fill batches with their findings, photos, verdicts and names (a few
// queries each, on other connections), and Next hands the batches out in query order. So the
// database, the enrichment and the writer work at once; at most 2+2·exportFillers batches are
// in memory. It holds up to 1+2·exportFillers connections until Close.
type VisitExport struct {
	rows   *sql.Rows
	cancel context.CancelFunc
	order  chan chan visitBatchResult // each batch's result, in query order
	done   chan struct{}              // closed when the reader and the fillers have ended
	ended  bool
}

type visitBatchResult struct {
	rows []VisitReportRow
	err  error
}

// exportFillers is how many batches are filled at once.
const exportFillers = 2

// ExportVisits starts an export of every visit matching f (f.After is ignored; f.Limit > 0 caps
// the rows). The query starts here, so a failing one shows here. The caller must Close it.
func (s *Store) ExportVisits(ctx context.Context, f VisitReportFilter) (*VisitExport, error) {
	f.After = nil
	q, args := visitReportQuery(f)
	ctx, cancel := context.WithCancel(ctx)
	rows, err := s.raw(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("storage: visit export: %w", classify(err))
	}
	type job struct {
		rows []VisitReportRow
		res  chan visitBatchResult
	}
	e := &VisitExport{rows: rows, cancel: cancel, order: make(chan chan visitBatchResult, exportFillers),
		done: make(chan struct{})}
	jobs := make(chan job)
	var wg gosync.WaitGroup
	for range exportFillers {
		wg.Add(1)
		go func() { // fills batches; each filler keeps its own name cache
			defer wg.Done()
			names := newReportNames()
			for j := range jobs {
				err := s.fillVisitBatch(ctx, j.rows, f.Today, names)
				j.res <- visitBatchResult{rows: j.rows, err: err}
			}
		}()
	}
	wg.Add(1)
	go func() { // reads batches off the query and hands them out in order
		defer wg.Done()
		defer close(jobs)
		defer close(e.order)
		send := func(b visitBatchResult, fill bool) bool {
			res := make(chan visitBatchResult, 1)
			select {
			case e.order <- res:
			case <-ctx.Done():
				return false
			}
			if !fill {
				res <- b
				return false
			}
			select {
			case jobs <- job{rows: b.rows, res: res}:
				return true
			case <-ctx.Done():
				res <- visitBatchResult{err: ctx.Err()}
				return false
			}
		}
		for {
			batch := make([]VisitReportRow, 0, ExportVisitBatch)
			for len(batch) < ExportVisitBatch && rows.Next() {
				batch = append(batch, VisitReportRow{})
				if err := scanVisitRow(rows, &batch[len(batch)-1]); err != nil {
					send(visitBatchResult{err: err}, false)
					return
				}
			}
			if len(batch) < ExportVisitBatch {
				if err := rows.Err(); err != nil {
					send(visitBatchResult{err: fmt.Errorf("storage: visit export: %w", classify(err))}, false)
					return
				}
			}
			if len(batch) == 0 {
				send(visitBatchResult{}, false)
				return
			}
			if !send(visitBatchResult{rows: batch}, true) || len(batch) < ExportVisitBatch {
				return
			}
		}
	}()
	go func() { wg.Wait(); close(e.done) }()
	return e, nil
}

// fillVisitBatch reads a batch's children and verdicts (two queries at once), then its names.
func (s *Store) fillVisitBatch(ctx context.Context, rows []VisitReportRow, today string, names *reportNames) error {
	if len(rows) == 0 {
		return nil
	}
	locs := make(chan error, 1)
	go func() { locs <- s.visitLocations(ctx, rows) }()
	err := s.visitChildren(ctx, rows, today)
	if lerr := <-locs; err == nil {
		err = lerr
	}
	if err != nil {
		return err
	}
	return s.resolveVisitNames(ctx, names, rows)
}

// Next returns the next batch of visits, none at the end.
func (e *VisitExport) Next(ctx context.Context) ([]VisitReportRow, error) {
	if e.ended {
		return nil, nil
	}
	var res chan visitBatchResult
	select {
	case r, ok := <-e.order:
		if !ok {
			e.ended = true
			return nil, nil
		}
		res = r
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case b := <-res:
		if len(b.rows) == 0 || b.err != nil {
			e.ended = true
		}
		return b.rows, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops the goroutines and ends the query.
func (e *VisitExport) Close() error {
	e.cancel()
	for range e.order { // unblock the reader (results are buffered: the fillers never wait)
	}
	<-e.done
	return e.rows.Close()
}
