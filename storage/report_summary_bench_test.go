package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/sync/synctest"
)

// benchVisits is how many visits BenchmarkSummaryYear generates (one year of the whole city).
const benchVisits = 1_000_000

// generateYear writes n submitted visits spread over the year before today (CST) into records
// with generate_series, a finding for every fifth visit, and a track (stats only) for every fire
// patrol, each at a random village or township of the demo city and, where the kind has one, a
// random demo site of that kind. The fact tables fill through their triggers, as in production.
func generateYear(b *testing.B, st *storage.Store, n int, today time.Time) {
	b.Helper()
	ctx := context.Background()
	exec := func(what, q string, args ...any) {
		b.Helper()
		start := time.Now()
		if _, err := st.SQL().ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%s: %v", what, err)
		}
		b.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
	}
	exec("tables", `
		CREATE TEMP TABLE gen_regions AS SELECT row_number() OVER (ORDER BY id) AS i, id, path FROM regions WHERE level IN ('township', 'village');
		CREATE TEMP TABLE gen_sites AS SELECT kind, row_number() OVER (PARTITION BY kind ORDER BY id) AS i, id, region_id, region_path
			FROM records WHERE type = 'site' AND deleted_at IS NULL;
		CREATE TEMP TABLE gen_counts AS SELECT kind, count(*) AS n FROM gen_sites GROUP BY kind;`)
	exec(fmt.Sprintf("%d visits", n), `
		INSERT INTO records (type, id, kind, region_id, region_path, status, version, data)
		SELECT 'visit', gen_random_uuid(), k.kind, COALESCE(s.region_id, r.id), COALESCE(s.region_path, r.path), 'submitted', 2,
			jsonb_build_object('kind', k.kind, 'site_id', s.id, 'status', 'submitted',
				'started_at', to_char(($2::date - (g % 365)::int) + time '08:30' + (g % 600) * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
				'notes', '例行检查，现场情况正常。', 'answers', CASE k.kind
				WHEN 'project_visit' THEN jsonb_build_object('stage', 'under_construction',
					'works_status', (ARRAY['not_started','started','resumed','suspended'])[1 + g % 4],
					'workers_on_site', g % 300, 'progress_pct', g % 100, 'investment_completed_wan', g % 9000,
					'blockers', CASE WHEN g % 3 = 0 THEN '["land","power"]'::jsonb ELSE '[]'::jsonb END,
					'counted_in_statistics', true)
				WHEN 'agri_input_check' THEN jsonb_build_object('licence_valid', true, 'samples_taken', g % 4,
					'outcome', (ARRAY['compliant','rectification_notice','evidence_held','case_filed'])[1 + g % 4],
					'products', '[{"category":"seed","brand":"登海605","label_compliant":true}]'::jsonb)
				WHEN 'fire_patrol' THEN '{"hazards":["straw_burning"],"fire_or_smoke_sighted":false,"warnings_given":2}'::jsonb
				ELSE '{"crop":"玉米","planned_area_mu":850,"sown_area_mu":320,"soil_moisture":"dry"}'::jsonb END)
		FROM generate_series(1, $1::bigint) AS g
		CROSS JOIN LATERAL (SELECT (ARRAY['project_visit','planting_check','fire_patrol','agri_input_check'])[1 + g % 4] AS kind) k
		LEFT JOIN gen_counts c ON c.kind = k.kind
		LEFT JOIN gen_sites s ON s.kind = k.kind AND s.i = 1 + (g * 7919) % c.n
		JOIN gen_regions r ON r.i = 1 + (g * 104729) % (SELECT count(*) FROM gen_regions)`, n, today.Format(time.DateOnly))
	exec("tracks", `
		INSERT INTO records (type, id, kind, region_id, region_path, parent_id, version, data)
		SELECT 'track', v.id, v.kind, v.region_id, v.region_path, v.id, 1,
			jsonb_build_object('visit_id', v.id, 'chunks', '[0]'::jsonb, 'points', '[]'::jsonb, 'stats', jsonb_build_object(
				'points', 400, 'distance_m', 3000 + (hashtext(v.id::text) & 4095), 'duration_s', 6000,
				'coverage', CASE WHEN v.data->>'site_id' IS NOT NULL THEN ((hashtext(v.id::text) & 1023) / 1023.0)::numeric(5,4) END))
		FROM records v WHERE v.type = 'visit' AND v.kind = 'fire_patrol'
		ON CONFLICT DO NOTHING`)
	exec("findings", `
		INSERT INTO records (type, id, kind, region_id, region_path, parent_id, status, version, data, created_at)
		SELECT 'finding', gen_random_uuid(), v.kind, v.region_id, v.region_path, v.id, st.status, 1,
			jsonb_build_object('visit_id', v.id, 'category', '安全', 'severity', (ARRAY['ordinary','serious','major'])[1 + h % 3],
				'description', '现场发现问题', 'responsible_unit', '乡镇政府', 'status', st.status,
				'deadline', to_char(d + 15, 'YYYY-MM-DD'),
				'closed_at', CASE WHEN st.status = 'closed' THEN to_char(d + (h % 25), 'YYYY-MM-DD"T"10:00:00"Z"') END),
			d + time '12:00'
		FROM (SELECT v.*, (v.data->>'started_at')::date AS d, hashtext(v.id::text) & 1023 AS h
			FROM records v WHERE v.type = 'visit' AND (hashtext(v.id::text) & 4) = 0 AND random() < 0.8) v
		CROSS JOIN LATERAL (SELECT (ARRAY['open','rectifying','awaiting_recheck','closed','closed'])[1 + v.h % 5] AS status) st`)
	exec("analyze", `ANALYZE records; ANALYZE report_visits; ANALYZE report_findings`)
}

