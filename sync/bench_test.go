package sync

// Sync-engine benchmarks, each printed next to a baseline measured in the same run on the same
// private PostgreSQL cluster (storage/pgtest: same server, same settings, fsync off) through the same
// pgx-backed database/sql pool settings (storage.Open, 16 connections):
//
//	BenchmarkPushBaselineInsert  raw multi-row INSERT (unnest) of the rows a push writes → rows/s
//	BenchmarkPush                20,000 visit.create of ~1.5 KB in pushes of 500 → mutations/s, push/baseline
//	BenchmarkBootstrapPull       100,000 visits pulled from cursor null in pages of 1,000 → records/s,
//	                             against a keyset-paginated SELECT of the same rows → pull/baseline, RSS
//	BenchmarkIncrementalSync     1,000 phones: one push of 10, then pull to completion → p50/p99 latencies
//
// Run (a few minutes on a 2-core machine; nothing here runs without -bench):
//
//	go test -run '^$' -bench 'Push|Bootstrap|Incremental' -benchtime 1x -timeout 60m ./sync/
//
// Setup (fresh databases, bulk loads, bootstraps) happens only inside the benchmarks, off the timer.

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

const (
	benchPushMutations = 20000  // mutations per BenchmarkPush iteration
	benchPushBatch     = 500    // mutations per push (and rows per baseline INSERT)
	benchArgsBytes     = 1536   // JSON size of one visit.create's args
	benchBootRecords   = 100000 // visits in the bootstrapped scope
	benchPage          = 1000   // bootstrap page size (pull limit and baseline LIMIT)
	benchDevices       = 1000   // phones in BenchmarkIncrementalSync
	benchDeviceMuts    = 10     // mutations per phone push
	benchSyncWorkers   = 8      // concurrent phones
	benchSyncPreload   = 10000  // visits in the database before the phones bootstrap
)

var benchPushClients = []int{1, 8}

// benchRates holds rates measured in this run, so a benchmark can print its ratio to a baseline
// measured earlier in the same process ("push/clients=8" → mutations/s ...).
var benchRates = struct {
	gosync.Mutex
	m map[string]float64
}{m: map[string]float64{}}

func benchRate(key string) (float64, bool) {
	benchRates.Lock()
	defer benchRates.Unlock()
	v, ok := benchRates.m[key]
	return v, ok
}

func setBenchRate(key string, v float64) {
	benchRates.Lock()
	defer benchRates.Unlock()
	benchRates.m[key] = v
}

// benchEnv is an engine on a fresh demo database, through a store of 16 connections.
func benchEnv(b *testing.B) *env {
	b.Helper()
	_, dsn := newDemoStore(b)
	ctx := context.Background()
	st, err := storage.Open(ctx, dsn, storage.Options{MaxOpenConns: 16})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	e := &env{t: b, ctx: ctx, store: st, dsn: dsn, engine: New(st, DefaultConfig())}
	e.harnessSites() // the sites the generated visits name
	return e
}

// townships returns the township regions inside scope.
func (e *env) townships(scope models.Scope) []models.Region {
	e.t.Helper()
	rs, err := e.store.ListRegions(e.ctx, storage.RegionFilter{Scope: scope, MaxLevel: models.LevelTownship})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []models.Region
	for _, r := range rs {
		if r.Level == models.LevelTownship {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		e.t.Fatalf("no township in scope %q", scope.RegionPath)
	}
	return out
}

var benchWords = strings.Fields(`inspection site crane scaffold fence concrete pour rebar helmet net workers
	foreman permit drawing delay rain road culvert bridge pile formwork slab column beam trench excavation
	drainage cable lighting sign barrier dust water pump generator storage fuel extinguisher exit stair
	railing hoist ladder wall plaster brick mortar steel weld bolt anchor crack level survey stake`)

// benchText returns n bytes of plain words (JSON-safe, compressible like real notes).
func benchText(r *rand.Rand, n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(benchWords[r.IntN(len(benchWords))])
	}
	return sb.String()[:max(n, 0)]
}

var benchAllKinds = []models.Kind{models.KindProjectVisit, models.KindPlantingCheck, models.KindFirePatrol, models.KindAgriInputCheck}

