package server

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/jackc/pgx/v5/stdlib"
)

// The visit report on a year of the whole city (run only with -bench; generating the data takes
// about five minutes, or once for good with FIELDSYNC_REPORT_BENCH_DSN naming an empty database):
//
//	go test -run '^$' -bench 'ReportVisits' -benchtime 1x -timeout 60m ./server/
//
// The database holds the demo city plus generated field work: 1,000,000 visits over the last 365
// days at every demo site (all townships), by 120 inspectors, a finding on every fourth (250,000,
// 30% of them not closed), two photos and a location verdict on every fifth. Each figure comes
// with a baseline measured in the same run on the same data, and the ratio between them: the
// machine is shared, so compare ratios, not seconds.
//
//   - BenchmarkReportVisitsExport: GET /v1/reports/visits?format=csv (and xlsx) of every visit,
//     over a real socket, read and discarded by a client in the same process: rows/s and the
//     process's peak RSS (VmHWM, reset before the export). Baseline: COPY (SELECT the visits' own
//     columns in the report's order) TO STDOUT (FORMAT csv) through the same driver, discarded
//     (PostgreSQL runs it as a parallel sequential scan and sort).
//   - BenchmarkReportVisitsFirstPage: the first JSON page (100 rows) of several filtered lists,
//     median of 15 requests through the HTTP handler (no contract check). Baseline: the bare
//     SELECT of the same 100 visit ids (same filters and order, no counts, names or JSON).

const benchVisits = 1_000_000

var reportBench struct {
	once sync.Once
	env  *reportBenchEnv
	err  error
}

type reportBenchEnv struct {
	h      *harness
	token  string
	county models.Region
	from   string
}