// BenchmarkSummaryYear measures the summary of the whole city for a year on benchVisits visits
// against a baseline run in the same process on the same rows: a bare count(*) GROUP BY kind over
// the visits in records. Generating the year takes minutes, so it runs once (-benchtime 1x) and
// times summaryReps summaries of each kind:
//
//	go test -run '^$' -bench SummaryYear -benchtime 1x -timeout 60m ./storage/
func BenchmarkSummaryYear(b *testing.B) {
	st, _ := synctest.NewDemoStore(b)
	ctx := context.Background()
	synctest.LoadSites(b, st)
	today := time.Now().In(models.ChinaStandardTime)
	generateYear(b, st, benchVisits, today)
	var facts, findings int
	st.SQL().QueryRow(`SELECT (SELECT count(*) FROM report_visits), (SELECT count(*) FROM report_findings)`).Scan(&facts, &findings)
	b.Logf("facts: %d visits, %d findings", facts, findings)

	baseline := func() time.Duration {
		start := time.Now()
		rows, err := st.SQL().QueryContext(ctx, `SELECT kind, count(*) FROM records WHERE type = 'visit' GROUP BY kind`)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
		return time.Since(start)
	}
	run := func(level models.RegionLevel) time.Duration {
		start := time.Now()
		s, err := st.Summary(ctx, storage.SummaryQuery{GroupLevel: level, From: today.AddDate(-1, 0, 1), To: today, Today: today})
		if err != nil {
			b.Fatal(err)
		}
		if s.Total.AllKinds.Visits != facts {
			b.Fatalf("summary counts %d visits, want %d", s.Total.AllKinds.Visits, facts)
		}
		return time.Since(start)
	}
	baseline() // warm the caches for both
	run(models.LevelCounty)
	var base, county, township time.Duration
	b.ResetTimer()
	const summaryReps = 5
	for range summaryReps {
		base += baseline()
		county += run(models.LevelCounty)
		township += run(models.LevelTownship)
	}
	n := time.Duration(summaryReps)
	b.ReportMetric(float64((county / n).Milliseconds()), "ms/summary-by-county")
	b.ReportMetric(float64((township / n).Milliseconds()), "ms/summary-by-township")
	b.ReportMetric(float64((base / n).Milliseconds()), "ms/baseline-count")
	b.ReportMetric(float64(county)/float64(base), "county/baseline")
	b.ReportMetric(float64(township)/float64(base), "township/baseline")
}