// benchVisitArgs returns the args of a visit.create of benchArgsBytes bytes of JSON: the
// harness's visitArgs with a dozen more answers and notes padded to size.
func benchVisitArgs(r *rand.Rand, id uuid.UUID, kind models.Kind, region models.Region) json.RawMessage {
	args := visitArgs(id, kind, region)
	answers := args["answers"].(map[string]any)
	answers["workers_on_site"] = 20 + r.IntN(200)
	for k := 1; k <= 12; k++ {
		answers[fmt.Sprintf("item_%02d", k)] = benchText(r, 40+r.IntN(30))
	}
	args["ended_at"] = "2026-03-14T10:40:00+08:00"
	args["notes"] = ""
	raw, _ := json.Marshal(args)
	args["notes"] = benchText(r, benchArgsBytes-len(raw))
	raw, err := json.Marshal(args)
	if err != nil {
		panic(err)
	}
	return raw
}

// benchMutations returns n visit.create mutations, regions and kinds taken round-robin.
func benchMutations(r *rand.Rand, n int, regions []models.Region, kinds []models.Kind, offset int) []Mutation {
	ms := make([]Mutation, n)
	ct := time.Now().Format(time.RFC3339)
	for i := range ms {
		j := offset + i
		ms[i] = Mutation{Name: "visit.create", ClientTime: ct,
			Args: benchVisitArgs(r, uuid.New(), kinds[j%len(kinds)], regions[j%len(regions)])}
	}
	return ms
}

// benchRecord is the record (and change-log row) the engine writes for a visit.create with these
// args by actor a: the same code path as visitCreate and Work.newRecord.
func benchRecord(w *Work, raw json.RawMessage, region models.Region) (models.Record, models.Change) {
	var a visitCreateArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		panic(err)
	}
	v := models.Visit{ID: a.ID, Kind: a.Kind, SiteID: a.SiteID, InspectorID: w.actor.User.ID, Checklist: a.Checklist,
		StartedAt: a.StartedAt, EndedAt: a.EndedAt, Position: a.Position, Answers: a.Answers, Notes: a.Notes,
		Status: models.VisitDraft, DeviceID: w.actor.DeviceID, RegionID: region.ID}
	rec := w.newRecord(models.TypeVisit, v.ID, v.Kind, &region, nil, v.Status, &v)
	return *rec, models.Change{RecordType: rec.Type, RecordID: rec.ID.String(), Op: models.OpPut, Version: rec.Version,
		Kind: rec.Kind, RegionPath: rec.RegionPath}
}

// benchFill writes n visits by actor a straight into records and the change log (SaveRecords +
// AppendChanges inside InTx, 2,000 a transaction, two writers), then VACUUM ANALYZEs, as
// autovacuum would soon after a bulk load.
func benchFill(b *testing.B, e *env, n int, a Actor, regions []models.Region) time.Duration {
	b.Helper()
	const batch = 2000
	start := time.Now()
	next := make(chan int)
	go func() {
		for i := 0; i < n; i += batch {
			next <- i
		}
		close(next)
	}()
	errs := make(chan error, 2)
	for wk := 0; wk < 2; wk++ {
		go func(wk int) {
			r := rand.New(rand.NewPCG(uint64(wk), 7))
			w := &Work{actor: a, clientID: uuid.New(), now: time.Now().UTC()} // field meta names the install, as in a push
			var err error
			for i := range next {
				if err != nil {
					continue
				}
				m := min(batch, n-i)
				recs, changes := make([]models.Record, m), make([]models.Change, m)
				for k := range m {
					reg := regions[(i+k)%len(regions)]
					recs[k], changes[k] = benchRecord(w, benchVisitArgs(r, uuid.New(), benchAllKinds[(i+k)%4], reg), reg)
				}
				err = e.store.InTx(e.ctx, func(tx *storage.Store) error {
					if err := tx.SaveRecords(e.ctx, recs, true); err != nil {
						return err
					}
					_, err := tx.AppendChanges(e.ctx, changes)
					return err
				})
			}
			errs <- err
		}(wk)
	}
	for range 2 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	if _, err := e.store.SQL().ExecContext(e.ctx, `VACUUM ANALYZE records, change_log`); err != nil {
		b.Fatal(err)
	}
	return time.Since(start).Round(time.Millisecond)
}

// ---------------------------------------------------------------------------------------------
// 1. Push

