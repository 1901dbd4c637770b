package device_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/models/phototest"
)

// writeJPEG writes a real JPEG with EXIF into dir and returns its path.
func writeJPEG(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, phototest.JPEG(t, phototest.Full()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A cursor older than the retention window gets reset: the phone drops what it pulled and
// bootstraps again, but its unsynced visit, queue and photo stay, and then sync once.
func TestResetKeepsUnsyncedWork(t *testing.T) {
	srv := newTestServer(t)
	ctx := context.Background()
	d, site := bootstrapped(t, srv, "inspector")
	synced := newProjectVisit(t, d, site)
	syncOK(t, d, device.SyncOptions{SkipUploads: true})

	other, _ := bootstrapped(t, srv, "supervisor") // a change after d's cursor …
	elsewhere := newProjectVisit(t, other, site)
	syncOK(t, other, device.SyncOptions{SkipUploads: true})
	if _, err := srv.store.PruneChanges(ctx, time.Now().Add(time.Hour)); err != nil { // … pruned away
		t.Fatal(err)
	}

	offline := newProjectVisit(t, d, site)
	photo, err := d.AddPhoto(ctx, device.PhotoInput{VisitID: offline, Path: writeJPEG(t, t.TempDir(), "a.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	rep := syncOK(t, d, device.SyncOptions{SkipPush: true, SkipUploads: true})
	if rep.Resets != 1 {
		t.Fatalf("pull: %+v, want a reset", rep)
	}
	q, _ := d.Queue(ctx)
	pending, _ := d.PendingPhotos(ctx)
	if len(q) != 2 || len(pending) != 1 || pending[0].PhotoID != photo.String() {
		t.Fatalf("after the reset: queue %+v, photos %+v", q, pending)
	}
	for id, local := range map[string]bool{offline.String(): true, synced.String(): false, elsewhere.String(): false} {
		r, _ := d.Record(ctx, "visit", id)
		if r == nil || r.Local != local {
			t.Fatalf("visit %s after the reset: %+v (want local=%v)", id, r, local)
		}
	}
	if r, _ := d.Record(ctx, "photo", photo.String()); r == nil {
		t.Fatal("the photo's local record is gone")
	}
	rep = syncOK(t, d, device.SyncOptions{SkipUploads: true})
	if rep.Applied+rep.Rejected != 2 || rep.Queue != 0 {
		t.Fatalf("sync after the reset: %+v", rep)
	}
	if r, _ := d.Record(ctx, "visit", offline.String()); r == nil || r.Local || r.Version != 1 {
		t.Fatalf("the offline visit after sync: %+v", r)
	}
}

// 503 with Retry-After (as a server answers while its database is down) is retried no sooner
// than asked; the push then applies once. The 503s come from a proxy in front of the real server.
func TestRetryAfterIsHonoured(t *testing.T) {
	srv := newTestServer(t)
	d, site := bootstrapped(t, srv, "inspector")
	newProjectVisit(t, d, site)
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var refused atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/sync/push") && refused.Add(1) <= 2 {
			w.Header().Set("Retry-After", "7")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"type":"https://fieldsync.dev/problems/unavailable","title":"Service unavailable","status":503}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	// Point the phone at the proxy: log in through it.
	if _, err := d.Login(context.Background(), front.URL, "inspector", demoPassword("inspector"), fastRetry(nil)); err != nil {
		t.Fatal(err)
	}
	var delays []time.Duration
	rep := syncOK(t, d, device.SyncOptions{SkipUploads: true, Retry: fastRetry(&delays)})
	if rep.Retries != 2 || len(delays) != 2 || rep.Applied != 1 {
		t.Fatalf("report %+v, delays %v", rep, delays)
	}
	for _, w := range delays {
		if w < 7*time.Second {
			t.Fatalf("waited %v, the server asked for 7s", w)
		}
	}
	if last, byStatus := serverMutations(t, srv, d.ClientID()); last != 1 || byStatus["applied"] != 1 {
		t.Fatalf("server: %d %v", last, byStatus)
	}
}

func TestParseRetryAfterAndDelay(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{"3": 3 * time.Second, "0": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second, now.Add(-time.Hour).Format(http.TimeFormat): 0} {
		if got, ok := device.ParseRetryAfter(in, now); !ok || got != want {
			t.Errorf("ParseRetryAfter(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "soon", "-5", "1.5"} {
		if _, ok := device.ParseRetryAfter(bad, now); ok {
			t.Errorf("ParseRetryAfter(%q) accepted", bad)
		}
	}
	p := device.RetryPolicy{Base: 100 * time.Millisecond, Max: 2 * time.Second}
	for attempt := range 10 {
		ceil := min(p.Base<<attempt, p.Max)
		for range 50 {
			if d := p.Delay(attempt, 0); d < ceil/2 || d > ceil {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, ceil/2, ceil)
			}
		}
	}
	if d := p.Delay(0, time.Minute); d != time.Minute {
		t.Fatalf("a Retry-After of a minute gave %v", d)
	}
}