func benchReportEnv(b *testing.B) *reportBenchEnv {
	b.Helper()
	reportBench.once.Do(func() {
		// b is the first benchmark's; the database lives until the test binary ends, or for good
		// in FIELDSYNC_REPORT_BENCH_DSN (an empty database the first time), so that later runs
		// skip the generation.
		ctx := context.Background()
		dsn := os.Getenv("FIELDSYNC_REPORT_BENCH_DSN")
		if dsn == "" {
			dsn = pgtest.NewDatabase(noCleanupTB{b}, migrateReportCity)
		} else if err := migrateReportCity(ctx, dsn); err != nil {
			reportBench.err = err
			return
		}
		st := storagetest.Open(noCleanupTB{b}, dsn)
		var generated bool
		if err := st.SQL().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM records WHERE type = 'visit' AND id = md5('bench-visit-0')::uuid)`).
			Scan(&generated); err != nil {
			reportBench.err = err
			return
		}
		if !generated {
			start := time.Now()
			if err := generateReportYear(ctx, st.SQL(), benchVisits); err != nil {
				reportBench.err = err
				return
			}
			b.Logf("generated %d visits in %v", benchVisits, time.Since(start).Round(time.Second))
		}
		h := newHarnessOn(noCleanupTB{b}, st, dsn)
		county, err := st.GetRegionByCode(context.Background(), "211521")
		if err != nil {
			reportBench.err = err
			return
		}
		reportBench.env = &reportBenchEnv{h: h, token: h.login("supervisor", "bench-supervisor"), county: county,
			from: time.Now().In(models.ChinaStandardTime).AddDate(0, 0, -90).Format(time.DateOnly)}
	})
	if reportBench.err != nil {
		b.Fatal(reportBench.err)
	}
	reportBench.env.h.t = b
	return reportBench.env
}

// noCleanupTB keeps the shared benchmark database past the benchmark that made it.
type noCleanupTB struct{ testing.TB }

func (noCleanupTB) Cleanup(func()) {}

// generateReportYear adds n visits (with findings, photos and location verdicts) in batches of
// 100,000, each one INSERT ... SELECT generate_series.
func generateReportYear(ctx context.Context, db *sql.DB, n int) error {
	setup := []string{
		`INSERT INTO users (id, username, name, password_hash, role)
		 SELECT md5('bench-inspector-' || i)::uuid, 'bench.inspector' || i, '检查员' || i, 'x', 'inspector'
		 FROM generate_series(0, 119) i`,
		`CREATE TABLE bench_sites AS SELECT row_number() OVER (ORDER BY s.id) - 1 AS n, s.id, s.kind, s.region_id, s.region_path,
			coalesce(s.data->'location', jsonb_build_object('lat', r.centre_lat, 'lon', r.centre_lon)) AS loc
		 FROM records s JOIN regions r ON r.id = s.region_id WHERE s.type = 'site' AND s.deleted_at IS NULL`,
		`CREATE TABLE bench_templates AS SELECT kind, row_number() OVER (PARTITION BY kind ORDER BY id) - 1 AS n, data
		 FROM records WHERE type = 'visit'`,
		`CREATE TABLE bench_finding_templates AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, data
		 FROM records WHERE type = 'finding'`,
	}
	for _, q := range setup {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("bench setup: %w", err)
		}
	}
	const batch = 100_000
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n) - 1
		// Visit g starts at a pseudo-random moment of the last 365 days ((g * 7919) mod n spreads
		// them), at site g*31 mod sites, by inspector g mod 120, copying the answers of a demo visit
		// of the site's kind.
		_, err := db.ExecContext(ctx, `
WITH gen AS (
	SELECT g, md5('bench-visit-' || g)::uuid AS id,
		now() - interval '365 days' + ((g::bigint * 7919) % $3) * (365 * 86400.0 / $3) * interval '1 second' AS at
	FROM generate_series($1::int, $2::int) g
), v AS (
	INSERT INTO records (type, id, kind, region_id, region_path, status, version, data, created_by)
	SELECT 'visit', gen.id, s.kind, s.region_id, s.region_path, CASE WHEN g % 50 = 0 THEN 'draft' ELSE 'submitted' END, 1,
		t.data || jsonb_build_object('id', gen.id, 'site_id', s.id, 'region_id', s.region_id, 'inspector_id', i.id,
			'started_at', to_char(gen.at AT TIME ZONE INTERVAL '08:00', 'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00',
			'ended_at', to_char((gen.at + interval '50 minutes') AT TIME ZONE INTERVAL '08:00', 'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00',
			'position', s.loc, 'status', CASE WHEN g % 50 = 0 THEN 'draft' ELSE 'submitted' END),
		i.id
	FROM gen
	JOIN bench_sites s ON s.n = (gen.g::bigint * 31) % (SELECT count(*) FROM bench_sites)
	JOIN bench_templates t ON t.kind = s.kind AND t.n = gen.g % 60
	JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM users WHERE username LIKE 'bench.inspector%') i
		ON i.n = gen.g % 120
	RETURNING id, kind, region_id, region_path, created_by, (data->>'started_at')::timestamptz AS at
), vn AS (
	SELECT v.*, row_number() OVER (ORDER BY v.id) AS k FROM v
), f AS (
	INSERT INTO records (type, id, kind, region_id, region_path, parent_id, status, version, data, created_by)
	SELECT 'finding', md5('bench-finding-' || vn.id)::uuid, vn.kind, vn.region_id, vn.region_path, vn.id, st.status, 1,
		ft.data || jsonb_build_object('id', md5('bench-finding-' || vn.id)::uuid, 'visit_id', vn.id, 'kind', vn.kind,
			'region_id', vn.region_id, 'status', st.status,
			'deadline', to_char((vn.at AT TIME ZONE INTERVAL '08:00')::date + 7 + (vn.k % 18)::int, 'YYYY-MM-DD')),
		vn.created_by
	FROM vn
	JOIN bench_finding_templates ft ON ft.n = vn.k % 50
	CROSS JOIN LATERAL (SELECT CASE WHEN vn.k % 10 < 7 THEN 'closed' WHEN vn.k % 10 = 7 THEN 'open'
		WHEN vn.k % 10 = 8 THEN 'rectifying' ELSE 'awaiting_recheck' END AS status) st
	WHERE vn.k % 4 = 3
	RETURNING 1
), p AS (
	INSERT INTO records (type, id, kind, region_id, region_path, parent_id, status, version, data, created_by)
	SELECT 'photo', md5('bench-photo-' || vn.id || '-' || j)::uuid, vn.kind, vn.region_id, vn.region_path, vn.id, 'ready', 1,
		jsonb_build_object('id', md5('bench-photo-' || vn.id || '-' || j)::uuid, 'status', 'ready',
			'attach', jsonb_build_object('visit_id', vn.id, 'captured_at', vn.at),
			'verdict', jsonb_build_object('level', (ARRAY['ok', 'ok', 'warn', 'fail'])[1 + vn.k % 4], 'reasons', '[]'::jsonb)),
		vn.created_by
	FROM vn, generate_series(1, 2) j
	WHERE vn.k % 5 = 0
	RETURNING 1
)
INSERT INTO visit_location (visit_id, level, photos)
SELECT vn.id, (ARRAY['ok', 'ok', 'warn', 'fail'])[1 + vn.k % 4], 2 FROM vn WHERE vn.k % 5 = 0`, lo, hi, n)
		if err != nil {
			return fmt.Errorf("bench visits %d–%d: %w", lo, hi, err)
		}
	}
	for _, q := range []string{`DROP TABLE bench_sites, bench_templates, bench_finding_templates`, `VACUUM ANALYZE records`,
		`VACUUM ANALYZE visit_location`, `ANALYZE users`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("bench %s: %w", q, err)
		}
	}
	return nil
}

// procStatusMB returns a field of /proc/self/status (VmRSS, VmHWM) in MB.
func procStatusMB(field string) float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}

// countingDiscard counts bytes and lines.
type countingDiscard struct{ bytes, lines int64 }

func (c *countingDiscard) Write(p []byte) (int, error) {
	c.bytes += int64(len(p))
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// benchExportBaseline COPYs the visits' own columns, in the report's order, to a discarding writer.
func benchExportBaseline(ctx context.Context, db *sql.DB) (int64, time.Duration, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	w := &countingDiscard{}
	start := time.Now()
	err = conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().PgConn().CopyTo(ctx, w, `COPY (
			SELECT r.id, r.kind, r.status, r.data->>'site_id', r.data->>'inspector_id', r.data->>'started_at',
				r.data->>'ended_at', r.region_path
			FROM records r WHERE r.type = 'visit' AND r.deleted_at IS NULL
			ORDER BY fieldsync_time(r.data->>'started_at') DESC, r.id DESC) TO STDOUT (FORMAT csv)`)
		return err
	})
	return w.lines, time.Since(start), err
}

func BenchmarkReportVisitsExport(b *testing.B) {
	e := benchReportEnv(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go e.h.app.Listener(ln)
	defer e.h.app.Shutdown()
	for _, format := range []string{"csv", "xlsx"} {
		b.Run(format, func(b *testing.B) {
			var rows int64
			var elapsed time.Duration
			var rss0, peak float64
			for range b.N {
				rows, elapsed, rss0, peak = benchExport(b, e, ln.Addr().String(), format)
			}
			base, baseElapsed, err := benchExportBaseline(context.Background(), e.h.store.SQL())
			if err != nil {
				b.Fatal(err)
			}
			rate, baseRate := float64(rows)/elapsed.Seconds(), float64(base)/baseElapsed.Seconds()
			b.ReportMetric(rate, "rows/s")
			b.ReportMetric(baseRate, "baseline-rows/s")
			b.ReportMetric(rate/baseRate, "export/baseline")
			b.ReportMetric(peak, "peak-RSS-MB")
			b.Logf("%s: %d rows in %v (%.0f rows/s); baseline COPY %d rows in %v (%.0f rows/s): ratio %.2f; RSS %.0f MB before, peak %.0f MB",
				format, rows, elapsed.Round(time.Millisecond), rate, base, baseElapsed.Round(time.Millisecond), baseRate,
				rate/baseRate, rss0, peak)
		})
	}
}

// benchExport downloads one export over the socket and returns its data rows, the time, and the
// RSS before and at peak.
func benchExport(b *testing.B, e *reportBenchEnv, addr, format string) (int64, time.Duration, float64, float64) {
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/reports/visits?format="+format, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset VmHWM (%v): the peak includes the set-up", err)
	}
	rss0 := procStatusMB("VmRSS")
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		body, _ := io.ReadAll(res.Body)
		b.Fatalf("export: %d %s", res.StatusCode, body)
	}
	var rows int64
	if format == "csv" {
		w := &countingDiscard{}
		if _, err := io.Copy(w, bufio.NewReaderSize(res.Body, 64<<10)); err != nil {
			b.Fatal(err)
		}
		rows = w.lines - 1
	} else {
		n, err := io.Copy(io.Discard, res.Body)
		if err != nil || n == 0 {
			b.Fatalf("xlsx: %d bytes, %v", n, err)
		}
		rows = benchVisitCount(b, e)
	}
	elapsed := time.Since(start)
	return rows, elapsed, rss0, procStatusMB("VmHWM")
}

func benchVisitCount(b *testing.B, e *reportBenchEnv) int64 {
	var n int64
	if err := e.h.store.SQL().QueryRow(`SELECT count(*) FROM records WHERE type = 'visit' AND deleted_at IS NULL`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

func BenchmarkReportVisitsFirstPage(b *testing.B) {
	e := benchReportEnv(b)
	db := e.h.store.SQL()
	ctx := context.Background()
	var township, townshipPath, site, inspector string
	if err := db.QueryRow(`SELECT t.id, t.path, v.data->>'site_id', v.data->>'inspector_id'
		FROM records v JOIN regions t ON t.id::text = split_part(v.region_path, '/', 4)
		WHERE v.type = 'visit' AND v.region_path LIKE $1 LIMIT 1`,
		e.county.Path+"%").Scan(&township, &townshipPath, &site, &inspector); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name, query string
		where       string // the baseline's filters (r = records), $1 = today for overdue
	}{
		{"kind+county+from", "kind=project_visit&region=" + e.county.Code + "&from=" + e.from,
			"r.kind = 'project_visit' AND r.region_path LIKE '" + e.county.Path + "%' AND fieldsync_time(r.data->>'started_at') >= '" + e.from + "T00:00:00+08:00'"},
		{"township+has_findings+submitted", "region=" + township + "&has_findings=true&status=submitted",
			"r.region_path LIKE '" + townshipPath + "%' AND r.status = 'submitted' AND EXISTS (SELECT 1 FROM records f WHERE f.parent_id = r.id AND f.type = 'finding' AND f.deleted_at IS NULL)"},
		{"county+overdue+location", "region=" + e.county.Code + "&overdue_findings=true&location=none",
			"r.region_path LIKE '" + e.county.Path + "%' AND NOT EXISTS (SELECT 1 FROM visit_location vl WHERE vl.visit_id = r.id) AND EXISTS (SELECT 1 FROM records f WHERE f.parent_id = r.id AND f.type = 'finding' AND f.deleted_at IS NULL AND f.status <> 'closed' AND f.data->>'deadline' < $1)"},
		{"site+from", "site=" + site + "&from=" + e.from,
			"r.data->>'site_id' = '" + site + "' AND fieldsync_time(r.data->>'started_at') >= '" + e.from + "T00:00:00+08:00'"},
		{"inspector+from", "inspector=" + inspector + "&from=" + e.from,
			"r.data->>'inspector_id' = '" + inspector + "' AND fieldsync_time(r.data->>'started_at') >= '" + e.from + "T00:00:00+08:00'"},
		{"no filter", "", "TRUE"},
	}
	today := todayCST(time.Now())
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var page, base []time.Duration
			var n int
			for range b.N {
				page, base = page[:0], base[:0]
				for range 15 {
					req := httptest.NewRequest("GET", "/v1/reports/visits?limit=100&"+c.query, nil)
					req.Header.Set("Authorization", "Bearer "+e.token)
					start := time.Now()
					res, err := e.h.app.Test(req, -1)
					if err != nil {
						b.Fatal(err)
					}
					body, _ := io.ReadAll(res.Body)
					page = append(page, time.Since(start))
					if res.StatusCode != 200 {
						b.Fatalf("%d %s", res.StatusCode, body)
					}
					n = bytes.Count(body, []byte(`"photo_count"`))
					start = time.Now()
					q := `SELECT r.id FROM records r WHERE r.type = 'visit' AND r.deleted_at IS NULL AND ` + c.where +
						` ORDER BY fieldsync_time(r.data->>'started_at') DESC, r.id DESC LIMIT 101`
					args := []any{}
					if strings.Contains(c.where, "$1") {
						args = append(args, today)
					}
					rows, err := db.QueryContext(ctx, q, args...)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
					}
					rows.Close()
					base = append(base, time.Since(start))
				}
			}
			slices.Sort(page)
			slices.Sort(base)
			p50, b50 := page[len(page)/2], base[len(base)/2]
			b.ReportMetric(float64(p50.Microseconds())/1000, "page-p50-ms")
			b.ReportMetric(float64(b50.Microseconds())/1000, "baseline-p50-ms")
			b.ReportMetric(float64(p50)/float64(b50), "page/baseline")
			b.Logf("%s: %d rows, page p50 %v (max %v), bare SELECT p50 %v", c.name, n, p50, page[len(page)-1], b50)
		})
	}
}