// BenchmarkPushBaselineInsert inserts the rows BenchmarkPush's mutations produce (the same record
// rows and JSON the engine writes: data and field_meta) with one multi-row INSERT ... SELECT FROM
// unnest per 500 rows, 1 and 8 concurrent writers, same pool settings as the engine's store.
func BenchmarkPushBaselineInsert(b *testing.B) {
	for _, clients := range benchPushClients {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := benchEnv(b)
			a := e.actor("inspector", "bench-baseline")
			regions := e.townships(models.Scope{})
			r := rand.New(rand.NewPCG(1, uint64(clients)))
			w := &Work{actor: a, clientID: uuid.New(), now: time.Now().UTC()} // field meta names the install, as in a push
			type batch struct{ args []any }
			batches := make([][]batch, b.N)
			for it := range b.N {
				for i := 0; i < benchPushMutations; i += benchPushBatch {
					ms := benchMutations(r, benchPushBatch, regions, benchAllKinds, i)
					recs := make([]models.Record, len(ms))
					for k, m := range ms {
						recs[k], _ = benchRecord(w, m.Args, regions[(i+k)%len(regions)])
					}
					batches[it] = append(batches[it], batch{args: baselineInsertArgs(recs)})
				}
			}
			db := e.store.SQL()
			b.ResetTimer()
			for it := range b.N {
				work := make(chan batch, len(batches[it]))
				for _, bt := range batches[it] {
					work <- bt
				}
				close(work)
				errs := make(chan error, clients)
				for range clients {
					go func() {
						for bt := range work {
							if _, err := db.ExecContext(e.ctx, baselineInsertSQL, bt.args...); err != nil {
								errs <- err
								return
							}
						}
						errs <- nil
					}()
				}
				for range clients {
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			reportLoad(b)
			rate := float64(b.N*benchPushMutations) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "rows/s")
			setBenchRate(fmt.Sprintf("baseline/clients=%d", clients), rate)
			if push, ok := benchRate(fmt.Sprintf("push/clients=%d", clients)); ok {
				b.Logf("push/baseline clients=%d: %.3f (target >= 0.5)", clients, push/rate)
			}
		})
	}
}

// baselineInsertSQL is a plain multi-row insert of record rows (no upsert: the rows are new).
const baselineInsertSQL = `INSERT INTO records (type, id, kind, region_id, region_path, parent_id, status, version,
		data, field_meta, created_by, deleted_at)
	SELECT t, i, k, rg, rp, NULL, st, v, d::jsonb, fm::jsonb, cb, NULL
	FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::text[],
		$9::text[], $10::uuid[]) AS u(t, i, k, rg, rp, st, v, d, fm, cb)`

func baselineInsertArgs(recs []models.Record) []any {
	n := len(recs)
	typ, id, kind, region, path, status := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n)
	version := make([]int64, n)
	data, meta, createdBy := make([]string, n), make([]string, n), make([]string, n)
	for i, r := range recs {
		fm, _ := json.Marshal(r.FieldMeta)
		typ[i], id[i], kind[i], region[i], path[i], status[i] = r.Type, r.ID.String(), string(r.Kind), r.RegionID.String(),
			r.RegionPath, r.Status
		version[i], data[i], meta[i], createdBy[i] = r.Version, string(r.Data), string(fm), r.CreatedBy.String()
	}
	return []any{typ, id, kind, region, path, status, version, data, meta, createdBy}
}

// BenchmarkPush pushes 20,000 visit.create mutations (~1.5 KB of JSON each) in pushes of 500,
// from 1 and from 8 phones of the city inspector at once (each phone pushes its share in order),
// visits spread round-robin over every township.
func BenchmarkPush(b *testing.B) {
	for _, clients := range benchPushClients {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := benchEnv(b)
			regions := e.townships(models.Scope{})
			r := rand.New(rand.NewPCG(2, uint64(clients)))
			phones := make([]*phone, clients)
			for i := range phones {
				phones[i] = &phone{e: e, a: e.actor("inspector", fmt.Sprintf("bench-dev-%d", i)), id: uuid.New(), next: 1}
			}
			per := benchPushMutations / clients
			queues := make([][][]Mutation, b.N) // iteration → phone → its mutations
			for it := range b.N {
				queues[it] = make([][]Mutation, clients)
				for c := range clients {
					queues[it][c] = benchMutations(r, per, regions, benchAllKinds, c*per)
				}
			}
			b.ResetTimer()
			for it := range b.N {
				errs := make(chan error, clients)
				for c, p := range phones {
					go func() {
						errs <- benchPushQueue(p, queues[it][c])
					}()
				}
				for range clients {
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			reportLoad(b)
			rate := float64(b.N*benchPushMutations) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "mutations/s")
			setBenchRate(fmt.Sprintf("push/clients=%d", clients), rate)
			if base, ok := benchRate(fmt.Sprintf("baseline/clients=%d", clients)); ok {
				b.ReportMetric(rate/base, "push/baseline")
				b.Logf("push/baseline clients=%d: %.0f mutations/s / %.0f rows/s = %.3f (target >= 0.5)", clients, rate, base, rate/base)
			}
		})
	}
}

