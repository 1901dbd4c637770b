package sync

import (
	"fmt"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// BenchmarkResultsTableSize measures what the stored push results cost and what pruning gives
// back: 1,000,000 mutation results of 1,000 app installs (pushes of 10, so 100,000 push markers),
// written with the push's own statement (storage.SaveResults: the rows a push writes), 90% of them
// applied before the result retention window. It reports pg_total_relation_size of sync_mutations
// and sync_pushes before pruning, after storage.PruneResults and a VACUUM (what autovacuum does:
// the space is reused by new rows, so the tables stop growing), and after VACUUM FULL (the size the
// kept rows need), and how long pruning took.
//
//	go test -run '^$' -bench ResultsTableSize -benchtime 1x -timeout 30m ./sync/
func BenchmarkResultsTableSize(b *testing.B) {
	const clients, perClient, perPush = 1000, 1000, 10
	for range b.N {
		e := benchEnv(b)
		a := e.actor("inspector", "bench-results")
		ids := make([]uuid.UUID, clients)
		b.StopTimer()
		for c := range ids {
			ids[c] = uuid.New()
			err := e.store.InTx(e.ctx, func(tx *storage.Store) error {
				if _, err := tx.LockClient(e.ctx, ids[c], a.User.ID, a.DeviceID, "2.3.0"); err != nil {
					return err
				}
				results, names := make([]models.MutationResult, perClient), make([]string, perClient)
				for i := range results {
					results[i] = models.MutationResult{ID: int64(i + 1), Status: models.StatusApplied,
						Entity: &models.EntityRef{Type: models.TypeVisit, ID: uuid.New(), Version: 1}}
					names[i] = "visit.create"
					if i%20 == 19 {
						results[i] = models.MutationResult{ID: int64(i + 1), Status: models.StatusRejected,
							Error: &models.MutationError{Code: "out_of_scope", Field: "site_id",
								Message: "the site lies outside the visit's region 东升镇 (211522105)"}}
					}
				}
				return tx.SaveResults(e.ctx, ids[c], names, results)
			})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.store.SQL().ExecContext(e.ctx, `INSERT INTO sync_pushes (client_id, last_mutation_id, seq)
				SELECT $1, n * $2, n FROM generate_series(1, $3::int) n`, ids[c], perPush, perClient/perPush); err != nil {
				b.Fatal(err)
			}
		}
		// 90% applied before the window (results 1–900 of each client), the rest within it; the
		// change log was pruned past every push marker but the newest of each client.
		exec := func(q string, args ...any) {
			if _, err := e.store.SQL().ExecContext(e.ctx, q, args...); err != nil {
				b.Fatal(err)
			}
		}
		exec(`UPDATE sync_mutations SET applied_at = now() - interval '100 days' WHERE mutation_id <= $1`, perClient*9/10)
		exec(`UPDATE sync_state SET pruned_through = $1`, perClient/perPush)
		exec(`VACUUM FULL ANALYZE sync_mutations, sync_pushes`) // as freshly written: without the rows the UPDATE left behind
		size := func() (float64, float64) {
			var m, p int64
			if err := e.store.SQL().QueryRowContext(e.ctx, `SELECT pg_total_relation_size('sync_mutations'),
				pg_total_relation_size('sync_pushes')`).Scan(&m, &p); err != nil {
				b.Fatal(err)
			}
			return float64(m) / (1 << 20), float64(p) / (1 << 20)
		}
		m0, p0 := size()
		b.StartTimer()
		start := time.Now()
		rep, err := e.store.PruneResults(e.ctx, time.Now().Add(-DefaultConfig().ResultRetention), 10000)
		took := time.Since(start)
		b.StopTimer()
		if err != nil || rep.Results != clients*perClient*9/10 || rep.Pushes != clients*(perClient/perPush-1) {
			b.Fatalf("prune: %+v %v", rep, err)
		}
		exec(`VACUUM ANALYZE sync_mutations, sync_pushes`)
		m1, p1 := size()
		exec(`VACUUM FULL sync_mutations, sync_pushes`)
		m2, p2 := size()
		b.ReportMetric(m0, "MB_results_before")
		b.ReportMetric(m1, "MB_results_vacuumed")
		b.ReportMetric(m2, "MB_results_full")
		b.ReportMetric(p0, "MB_pushes_before")
		b.ReportMetric(p2, "MB_pushes_full")
		b.ReportMetric(took.Seconds(), "prune_s")
		b.Log(fmt.Sprintf("1,000,000 results: sync_mutations %.1f MB before, %.1f MB after pruning 900,000 and VACUUM, "+
			"%.1f MB after VACUUM FULL; sync_pushes %.1f → %.1f → %.1f MB (100,000 → 1,000 markers); pruning took %s",
			m0, m1, m2, p0, p1, p2, took.Round(time.Millisecond)))
	}
}
