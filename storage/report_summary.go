package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// The summary report (GET /v1/reports/summary and the monthly dispatch) counts over the fact
// tables report_visits and report_findings (migration 00005), which triggers keep in step with
// records. The README section "Reports: summary, dispatch and printable visit reports" defines
// every figure; the SQL below is that definition.

// kindCodes are the smallint codes of the fact tables.
var kindCodes = map[models.Kind]int16{models.KindProjectVisit: 1, models.KindPlantingCheck: 2,
	models.KindFirePatrol: 3, models.KindAgriInputCheck: 4}

func kindOfCode(c int16) models.Kind {
	for k, v := range kindCodes {
		if v == c {
			return k
		}
	}
	return ""
}

// Blockers are the factor-guarantee blockers (要素保障) a project visit may report, in bit order.
var Blockers = []string{"land", "funding", "power", "water", "permits", "labour", "other"}

// SummaryQuery says what to count: records under RegionPath (a region already checked against the
// caller's scope), grouped by the region at depth GroupLevel (county or township), for the CST
// dates From..To inclusive, of Kinds (empty = every kind). Today is the CST date overdue is judged
// at. ListLimit caps each row's list of patrol areas not patrolled.
type SummaryQuery struct {
	RegionPath string
	GroupLevel models.RegionLevel
	From, To   time.Time // dates (midnight, any zone: only the date counts)
	Today      time.Time
	Kinds      []models.Kind
	ListLimit  int
}

// KindFigures are the figures every kind has.
type KindFigures struct {
	Visits   int `json:"visits"`
	Findings struct {
		Ordinary int `json:"ordinary"`
		Serious  int `json:"serious"`
		Major    int `json:"major"`
		Total    int `json:"total"`
	} `json:"findings"`
	RectifiedOnTime    int      `json:"rectified_on_time"`
	RectificationDue   int      `json:"rectification_due"`
	RectifiedOnTimePct *float64 `json:"rectified_on_time_pct"`
	Overdue            int      `json:"overdue"`
}

func (k *KindFigures) add(o KindFigures) {
	k.Visits += o.Visits
	k.Findings.Ordinary += o.Findings.Ordinary
	k.Findings.Serious += o.Findings.Serious
	k.Findings.Major += o.Findings.Major
	k.Findings.Total += o.Findings.Total
	k.RectifiedOnTime += o.RectifiedOnTime
	k.RectificationDue += o.RectificationDue
	k.Overdue += o.Overdue
}

func (k *KindFigures) finish() { k.RectifiedOnTimePct = pct(k.RectifiedOnTime, k.RectificationDue) }

// ProjectFigures are the key-project figures.
type ProjectFigures struct {
	Projects              int            `json:"projects"`
	Visited30d            int            `json:"visited_30d"`
	Visited30dPct         *float64       `json:"visited_30d_pct"`
	WorksStartedOrResumed int            `json:"works_started_or_resumed"`
	Blockers              map[string]int `json:"blockers"`
}

// PatrolFigures are the fire-patrol figures.
type PatrolFigures struct {
	Patrols               int         `json:"patrols"`
	PatrolDays            int         `json:"patrol_days"`
	DistanceKm            float64     `json:"distance_km"`
	MeanCoveragePct       *float64    `json:"mean_coverage_pct"`
	Areas                 int         `json:"areas"`
	AreasPatrolled        int         `json:"areas_patrolled"`
	AreasNotPatrolled     int         `json:"areas_not_patrolled"`
	AreasNotPatrolledList []SiteBrief `json:"areas_not_patrolled_list"`
	ListTruncated         bool        `json:"areas_not_patrolled_truncated"`

	coverageSum float64
	coverageN   int
}

// DealerFigures are the agricultural-input check figures.
type DealerFigures struct {
	Checks               int `json:"checks"`
	DealersChecked       int `json:"dealers_checked"`
	Samples              int `json:"samples"`
	RectificationNotices int `json:"rectification_notices"`
	EvidenceHeld         int `json:"evidence_held"`
	CasesFiled           int `json:"cases_filed"`
}