// benchPushQueue pushes a phone's queue in pushes of benchPushBatch and checks every result.
func benchPushQueue(p *phone, ms []Mutation) error {
	for i := 0; i < len(ms); i += benchPushBatch {
		batch := ms[i:min(i+benchPushBatch, len(ms))]
		resp, err := p.pushErr(batch...)
		if err != nil {
			return err
		}
		if err := checkApplied(resp, len(batch)); err != nil {
			return err
		}
	}
	return nil
}

func checkApplied(resp *PushResponse, n int) error {
	if len(resp.Results) != n {
		return fmt.Errorf("push: %d results for %d mutations", len(resp.Results), n)
	}
	for _, res := range resp.Results {
		if res.Status != models.StatusApplied {
			return fmt.Errorf("push: mutation %d %s: %+v", res.ID, res.Status, res.Error)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// 2. Bootstrap pull

// procStatus returns a field of /proc/self/status in MB (VmRSS, VmHWM).
func procStatus(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux: clear_refs 5).
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// reportLoad reports the 1-minute load average at the end of a benchmark: other work on the
// machine (2 cores shared with PostgreSQL) skews every rate, so the table shows it.
func reportLoad(b *testing.B) {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	if v, err := strconv.ParseFloat(strings.Fields(string(raw))[0], 64); err == nil {
		b.ReportMetric(v, "load-1m")
	}
}

func heapMB() float64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse) / (1 << 20)
}

// BenchmarkBootstrapPull pulls a whole-city scope holding 100,000 visits (plus the demo city's
// regions and users) from cursor null in pages of 1,000, discarding each page as a phone would
// after applying it; the baseline reads the same 100,000 rows (every column the pull reads,
// data included) with a keyset-paginated SELECT ... WHERE id > $last ORDER BY id LIMIT 1000.
// Both run on one database after an untimed warm-up read of the table.
func BenchmarkBootstrapPull(b *testing.B) {
	e := benchEnv(b)
	insp := e.actor("inspector", "bench-boot")
	fill := benchFill(b, e, benchBootRecords, insp, e.townships(models.Scope{}))
	if _, err := baselineScan(e); err != nil { // warm-up: the same pages are cached for both
		b.Fatal(err)
	}

	b.Run("baseline-select", func(b *testing.B) {
		rows := 0
		for range b.N {
			n, err := baselineScan(e)
			if err != nil {
				b.Fatal(err)
			}
			rows += n
		}
		if rows != b.N*benchBootRecords {
			b.Fatalf("baseline read %d rows, want %d", rows, b.N*benchBootRecords)
		}
		rate := float64(rows) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "rows/s")
		reportLoad(b)
		setBenchRate("bootstrap/baseline", rate)
	})

	b.Run("pull", func(b *testing.B) {
		total, visits := 0, 0
		var rss10, rss100, heap10, heap100, rss0, peak float64
		for it := range b.N {
			p := &phone{e: e, a: insp, id: uuid.New(), next: 1}
			var cursor *string
			sample := it == 0
			if sample {
				b.StopTimer()
				runtime.GC()
				if !resetPeakRSS() {
					b.Log("cannot reset VmHWM; peak RSS includes setup")
				}
				rss0 = procStatus("VmRSS")
				b.StartTimer()
			}
			for page := 1; ; page++ {
				resp, err := e.engine.Pull(e.ctx, p.a, &PullRequest{ClientID: p.id, Cursor: cursor, Limit: benchPage})
				if err != nil {
					b.Fatal(err)
				}
				total += len(resp.Changes)
				for _, c := range resp.Changes {
					if c.Type == models.TypeVisit {
						visits++
					}
				}
				c := resp.Cursor
				cursor = &c
				if sample && (page == 10 || page == 100) {
					r, h := procStatus("VmRSS"), heapMB()
					if page == 10 {
						rss10, heap10 = r, h
					} else {
						rss100, heap100 = r, h
					}
				}
				if !resp.HasMore {
					break
				}
				if page > 10*benchBootRecords/benchPage {
					b.Fatal("bootstrap never ends")
				}
			}
			if sample {
				peak = procStatus("VmHWM")
			}
		}
		b.StopTimer()
		reportLoad(b)
		if visits != b.N*benchBootRecords {
			b.Fatalf("pulled %d visits, want %d", visits, b.N*benchBootRecords)
		}
		rate := float64(total) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "records/s")
		b.ReportMetric(float64(total/b.N), "records/op")
		b.ReportMetric(peak, "peak-RSS-MB")
		b.ReportMetric(rss10, "RSS@10pages-MB")
		b.ReportMetric(rss100, "RSS@100pages-MB")
		b.Logf("setup: %d visits written in %v (not timed)", benchBootRecords, fill)
		b.Logf("RSS: %.0f MB before paging, %.0f MB after 10 pages, %.0f MB after 100 pages, peak (VmHWM) %.0f MB; "+
			"Go heap in use %.0f MB after 10 pages, %.0f MB after 100", rss0, rss10, rss100, peak, heap10, heap100)
		if base, ok := benchRate("bootstrap/baseline"); ok {
			b.ReportMetric(rate/base, "pull/baseline")
			b.Logf("pull/baseline: %.0f records/s / %.0f rows/s = %.3f (target >= 0.5)", rate, base, rate/base)
		}
	})
}

