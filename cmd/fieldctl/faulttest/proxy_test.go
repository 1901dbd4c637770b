package faulttest

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/cmd/fieldctl/faultproxy"
	"github.com/fieldsync/fieldsync/cmd/fieldctl/fieldwork"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
)

// Several phones work and sync through a proxy that drops answers after the server did the work
// and cuts requests (upload bodies) part-way, at random, for many rounds; at the end the server
// holds exactly what the phones made.
func TestFaultProxyRandomDrops(t *testing.T) {
	const seed, phones, rounds = 20260601, 4, 12
	st := demoStore(t)
	srv := startInproc(t, st, miniotest.NewStore(t))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	proxy, err := faultproxy.New(strings.TrimPrefix(srv.URL(), "http://"), faultproxy.Options{
		Seed: seed, DropResponse: 0.15, CutRequest: 0.15, CutMax: 24 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	ledger := &fieldwork.Ledger{}
	ps := newPhones(t, proxy.URL(), "inspector", phones, seed, ledger)
	// No keep-alive: every request gets its own connection, so every request may meet a fault.
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

	for round := range rounds {
		var wg sync.WaitGroup
		errs := make([]error, len(ps))
		for i, p := range ps {
			wg.Go(func() {
				for range 1 + p.w.Rnd.IntN(3) {
					if _, err := p.w.Visit(ctx); err != nil {
						errs[i] = err
						return
					}
				}
				// One sync attempt per round with the faults on: it may fail part-way.
				_, _ = p.d.Sync(ctx, device.SyncOptions{HTTPClient: hc, Retry: quickRetry(), ChunkSize: 4 << 10})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d phone %d: %v", round, i, err)
			}
		}
	}
	// Still through the faults: every phone finishes its sync.
	for i, p := range ps {
		if err := syncUntilDone(ctx, p.d, hc, device.SyncOptions{ChunkSize: 4 << 10}, 40); err != nil {
			t.Fatalf("phone %d never finished: %v", i, err)
		}
	}
	proxy.SetRates(0, 0)
	for _, p := range ps { // a last pull, so every phone sees every other's final versions
		if err := syncUntilDone(ctx, p.d, hc, device.SyncOptions{}, 3); err != nil {
			t.Fatal(err)
		}
	}
	stats := proxy.Stats()
	t.Logf("proxy: %d connections, %d answers dropped, %d requests cut", stats.Conns, stats.DroppedResponses, stats.CutRequests)
	if stats.DroppedResponses == 0 || stats.CutRequests == 0 {
		t.Fatalf("the proxy injected no faults of a kind: %+v", stats)
	}
	checkServerHoldsLedger(t, st, ps, ledger, "fault")
}