// SiteBrief names a site.
type SiteBrief struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// RegionBrief names a region.
type RegionBrief struct {
	ID    uuid.UUID          `json:"id"`
	Code  string             `json:"code"`
	Name  string             `json:"name"`
	Level models.RegionLevel `json:"level"`
}

// SummaryRow is one row of the summary (a county or township, or the total).
type SummaryRow struct {
	Region   RegionBrief                  `json:"region"`
	Kinds    map[models.Kind]*KindFigures `json:"kinds"`
	AllKinds KindFigures                  `json:"all_kinds"`
	Projects *ProjectFigures              `json:"projects"`
	Patrols  *PatrolFigures               `json:"patrols"`
	Dealers  *DealerFigures               `json:"dealers"`
}

// Summary is the whole report: one row per region at the group level (every one under the region,
// with zeros where nothing happened), then the total over the region.
type Summary struct {
	Rows  []*SummaryRow `json:"rows"`
	Total *SummaryRow   `json:"total"`
}

func pct(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := float64(int(float64(n)*1000/float64(d)+0.5)) / 10 // one decimal
	return &v
}

func hasKind(kinds []models.Kind, k models.Kind) bool {
	if len(kinds) == 0 {
		return true
	}
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

func newSummaryRow(r RegionBrief, kinds []models.Kind) *SummaryRow {
	row := &SummaryRow{Region: r, Kinds: map[models.Kind]*KindFigures{}}
	for _, k := range models.Kinds {
		if hasKind(kinds, k) {
			row.Kinds[k] = &KindFigures{}
		}
	}
	if hasKind(kinds, models.KindProjectVisit) {
		row.Projects = &ProjectFigures{Blockers: map[string]int{}}
		for _, b := range Blockers {
			row.Projects.Blockers[b] = 0
		}
	}
	if hasKind(kinds, models.KindFirePatrol) {
		row.Patrols = &PatrolFigures{AreasNotPatrolledList: []SiteBrief{}}
	}
	if hasKind(kinds, models.KindAgriInputCheck) {
		row.Dealers = &DealerFigures{}
	}
	return row
}

// groupExpr is the SQL expression (over regions r) of the id of the region a record at r counts
// under: its ancestor at the group level, or r's own top-most region below it when r sits higher
// (a county-level project in a by-township summary counts under its county).
func groupExpr(level models.RegionLevel) string {
	if level == models.LevelCounty {
		return `COALESCE(NULLIF(split_part(r.path, '/', 3), ''), split_part(r.path, '/', 2))::uuid`
	}
	return `COALESCE(NULLIF(split_part(r.path, '/', 4), ''), NULLIF(split_part(r.path, '/', 3), ''), split_part(r.path, '/', 2))::uuid`
}

func kindCodeList(kinds []models.Kind) []int64 {
	out := []int64{}
	for _, k := range models.Kinds {
		if hasKind(kinds, k) {
			out = append(out, int64(kindCodes[k]))
		}
	}
	return out
}

func kindNameList(kinds []models.Kind) []string {
	out := []string{}
	for _, k := range models.Kinds {
		if hasKind(kinds, k) {
			out = append(out, string(k))
		}
	}
	return out
}

func dateOnly(t time.Time) string { return t.Format(time.DateOnly) }

// Summary computes the summary report. Its queries run in one read-only repeatable-read
// transaction, so the rows and the total agree with each other.
func (s *Store) Summary(ctx context.Context, q SummaryQuery) (*Summary, error) {
	if q.ListLimit <= 0 {
		q.ListLimit = 100
	}
	var out *Summary
	err := s.readSnapshot(ctx, func(c conn) error {
		var err error
		out, err = summaryIn(ctx, c, q)
		return err
	})
	return out, err
}

// readSnapshot runs fn in a read-only repeatable-read transaction with room for the report's
// aggregates in memory.
func (s *Store) readSnapshot(ctx context.Context, fn func(c conn) error) error {
	tx, err := s.SQL().BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("storage: report: %w", classify(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
		return fmt.Errorf("storage: report: %w", classify(err))
	}
	if err := fn(tx); err != nil {
		return err
	}
	return classify(tx.Commit())
}

func summaryIn(ctx context.Context, c conn, q SummaryQuery) (*Summary, error) {
	sum := &Summary{}
	rows := map[uuid.UUID]*SummaryRow{}
	// Every region at the group level under the region (rows with zeros included).
	rs, err := c.QueryContext(ctx, `SELECT id, code, name, level FROM regions r
		WHERE path LIKE $1 AND level = $2 ORDER BY code`, likePrefix(q.RegionPath), string(q.GroupLevel))
	if err != nil {
		return nil, fmt.Errorf("storage: summary regions: %w", classify(err))
	}
	if err := scanBriefs(rs, func(b RegionBrief) {
		row := newSummaryRow(b, q.Kinds)
		rows[b.ID] = row
		sum.Rows = append(sum.Rows, row)
	}); err != nil {
		return nil, err
	}
	sum.Total = newSummaryRow(RegionBrief{}, q.Kinds)
	rowOf := func(grp uuid.NullUUID) *SummaryRow {
		if !grp.Valid {
			return sum.Total
		}
		if r, ok := rows[grp.UUID]; ok {
			return r
		}
		r := newSummaryRow(RegionBrief{ID: grp.UUID}, q.Kinds) // a record above the group level; named below
		rows[grp.UUID] = r
		sum.Rows = append(sum.Rows, r)
		return r
	}
	if err := summaryVisits(ctx, c, q, rowOf); err != nil {
		return nil, err
	}
	if err := summaryFindings(ctx, c, q, rowOf); err != nil {
		return nil, err
	}
	if err := summarySites(ctx, c, q, rowOf); err != nil {
		return nil, err
	}
	if err := nameRows(ctx, c, sum.Rows); err != nil {
		return nil, err
	}
	for _, r := range append(sum.Rows, sum.Total) {
		finishRow(r)
	}
	return sum, nil
}

func scanBriefs(rs *sql.Rows, each func(RegionBrief)) error {
	defer rs.Close()
	for rs.Next() {
		var b RegionBrief
		var level string
		if err := rs.Scan(&b.ID, &b.Code, &b.Name, &level); err != nil {
			return fmt.Errorf("storage: summary regions: %w", classify(err))
		}
		b.Level = models.RegionLevel(level)
		each(b)
	}
	return rs.Err()
}

// nameRows fills in the names of rows that were added for records above the group level.
func nameRows(ctx context.Context, c conn, rows []*SummaryRow) error {
	var ids []string
	byID := map[uuid.UUID]*SummaryRow{}
	for _, r := range rows {
		if r.Region.Code == "" {
			ids = append(ids, r.Region.ID.String())
			byID[r.Region.ID] = r
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rs, err := c.QueryContext(ctx, `SELECT id, code, name, level FROM regions WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return fmt.Errorf("storage: summary regions: %w", classify(err))
	}
	return scanBriefs(rs, func(b RegionBrief) { byID[b.ID].Region = b })
}

func finishRow(r *SummaryRow) {
	r.AllKinds = KindFigures{}
	for _, k := range models.Kinds {
		if f, ok := r.Kinds[k]; ok {
			f.finish()
			r.AllKinds.add(*f)
		}
	}
	r.AllKinds.finish()
	if p := r.Projects; p != nil {
		p.Visited30dPct = pct(p.Visited30d, p.Projects)
	}
	if p := r.Patrols; p != nil {
		p.DistanceKm = float64(int(p.DistanceKm*10+0.5)) / 10
		if p.coverageN > 0 {
			v := float64(int(p.coverageSum/float64(p.coverageN)*1000+0.5)) / 10
			p.MeanCoveragePct = &v
		}
		p.AreasNotPatrolled = p.Areas - p.AreasPatrolled
	}
}

// regionFilter keeps fact rows under the query's region; nothing for the whole city (every
// region is under it), so the city's summary is one pass over the facts of the period.
func regionFilter(q SummaryQuery, col string) string {
	if strings.Count(q.RegionPath, "/") <= 2 {
		return ""
	}
	return ` AND ` + col + ` IN (SELECT id FROM regions WHERE path LIKE $1)`
}

// scopeCTE selects the regions under $1 with the id of the row each counts under (grp).
func scopeCTE(level models.RegionLevel) string {
	return `g AS (SELECT r.id, ` + groupExpr(level) + ` AS grp FROM regions r WHERE r.path LIKE $1)`
}

func summaryVisits(ctx context.Context, c conn, q SummaryQuery, rowOf func(uuid.NullUUID) *SummaryRow) error {
	// First per (region, kind, site, day) straight off the fact table (one pass, no join), then per
	// (row, kind, site) on that small result, so every distinct count is a plain count; then per
	// row and kind, and per kind for the total.
	query := `WITH ` + scopeCTE(q.GroupLevel) + `,
	per_day AS (
		SELECT v.region_id, v.kind, v.site_id, v.day,
			count(*) AS visits,
			count(*) FILTER (WHERE v.works IN (2, 3)) AS works,
			bit_or(v.blockers) AS blockers,
			sum(v.distance_m) AS distance_m,
			sum(v.coverage) AS coverage_sum, count(v.coverage) AS coverage_n,
			sum(v.samples) AS samples,
			count(*) FILTER (WHERE v.outcome = 2) AS notices,
			count(*) FILTER (WHERE v.outcome = 3) AS held,
			count(*) FILTER (WHERE v.outcome = 4) AS cases
		FROM report_visits v
		WHERE v.day BETWEEN $2 AND $3 AND v.kind = ANY($4::smallint[])` + regionFilter(q, "v.region_id") + `
		GROUP BY v.region_id, v.kind, v.site_id, v.day),
	per_site AS (
		SELECT g.grp, d.kind, d.site_id, sum(d.visits) AS visits, bool_or(d.works > 0) AS works,
			bit_or(d.blockers) AS blockers, count(DISTINCT d.day) AS days, sum(d.distance_m) AS distance_m,
			sum(d.coverage_sum) AS coverage_sum, sum(d.coverage_n) AS coverage_n, sum(d.samples) AS samples,
			sum(d.notices) AS notices, sum(d.held) AS held, sum(d.cases) AS cases
		FROM per_day d JOIN g ON g.id = d.region_id
		GROUP BY g.grp, d.kind, d.site_id)
	SELECT grp, kind, sum(visits)::bigint,
		count(*) FILTER (WHERE works AND site_id IS NOT NULL),
		count(*) FILTER (WHERE blockers & 1 <> 0 AND site_id IS NOT NULL),
		count(*) FILTER (WHERE blockers & 2 <> 0 AND site_id IS NOT NULL),
		count(*) FILTER (WHERE blockers & 4 <> 0 AND site_id IS NOT NULL),
		count(*) FILTER (WHERE blockers & 8 <> 0 AND site_id IS NOT NULL),
		count(*) FILTER (WHERE blockers & 16 <> 0 AND site_id IS NOT NULL),
		count(*) FILTER (WHERE blockers & 32 <> 0 AND site_id IS NOT NULL),
		count(*) FILTER (WHERE blockers & 64 <> 0 AND site_id IS NOT NULL),
		COALESCE(sum(days) FILTER (WHERE site_id IS NOT NULL), 0)::bigint,
		COALESCE(sum(distance_m), 0), COALESCE(sum(coverage_sum), 0), COALESCE(sum(coverage_n), 0)::bigint,
		count(*) FILTER (WHERE site_id IS NOT NULL),
		COALESCE(sum(samples), 0)::bigint, sum(notices)::bigint, sum(held)::bigint, sum(cases)::bigint
	FROM per_site GROUP BY GROUPING SETS ((grp, kind), (kind))`
	rs, err := c.QueryContext(ctx, query, likePrefix(q.RegionPath), dateOnly(q.From), dateOnly(q.To), kindCodeList(q.Kinds))
	if err != nil {
		return fmt.Errorf("storage: summary visits: %w", classify(err))
	}
	defer rs.Close()
	for rs.Next() {
		var grp uuid.NullUUID
		var kind int16
		var visits, works, days, covN, sites, samples, notices, held, cases int
		var bl [7]int
		var dist, covSum float64
		if err := rs.Scan(&grp, &kind, &visits, &works, &bl[0], &bl[1], &bl[2], &bl[3], &bl[4], &bl[5], &bl[6],
			&days, &dist, &covSum, &covN, &sites, &samples, &notices, &held, &cases); err != nil {
			return fmt.Errorf("storage: summary visits: %w", classify(err))
		}
		row := rowOf(grp)
		k := kindOfCode(kind)
		if f, ok := row.Kinds[k]; ok {
			f.Visits = visits
		}
		switch k {
		case models.KindProjectVisit:
			if p := row.Projects; p != nil {
				p.WorksStartedOrResumed = works
				for i, b := range Blockers {
					p.Blockers[b] = bl[i]
				}
			}
		case models.KindFirePatrol:
			if p := row.Patrols; p != nil {
				p.Patrols, p.PatrolDays, p.DistanceKm = visits, days, dist/1000
				p.coverageSum, p.coverageN = covSum, covN
			}
		case models.KindAgriInputCheck:
			if d := row.Dealers; d != nil {
				d.Checks, d.DealersChecked, d.Samples = visits, sites, samples
				d.RectificationNotices, d.EvidenceHeld, d.CasesFiled = notices, held, cases
			}
		}
	}
	return rs.Err()
}

func summaryFindings(ctx context.Context, c conn, q SummaryQuery, rowOf func(uuid.NullUUID) *SummaryRow) error {
	query := `WITH ` + scopeCTE(q.GroupLevel) + `,
	per_region AS (
		SELECT f.region_id, f.kind,
			count(*) FILTER (WHERE f.severity = 1) AS s1, count(*) FILTER (WHERE f.severity = 2) AS s2,
			count(*) FILTER (WHERE f.severity = 3) AS s3, count(*) AS n,
			count(*) FILTER (WHERE f.fstatus = 4 AND f.closed_on <= f.deadline) AS on_time,
			count(*) FILTER (WHERE f.fstatus = 4 OR f.deadline < $5) AS due,
			count(*) FILTER (WHERE f.fstatus <> 4 AND f.deadline < $5) AS overdue
		FROM report_findings f
		WHERE f.day BETWEEN $2 AND $3 AND f.kind = ANY($4::smallint[])` + regionFilter(q, "f.region_id") + `
		GROUP BY f.region_id, f.kind)
	SELECT g.grp, p.kind, sum(s1)::bigint, sum(s2)::bigint, sum(s3)::bigint, sum(n)::bigint,
		sum(on_time)::bigint, sum(due)::bigint, sum(overdue)::bigint
	FROM per_region p JOIN g ON g.id = p.region_id
	GROUP BY GROUPING SETS ((g.grp, p.kind), (p.kind))`
	rs, err := c.QueryContext(ctx, query, likePrefix(q.RegionPath), dateOnly(q.From), dateOnly(q.To),
		kindCodeList(q.Kinds), dateOnly(q.Today))
	if err != nil {
		return fmt.Errorf("storage: summary findings: %w", classify(err))
	}
	defer rs.Close()
	for rs.Next() {
		var grp uuid.NullUUID
		var kind int16
		var f KindFigures
		if err := rs.Scan(&grp, &kind, &f.Findings.Ordinary, &f.Findings.Serious, &f.Findings.Major, &f.Findings.Total,
			&f.RectifiedOnTime, &f.RectificationDue, &f.Overdue); err != nil {
			return fmt.Errorf("storage: summary findings: %w", classify(err))
		}
		if k, ok := rowOf(grp).Kinds[kindOfCode(kind)]; ok {
			k.Findings, k.RectifiedOnTime, k.RectificationDue, k.Overdue = f.Findings, f.RectifiedOnTime, f.RectificationDue, f.Overdue
		}
	}
	return rs.Err()
}

// summarySites counts the live project sites and patrol areas under each row, the projects with a
// visit in the 30 days ending at To and the patrol areas with a patrol in From..To.
func summarySites(ctx context.Context, c conn, q SummaryQuery, rowOf func(uuid.NullUUID) *SummaryRow) error {
	wantProjects, wantPatrols := hasKind(q.Kinds, models.KindProjectVisit), hasKind(q.Kinds, models.KindFirePatrol)
	if !wantProjects && !wantPatrols {
		return nil
	}
	kinds := []string{}
	if wantProjects {
		kinds = append(kinds, string(models.KindProjectVisit))
	}
	if wantPatrols {
		kinds = append(kinds, string(models.KindFirePatrol))
	}
	query := `WITH ` + scopeCTE(q.GroupLevel) + `,
	sites AS (
		SELECT g.grp, s.id, s.kind, s.data->>'name' AS name,
			CASE WHEN s.kind = 'project_visit' THEN EXISTS (SELECT 1 FROM report_visits v
				WHERE v.site_id = s.id AND v.kind = 1 AND v.day BETWEEN $3::date - 29 AND $3)
			ELSE EXISTS (SELECT 1 FROM report_visits v
				WHERE v.site_id = s.id AND v.kind = 3 AND v.day BETWEEN $2 AND $3) END AS visited
		FROM records s JOIN g ON g.id = s.region_id
		WHERE s.type = 'site' AND s.deleted_at IS NULL AND s.kind = ANY($4::text[]))
	SELECT grp, kind, count(*), count(*) FILTER (WHERE visited),
		COALESCE(to_json((array_agg(json_build_object('id', id, 'name', name) ORDER BY name, id)
			FILTER (WHERE NOT visited))[1:$5]), '[]')
	FROM sites GROUP BY GROUPING SETS ((grp, kind), (kind))`
	rs, err := c.QueryContext(ctx, query, likePrefix(q.RegionPath), dateOnly(q.From), dateOnly(q.To), kinds, q.ListLimit)
	if err != nil {
		return fmt.Errorf("storage: summary sites: %w", classify(err))
	}
	defer rs.Close()
	for rs.Next() {
		var grp uuid.NullUUID
		var kind string
		var total, visited int
		var list []byte
		if err := rs.Scan(&grp, &kind, &total, &visited, &list); err != nil {
			return fmt.Errorf("storage: summary sites: %w", classify(err))
		}
		row := rowOf(grp)
		switch models.Kind(kind) {
		case models.KindProjectVisit:
			if p := row.Projects; p != nil {
				p.Projects, p.Visited30d = total, visited
			}
		case models.KindFirePatrol:
			if p := row.Patrols; p != nil {
				p.Areas, p.AreasPatrolled = total, visited
				if err := json.Unmarshal(list, &p.AreasNotPatrolledList); err != nil {
					return fmt.Errorf("storage: summary sites: %w", err)
				}
				p.ListTruncated = total-visited > len(p.AreasNotPatrolledList)
			}
		}
	}
	return rs.Err()
}

// RootRegion returns the city (the root of the region tree).
func (s *Store) RootRegion(ctx context.Context) (models.Region, error) {
	return s.getRegion(ctx, "parent_id IS NULL AND level = ?", string(models.LevelCity))
}