// baselineScan reads every visit with keyset pagination in pages of benchPage, scanning each
// column into Go values (the JSON columns as bytes).
func baselineScan(e *env) (int, error) {
	db := e.store.SQL()
	after := uuid.Nil
	n := 0
	for {
		rows, err := db.QueryContext(e.ctx, `SELECT type, id, kind, region_id, region_path, parent_id, status, version,
				data, field_meta, created_by, created_at, updated_at, deleted_at
			FROM records WHERE type = 'visit' AND id > $1 ORDER BY id LIMIT $2`, after, benchPage)
		if err != nil {
			return n, err
		}
		got := 0
		for rows.Next() {
			var typ, kind, path, status string
			var id uuid.UUID
			var region, parent, createdBy uuid.NullUUID
			var version int64
			var data, meta []byte
			var created, updated time.Time
			var deleted sql.NullTime
			if err := rows.Scan(&typ, &id, &kind, &region, &path, &parent, &status, &version, &data, &meta, &createdBy,
				&created, &updated, &deleted); err != nil {
				rows.Close()
				return n, err
			}
			after = id
			got++
		}
		if err := rows.Err(); err != nil {
			return n, err
		}
		rows.Close()
		n += got
		if got < benchPage {
			return n, nil
		}
	}
}

// ---------------------------------------------------------------------------------------------
// 3. Incremental sync

// benchSyncUsers are the demo users whose phones sync: whole-city (inspector, supervisor, the
// departments, each with its kinds) and the county- and township-scoped ones.
var benchSyncUsers = []string{"inspector", "supervisor", "dept.drc", "dept.agri", "dept.market", "supervisor.qinghe",
	"inspector.jianan", "ranger.dongsheng"}

func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	i := int(p*float64(len(d))+0.5) - 1
	i = min(max(i, 0), len(d)-1)
	return float64(d[i]) / float64(time.Millisecond)
}

