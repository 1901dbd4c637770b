package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/cmd/fieldctl/fieldwork"
	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
)

// Config sizes a run. The defaults take a few minutes on two cores.
type Config struct {
	Mutations int // visit.create pushed by Workers phones (default 8,000)
	Photos    int // photos uploaded by Workers phones (default 64)
	PhotoKiB  int // approximate size of each photo (default 512)
	Devices   int // phones in the incremental sync (default 1,000)
	Workers   int // concurrent phones (default 8)
	// Fieldsync is the server binary to run (default: see FieldsyncBinary).
	Fieldsync string
	Log       func(format string, args ...any)
}

// Row is one line of the table.
type Row struct {
	Measure, Fieldsync, Baseline, Ratio string
}

// Run runs every benchmark and returns the table rows.
func Run(ctx context.Context, cfg Config) ([]Row, error) {
	cfg.Mutations = cmpOr(cfg.Mutations, 8000)
	cfg.Photos = cmpOr(cfg.Photos, 64)
	cfg.PhotoKiB = cmpOr(cfg.PhotoKiB, 512)
	cfg.Devices = cmpOr(cfg.Devices, 1000)
	cfg.Workers = cmpOr(cfg.Workers, 8)
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	e, err := start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer e.close()
	var rows []Row
	for _, f := range []func(context.Context, *env, Config) ([]Row, error){benchPush, benchPull, benchUpload, benchIncremental} {
		r, err := f(ctx, e, cfg)
		if err != nil {
			return rows, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// Print writes the table.
func Print(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tfieldsync (HTTP, fieldctl phones)\tbaseline (same run)\tratio")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Measure, r.Fieldsync, r.Baseline, r.Ratio)
	}
	tw.Flush()
}

func cmpOr(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// parallel runs f(i) for i in [0, n) on workers goroutines; the first error wins.
func parallel(n, workers int, f func(i int) error) error {
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return first
}

// phones logs n phones in as username, bootstrapping them when pull is set.
func phones(ctx context.Context, e *env, username string, n, workers int, pull bool) ([]*device.Device, error) {
	ds := make([]*device.Device, n)
	var mu sync.Mutex
	err := parallel(n, workers, func(i int) error {
		mu.Lock()
		d, err := e.phone(ctx, username)
		mu.Unlock()
		if err != nil {
			return err
		}
		ds[i] = d
		if pull {
			_, err = d.Sync(ctx, device.SyncOptions{Retry: retry(), SkipPush: true, SkipUploads: true})
		}
		return err
	})
	return ds, err
}

func closeAll(ds []*device.Device) {
	for _, d := range ds {
		if d != nil {
			d.Close()
		}
	}
}

// notes pads a visit to about 1.5 KB of JSON, like a filled-in checklist.
var notes = strings.Repeat("现场检查记录 site notes ", 50)

// benchPush: Workers phones push Mutations visit.create in pushes of 500, against batched
// multi-row INSERTs (unnest, 500 rows) of the same visits as record rows, into a copy of the
// records table, by Workers writers.
func benchPush(ctx context.Context, e *env, cfg Config) ([]Row, error) {
	cfg.Log("push: %d visit.create from %d phones", cfg.Mutations, cfg.Workers)
	ds, err := phones(ctx, e, "inspector", cfg.Workers, cfg.Workers, false)
	defer closeAll(ds)
	if err != nil {
		return nil, err
	}
	scout, err := e.phone(ctx, "inspector")
	if err != nil {
		return nil, err
	}
	defer scout.Close()
	if _, err := scout.Sync(ctx, device.SyncOptions{Retry: retry()}); err != nil {
		return nil, err
	}
	sites, err := fieldwork.PulledSites(ctx, scout)
	if err != nil {
		return nil, err
	}
	projects := sites["project"]
	e.projectSite = projects[0]
	var rowsJSON [][]byte
	for i := range cfg.Mutations {
		d := ds[i%len(ds)]
		in := device.VisitInput{Kind: "project_visit", SiteID: projects[i%len(projects)], Notes: notes,
			Answers: map[string]any{"stage": "under_construction", "workers_on_site": i % 300, "progress_pct": 50.5}}
		if _, err := d.NewVisit(ctx, in); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(map[string]any{"kind": in.Kind, "site_id": in.SiteID, "notes": in.Notes, "answers": in.Answers,
			"status": "draft", "started_at": time.Now()})
		rowsJSON = append(rowsJSON, b)
	}
	t0 := time.Now()
	err = parallel(len(ds), cfg.Workers, func(i int) error {
		_, err := ds[i].Sync(ctx, device.SyncOptions{Retry: retry(), PushBatch: 500, SkipUploads: true, SkipPull: true})
		return err
	})
	if err != nil {
		return nil, err
	}
	pushRate := float64(cfg.Mutations) / time.Since(t0).Seconds()

	db := e.db
	// The baseline writes what any server must keep of these visits, in the same shape: a record
	// row per visit in a copy of the records table (same columns, keys and indexes).
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_baseline (LIKE records INCLUDING ALL)`); err != nil {
		return nil, err
	}
	var regionID, regionPath, userID string
	if err := db.QueryRowContext(ctx, `SELECT region_id, region_path, created_by FROM records WHERE type = 'visit'
		AND region_id IS NOT NULL AND created_by IS NOT NULL LIMIT 1`).Scan(&regionID, &regionPath, &userID); err != nil {
		return nil, err
	}
	type batch struct {
		ids  []string
		data []string
	}
	var batches []batch
	for i := 0; i < len(rowsJSON); i += 500 {
		var bt batch
		for _, r := range rowsJSON[i:min(i+500, len(rowsJSON))] {
			bt.ids, bt.data = append(bt.ids, uuid.NewString()), append(bt.data, string(r))
		}
		batches = append(batches, bt)
	}
	t0 = time.Now()
	err = parallel(len(batches), cfg.Workers, func(i int) error {
		_, err := db.ExecContext(ctx, `INSERT INTO bench_baseline (type, id, kind, region_id, region_path, status, version,
				data, field_meta, created_by)
			SELECT 'visit', i, 'project_visit', $3::uuid, $4, 'draft', 1, d::jsonb, '{}', $5::uuid
			FROM unnest($1::uuid[], $2::text[]) AS u(i, d)`,
			batches[i].ids, batches[i].data, regionID, regionPath, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	baseRate := float64(cfg.Mutations) / time.Since(t0).Seconds()
	_, _ = db.ExecContext(ctx, `DROP TABLE bench_baseline`)
	return []Row{{fmt.Sprintf("push, %d phones (mutations/s)", cfg.Workers), fmt.Sprintf("%.0f", pushRate),
		fmt.Sprintf("%.0f rows/s (INSERT … unnest into a copy of records, 500 rows)", baseRate), fmt.Sprintf("%.2f", pushRate/baseRate)}}, nil
}

// benchPull: a supervisor's phone bootstraps the whole city (demo plus the pushed visits) in
// pages of 1,000, against a keyset-paginated SELECT of the records table in pages of 1,000.
func benchPull(ctx context.Context, e *env, cfg Config) ([]Row, error) {
	cfg.Log("pull: a supervisor bootstraps the city")
	d, err := e.phone(ctx, "supervisor")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	t0 := time.Now()
	rep, err := d.Sync(ctx, device.SyncOptions{Retry: retry(), SkipPush: true, SkipUploads: true, PullLimit: 1000})
	if err != nil {
		return nil, err
	}
	pullRate := float64(rep.Changes) / time.Since(t0).Seconds()
	db := e.db
	t0 = time.Now()
	n := 0
	lastType, lastID := "", uuid.Nil.String()
	for {
		rows, err := db.QueryContext(ctx, `SELECT type, id, version, data FROM records WHERE (type, id) > ($1, $2::uuid)
			ORDER BY type, id LIMIT 1000`, lastType, lastID)
		if err != nil {
			return nil, err
		}
		got := 0
		for rows.Next() {
			var v int64
			var data []byte
			if err := rows.Scan(&lastType, &lastID, &v, &data); err != nil {
				rows.Close()
				return nil, err
			}
			got++
		}
		rows.Close()
		n += got
		if got < 1000 {
			break
		}
	}
	baseRate := float64(n) / time.Since(t0).Seconds()
	return []Row{{fmt.Sprintf("pull, bootstrap of %d changes (records/s)", rep.Changes), fmt.Sprintf("%.0f", pullRate),
		fmt.Sprintf("%.0f rows/s (keyset SELECT, 1,000 rows)", baseRate), fmt.Sprintf("%.2f", pullRate/baseRate)}}, nil
}

// noiseJPEG is a photo of about kib KiB (noise compresses badly, like a real scene).
func noiseJPEG(r *rand.Rand, kib int) []byte {
	side := 64
	for {
		img := image.NewRGBA(image.Rect(0, 0, side, side))
		for i := range img.Pix {
			img.Pix[i] = uint8(r.IntN(256))
		}
		for y := range side {
			img.Set(0, y, color.Black)
		}
		var buf bytes.Buffer
		_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
		if buf.Len() >= kib<<10 || side >= 4096 {
			return buf.Bytes()
		}
		side = side * 3 / 2
	}
}

// benchUpload: Workers phones upload Photos photos by tus (1 MiB chunks), against PutObject of
// the same bytes straight into MinIO by Workers writers.
func benchUpload(ctx context.Context, e *env, cfg Config) ([]Row, error) {
	cfg.Log("upload: %d photos of about %d KiB from %d phones", cfg.Photos, cfg.PhotoKiB, cfg.Workers)
	ds, err := phones(ctx, e, "inspector", cfg.Workers, cfg.Workers, false)
	defer closeAll(ds)
	if err != nil {
		return nil, err
	}
	site := e.projectSite // pulled by benchPush's scout
	r := rand.New(rand.NewPCG(1, 2))
	var total int64
	var blobs [][]byte
	dir := filepath.Join(e.dir, "camera")
	_ = os.MkdirAll(dir, 0o700)
	visits := make([]uuid.UUID, len(ds))
	for i, d := range ds {
		if visits[i], err = d.NewVisit(ctx, device.VisitInput{Kind: "project_visit", SiteID: site, Answers: map[string]any{"stage": "approved"}}); err != nil {
			return nil, err
		}
	}
	for i := range cfg.Photos {
		b := noiseJPEG(r, cfg.PhotoKiB)
		b = append(b[:len(b):len(b)], byte(i), byte(i>>8)) // distinct bytes per photo; trailing bytes after EOI are ignored by decoders
		path := filepath.Join(dir, fmt.Sprintf("%d.jpg", i))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
		if _, err := ds[i%len(ds)].AddPhoto(ctx, device.PhotoInput{VisitID: visits[i%len(ds)], Path: path}); err != nil {
			return nil, err
		}
		total += int64(len(b))
		blobs = append(blobs, b)
	}
	if err := parallel(len(ds), cfg.Workers, func(i int) error { // the records first, off the clock
		_, err := ds[i].Sync(ctx, device.SyncOptions{Retry: retry(), SkipUploads: true, SkipPull: true})
		return err
	}); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := parallel(len(ds), cfg.Workers, func(i int) error {
		rep, err := ds[i].Sync(ctx, device.SyncOptions{Retry: retry(), SkipPush: true, SkipPull: true})
		if err == nil && rep.PhotosFailed > 0 {
			err = fmt.Errorf("%d photos refused", rep.PhotosFailed)
		}
		return err
	}); err != nil {
		return nil, err
	}
	upRate := float64(total) / (1 << 20) / time.Since(t0).Seconds()
	mc := e.mc
	t0 = time.Now()
	if err := parallel(len(blobs), cfg.Workers, func(i int) error {
		_, err := mc.PutObject(ctx, bucket, "baseline/"+uuid.NewString(), bytes.NewReader(blobs[i]), int64(len(blobs[i])),
			minio.PutObjectOptions{ContentType: "image/jpeg"})
		return err
	}); err != nil {
		return nil, err
	}
	baseRate := float64(total) / (1 << 20) / time.Since(t0).Seconds()
	return []Row{{fmt.Sprintf("upload, %d × %d KiB by tus (MiB/s)", cfg.Photos, total/int64(cfg.Photos)>>10), fmt.Sprintf("%.1f", upRate),
		fmt.Sprintf("%.1f MiB/s (MinIO PutObject)", baseRate), fmt.Sprintf("%.2f", upRate/baseRate)}}, nil
}

// benchIncremental: Devices bootstrapped phones (inspector.jianan's county) each push one visit
// and pull to the end, Workers at a time; the latency of each phone's whole sync.
func benchIncremental(ctx context.Context, e *env, cfg Config) ([]Row, error) {
	cfg.Log("incremental sync: bootstrapping %d phones (off the clock)", cfg.Devices)
	ds, err := phones(ctx, e, "inspector.jianan", cfg.Devices, cfg.Workers, true)
	defer closeAll(ds)
	if err != nil {
		return nil, err
	}
	sites, err := fieldwork.PulledSites(ctx, ds[0])
	if err != nil {
		return nil, err
	}
	for i, d := range ds {
		if _, err := d.NewVisit(ctx, device.VisitInput{Kind: "project_visit", SiteID: sites["project"][i%len(sites["project"])],
			Answers: map[string]any{"stage": "approved"}, Notes: "incremental"}); err != nil {
			return nil, err
		}
	}
	cfg.Log("incremental sync: %d phones push one visit and pull, %d at a time", cfg.Devices, cfg.Workers)
	lat := make([]time.Duration, len(ds))
	t0 := time.Now()
	if err := parallel(len(ds), cfg.Workers, func(i int) error {
		s := time.Now()
		_, err := ds[i].Sync(ctx, device.SyncOptions{Retry: retry()})
		lat[i] = time.Since(s)
		return err
	}); err != nil {
		return nil, err
	}
	wall := time.Since(t0)
	slices.Sort(lat)
	p := func(q float64) string {
		return fmt.Sprintf("%.1f ms", float64(lat[int(float64(len(lat)-1)*q)].Microseconds())/1000)
	}
	return []Row{{fmt.Sprintf("incremental sync, %d phones, %d at a time", cfg.Devices, cfg.Workers),
		"p50 " + p(0.50) + ", p99 " + p(0.99), fmt.Sprintf("%.0f syncs/s", float64(len(ds))/wall.Seconds()), "-"}}, nil
}
