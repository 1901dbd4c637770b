package faulttest

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/cmd/fieldctl/fieldwork"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/pgcluster"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/fieldsync/fieldsync/sync/synctest"
)

// PostgreSQL is stopped and started again under load: while it is down calls fail with 503 and
// the phones retry; after, every sync succeeds and nothing is lost or duplicated.
func TestFaultPostgresRestart(t *testing.T) {
	const seed, phones = 11, 3
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := pgtest.NewPrivateCluster(t)
	if err := c.CreateDatabase(ctx, "fault"); err != nil {
		t.Fatal(err)
	}
	dsn := c.DSN("fault")
	if err := synctest.MigrateWithDemo(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	st := storagetest.Open(t, dsn)
	synctest.LoadSites(t, st)
	srv := startInproc(t, st, miniotest.NewStore(t))
	ledger := &fieldwork.Ledger{}
	ps := newPhones(t, srv.URL(), "inspector", phones, seed, ledger)
	hc := &http.Client{Timeout: 20 * time.Second}
	patient := device.RetryPolicy{Base: 20 * time.Millisecond, Max: 500 * time.Millisecond, Attempts: 30, Sleep: capSleep}

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make([]error, len(ps)-1)
	for i, p := range ps[1:] { // load: two phones work and sync all along
		wg.Go(func() {
			for !stop.Load() {
				if _, err := p.w.Visit(ctx); err != nil {
					errs[i] = err
					return
				}
				_, _ = p.d.Sync(ctx, device.SyncOptions{HTTPClient: hc, Retry: patient})
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// The probe phone syncs while PostgreSQL is down: 503s, and the sync gives up keeping its queue.
	probe := ps[0]
	if _, err := probe.w.Visit(ctx); err != nil {
		t.Fatal(err)
	}
	down := &statusLog{}
	_, err := probe.d.Sync(ctx, device.SyncOptions{HTTPClient: &http.Client{Transport: down},
		Retry: device.RetryPolicy{Base: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 3, Sleep: capSleep}})
	if err == nil || down.count(http.StatusServiceUnavailable) == 0 {
		t.Fatalf("a sync with PostgreSQL down: %v, statuses %v", err, down.got)
	}
	if q, _ := probe.d.Queue(ctx); len(q) == 0 {
		t.Fatal("the failed sync lost the queue")
	}
	next, err := pgcluster.Start(ctx, pgcluster.Options{Dir: c.Dir(), Port: c.Port(), Settings: map[string]string{"fsync": "off"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = next.Stop(context.Background()) })
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("phone %d: %v", i+1, err)
		}
	}
	for _, round := range []int{10, 3} { // finish, then a last pull for everyone
		for i, p := range ps {
			if err := syncUntilDone(ctx, p.d, hc, device.SyncOptions{Retry: patient}, round); err != nil {
				t.Fatalf("phone %d after the restart: %v", i, err)
			}
		}
	}
	checkServerHoldsLedger(t, st, ps, ledger, "fault")
}

// MinIO is stopped before and in the middle of uploads and started again: the uploads answer 503
// meanwhile, then resume and complete, each photo stored once with the bytes the phone hashed.
func TestFaultMinIORestart(t *testing.T) {
	const seed = 13
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	mio := miniotest.New(t)
	st := demoStore(t)
	srv := startInproc(t, st, miniotest.StoreOn(t, mio))
	ledger := &fieldwork.Ledger{}
	ps := newPhones(t, srv.URL(), "inspector", 1, seed, ledger)
	p := ps[0]
	p.w.MaxPhotos = 3
	for len(ledger.Photos) < 8 {
		if _, err := p.w.Visit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	hc := &http.Client{Timeout: 20 * time.Second}
	quick := device.RetryPolicy{Base: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 2, Sleep: capSleep}
	// The records go; MinIO dies; the uploads fail with 503 and stay pending.
	if _, err := p.d.Sync(ctx, device.SyncOptions{HTTPClient: hc, Retry: quick, SkipUploads: true}); err != nil {
		t.Fatal(err)
	}
	if err := mio.Stop(); err != nil {
		t.Fatal(err)
	}
	down := &statusLog{}
	if _, err := p.d.Sync(ctx, device.SyncOptions{HTTPClient: &http.Client{Transport: down}, Retry: quick, SkipPull: true}); err == nil {
		t.Fatal("uploads with MinIO down succeeded")
	}
	if down.count(http.StatusServiceUnavailable) == 0 {
		t.Fatalf("no 503 with MinIO down: %v", down.got)
	}
	if s, _ := p.d.Status(ctx); s.PendingPhotos != len(ledger.Photos) {
		t.Fatalf("%d photos pending, want %d", s.PendingPhotos, len(ledger.Photos))
	}
	// MinIO back; it dies again once the first upload is part-way, and comes back a moment later.
	if err := mio.Restart(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	restarted := make(chan error, 1)
	progress := func(pr device.Progress) {
		if pr.Phase == device.PhaseUpload && pr.Done > 0 && pr.Done < pr.Total {
			once.Do(func() {
				_ = mio.Stop()
				go func() {
					time.Sleep(500 * time.Millisecond)
					restarted <- mio.Restart()
				}()
			})
		}
	}
	_, _ = p.d.Sync(ctx, device.SyncOptions{HTTPClient: hc, ChunkSize: 512, Progress: progress,
		Retry: device.RetryPolicy{Base: 20 * time.Millisecond, Max: 200 * time.Millisecond, Attempts: 20, Sleep: capSleep}})
	select {
	case err := <-restarted:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("MinIO was never stopped mid-upload")
	}
	for _, round := range []int{10, 2} {
		if err := syncUntilDone(ctx, p.d, hc, device.SyncOptions{ChunkSize: 512}, round); err != nil {
			t.Fatal(err)
		}
	}
	checkServerHoldsLedger(t, st, ps, ledger, "fault")
	local, err := p.d.Photos(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ph := range local {
		var sum string
		var size int64
		if err := st.SQL().QueryRow(`SELECT sha256, size FROM photo_blobs WHERE photo_id = $1`, ph.PhotoID).Scan(&sum, &size); err != nil ||
			sum != ph.SHA256 || size != ph.Size {
			t.Fatalf("photo %s: server has %s/%d, phone %s/%d (%v)", ph.PhotoID, sum, size, ph.SHA256, ph.Size, err)
		}
	}
}