// BenchmarkIncrementalSync: 1,000 phones (1,000 client ids over the eight non-admin demo users,
// round-robin), each bootstrapped during setup (one bootstrap per user; its cursor is reused by
// every phone of that user, as the cursor is bound to the scope, not the client) on a database
// already holding 10,000 visits. Then, 8 at a time, each phone pushes 10 visit.create in one push
// and pulls (pages of 500, the default) until has_more is false, so a phone syncing later also
// receives what the phones before it pushed. Reports p50/p99 of each push call, each pull call,
// and a phone's whole sync (its push plus every pull page).
func BenchmarkIncrementalSync(b *testing.B) {
	e := benchEnv(b)
	fill := benchFill(b, e, benchSyncPreload, e.actor("inspector", "bench-preload"), e.townships(models.Scope{}))
	type userSetup struct {
		a       Actor
		regions []models.Region
		kinds   []models.Kind
		cursor  string
	}
	setups := make([]userSetup, len(benchSyncUsers))
	bootStart := time.Now()
	for i, name := range benchSyncUsers {
		a := e.actor(name, "bench-boot")
		p := &phone{e: e, a: a, id: uuid.New(), next: 1}
		var cursor *string
		for {
			resp, err := e.engine.Pull(e.ctx, a, &PullRequest{ClientID: p.id, Cursor: cursor, Limit: benchPage})
			if err != nil {
				b.Fatal(err)
			}
			c := resp.Cursor
			cursor = &c
			if !resp.HasMore {
				break
			}
		}
		kinds := a.Scope.Kinds
		if len(kinds) == 0 {
			kinds = benchAllKinds
		}
		setups[i] = userSetup{a: a, regions: e.townships(a.Scope), kinds: kinds, cursor: *cursor}
	}
	b.Logf("setup (not timed): %d visits written in %v; %d users bootstrapped in %v", benchSyncPreload, fill,
		len(benchSyncUsers), time.Since(bootStart).Round(time.Millisecond))

	type device struct {
		p   *phone
		ms  [][]Mutation // per iteration
		cur string
	}
	r := rand.New(rand.NewPCG(3, 3))
	devices := make([]*device, benchDevices)
	for i := range devices {
		u := setups[i%len(setups)]
		a := u.a
		a.DeviceID = fmt.Sprintf("bench-phone-%d", i)
		d := &device{p: &phone{e: e, a: a, id: uuid.New(), next: 1}, cur: u.cursor}
		for range b.N {
			d.ms = append(d.ms, benchMutations(r, benchDeviceMuts, u.regions, u.kinds, i))
		}
		devices[i] = d
	}

	type stats struct {
		push, pull, sync []time.Duration
		pages, changes   int
	}
	var all stats
	var mu gosync.Mutex
	b.ResetTimer()
	for it := range b.N {
		next := make(chan *device)
		go func() {
			for _, d := range devices {
				next <- d
			}
			close(next)
		}()
		errs := make(chan error, benchSyncWorkers)
		for range benchSyncWorkers {
			go func() {
				var st stats
				err := func() error {
					for d := range next {
						t0 := time.Now()
						resp, err := d.p.pushErr(d.ms[it]...)
						st.push = append(st.push, time.Since(t0))
						if err != nil {
							return err
						}
						if err := checkApplied(resp, benchDeviceMuts); err != nil {
							return err
						}
						for {
							t1 := time.Now()
							resp, err := e.engine.Pull(e.ctx, d.p.a, &PullRequest{ClientID: d.p.id, Cursor: &d.cur})
							st.pull = append(st.pull, time.Since(t1))
							if err != nil {
								return err
							}
							st.pages++
							st.changes += len(resp.Changes)
							d.cur = resp.Cursor
							if !resp.HasMore {
								break
							}
						}
						st.sync = append(st.sync, time.Since(t0))
					}
					return nil
				}()
				mu.Lock()
				all.push, all.pull, all.sync = append(all.push, st.push...), append(all.pull, st.pull...), append(all.sync, st.sync...)
				all.pages, all.changes = all.pages+st.pages, all.changes+st.changes
				mu.Unlock()
				errs <- err
			}()
		}
		var firstErr error
		for range benchSyncWorkers {
			if err := <-errs; err != nil && firstErr == nil {
				firstErr = err
			}
		}
		if firstErr != nil {
			b.Fatal(firstErr)
		}
	}
	b.StopTimer()
	reportLoad(b)
	for _, d := range [][]time.Duration{all.push, all.pull, all.sync} {
		slices.Sort(d)
	}
	b.ReportMetric(percentile(all.push, 0.50), "push-p50-ms")
	b.ReportMetric(percentile(all.push, 0.99), "push-p99-ms")
	b.ReportMetric(percentile(all.pull, 0.50), "pull-p50-ms")
	b.ReportMetric(percentile(all.pull, 0.99), "pull-p99-ms")
	b.ReportMetric(percentile(all.sync, 0.50), "sync-p50-ms")
	b.ReportMetric(percentile(all.sync, 0.99), "sync-p99-ms")
	b.ReportMetric(float64(all.pages)/float64(b.N*benchDevices), "pulls/phone")
	b.ReportMetric(float64(all.changes)/float64(b.N*benchDevices), "changes/phone")
	b.ReportMetric(float64(b.N*benchDevices)/b.Elapsed().Seconds(), "phones/s")
	b.Logf("%d pushes, %d pull calls, %d changes delivered in %v", len(all.push), len(all.pull), all.changes,
		b.Elapsed().Round(time.Millisecond))
}
