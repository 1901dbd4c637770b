package device_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/server"
	"github.com/google/uuid"
	_ "modernc.org/sqlite"
)

// roundTrip adapts a function to http.RoundTripper.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// bootstrapped is a logged-in phone that has pulled the demo city, with a project site's id.
func bootstrapped(t *testing.T, srv *testServer, username string) (*device.Device, string) {
	t.Helper()
	d := newPhone(t, srv, username)
	syncOK(t, d, device.SyncOptions{SkipUploads: true})
	sites, err := d.Sites(context.Background(), device.Filter{Kind: "project", Limit: 1})
	if err != nil || len(sites) != 1 {
		t.Fatalf("no project site pulled: %v", err)
	}
	return d, sites[0].ID
}

func newProjectVisit(t *testing.T, d *device.Device, site string) uuid.UUID {
	t.Helper()
	id, err := d.NewVisit(context.Background(), device.VisitInput{Kind: "project_visit", SiteID: site,
		Answers: map[string]any{"stage": "approved"}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// serverMutations reads what the server stored for a client: its last id and results by status.
func serverMutations(t *testing.T, srv *testServer, client uuid.UUID) (last int64, byStatus map[string]int) {
	t.Helper()
	db := srv.store.SQL()
	if err := db.QueryRow(`SELECT last_mutation_id FROM sync_clients WHERE client_id = $1`, client).Scan(&last); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT result->>'status', count(*) FROM sync_mutations WHERE client_id = $1 GROUP BY 1`, client)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byStatus = map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		byStatus[s] = n
	}
	return last, byStatus
}

// The phone dies after a push reached the server but before the answer arrived: the ids it
// stored before sending make the resent push a replay, and every visit exists once.
func TestQueueIDsSurviveACrashBetweenSendAndAnswer(t *testing.T) {
	srv := newTestServer(t)
	home := t.TempDir()
	d := openPhone(t, home)
	if _, err := d.Login(context.Background(), srv.URL(), "inspector", demoPassword("inspector"), fastRetry(nil)); err != nil {
		t.Fatal(err)
	}
	syncOK(t, d, device.SyncOptions{SkipUploads: true})
	sites, _ := d.Sites(context.Background(), device.Filter{Kind: "project", Limit: 1})
	var ids []uuid.UUID
	for range 3 {
		ids = append(ids, newProjectVisit(t, d, sites[0].ID))
	}
	ctx, die := context.WithCancel(context.Background())
	crash := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		res, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && strings.HasSuffix(r.URL.Path, "/sync/push") {
			io.Copy(io.Discard, res.Body) // the server answered; the phone never reads it
			res.Body.Close()
			die()
			return nil, errors.New("process killed")
		}
		return res, err
	})}
	if _, err := d.Sync(ctx, device.SyncOptions{HTTPClient: crash, Retry: fastRetry(nil)}); err == nil {
		t.Fatal("the sync survived its own death")
	}
	client := d.ClientID()
	d.Close()

	d = openPhone(t, home) // the app starts again
	q, err := d.Queue(context.Background())
	if err != nil || len(q) != 3 || q[0].ID != 1 || q[2].ID != 3 || !q[0].Sent {
		t.Fatalf("queue after the crash: %+v %v", q, err)
	}
	rep := syncOK(t, d, device.SyncOptions{SkipUploads: true})
	if rep.Pushed != 3 || rep.Rejected != 0 || rep.Queue != 0 || rep.LastMutationID != 3 {
		t.Fatalf("replayed push: %+v", rep)
	}
	last, byStatus := serverMutations(t, srv, client)
	if last != 3 || byStatus["applied"] != 3 || len(byStatus) != 1 {
		t.Fatalf("server: last %d, results %v", last, byStatus)
	}
	for _, id := range ids {
		rec, err := srv.store.GetRecord(context.Background(), "visit", id)
		if err != nil || rec.Version != 1 {
			t.Fatalf("visit %s: %+v %v", id, rec, err)
		}
	}
}

// The phone dies after a push reached the server, and comes back after the server pruned the
// stored results (older than the result retention): the resent push is answered "expired", which
// the phone takes as done; nothing is applied twice and the queue empties.
func TestExpiredReplayIsDone(t *testing.T) {
	srv := newTestServer(t)
	home := t.TempDir()
	d := openPhone(t, home)
	if _, err := d.Login(context.Background(), srv.URL(), "inspector", demoPassword("inspector"), fastRetry(nil)); err != nil {
		t.Fatal(err)
	}
	syncOK(t, d, device.SyncOptions{SkipUploads: true})
	sites, _ := d.Sites(context.Background(), device.Filter{Kind: "project", Limit: 1})
	var ids []uuid.UUID
	for range 3 {
		ids = append(ids, newProjectVisit(t, d, sites[0].ID))
	}
	ctx, die := context.WithCancel(context.Background())
	crash := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		res, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && strings.HasSuffix(r.URL.Path, "/sync/push") {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			die()
			return nil, errors.New("process killed")
		}
		return res, err
	})}
	if _, err := d.Sync(ctx, device.SyncOptions{HTTPClient: crash, Retry: fastRetry(nil)}); err == nil {
		t.Fatal("the sync survived its own death")
	}
	client := d.ClientID()
	d.Close()
	if _, err := srv.store.SQL().Exec(`UPDATE sync_mutations SET applied_at = now() - interval '100 days' WHERE client_id = $1`,
		client); err != nil {
		t.Fatal(err)
	}
	if rep, err := srv.store.PruneResults(context.Background(), time.Now().Add(-90*24*time.Hour), 100); err != nil || rep.Results != 3 {
		t.Fatalf("prune: %+v %v", rep, err)
	}

	d = openPhone(t, home)
	rep := syncOK(t, d, device.SyncOptions{SkipUploads: true})
	if rep.Pushed != 3 || rep.Expired != 3 || rep.Applied != 0 || rep.Rejected != 0 || rep.Queue != 0 || rep.LastMutationID != 3 {
		t.Fatalf("replay after pruning: %+v", rep)
	}
	if last, byStatus := serverMutations(t, srv, client); last != 3 || len(byStatus) != 0 {
		t.Fatalf("server: last %d, results %v", last, byStatus)
	}
	for _, id := range ids {
		rec, err := srv.store.GetRecord(context.Background(), "visit", id)
		if err != nil || rec.Version != 1 {
			t.Fatalf("visit %s: %+v %v", id, rec, err)
		}
		if r, _ := d.Record(context.Background(), "visit", id.String()); r == nil || r.Local {
			t.Fatalf("visit %s on the phone after the sync: %+v", id, r)
		}
	}
}

// Mutations lost from the phone's queue leave a gap: the server answers 409 with the id it
// expects, and the phone moves its queue down to it; nothing is applied twice or lost.
func TestMutationGapResendsFromExpectedID(t *testing.T) {
	srv := newTestServer(t)
	d, site := bootstrapped(t, srv, "inspector")
	newProjectVisit(t, d, site)
	syncOK(t, d, device.SyncOptions{SkipUploads: true}) // the server is at 1
	a, b := newProjectVisit(t, d, site), newProjectVisit(t, d, site)
	// Lose ids 2–5: the queue now holds 6 and 7 (as after a botched restore).
	db, err := sql.Open("sqlite", "file:"+filepath.Join(d.Home(), "fieldctl.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE queue SET id = id + 4`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	rep := syncOK(t, d, device.SyncOptions{SkipUploads: true})
	if rep.Gaps != 1 || !rep.Renumbered || rep.Applied != 2 || rep.Queue != 0 || rep.LastMutationID != 3 {
		t.Fatalf("report %+v", rep)
	}
	last, byStatus := serverMutations(t, srv, d.ClientID())
	if last != 3 || byStatus["applied"] != 3 {
		t.Fatalf("server: last %d, results %v", last, byStatus)
	}
	for _, id := range []uuid.UUID{a, b} {
		if r, _ := d.Record(context.Background(), "visit", id.String()); r == nil || r.Local || r.Version != 1 {
			t.Fatalf("visit %s after sync: %+v", id, r)
		}
	}
}

// A server that needs a newer protocol answers 426: the phone stops, keeps its queue as it was,
// says so in status, and a newer app pushes the same queue.
func TestUpgradeRequiredKeepsTheQueue(t *testing.T) {
	srv := newTestServer(t, func(c *server.Config) { c.Sync.MinProtocol, c.Sync.MaxProtocol = 2, 2 })
	d, site := bootstrapped(t, srv, "inspector")
	id := newProjectVisit(t, d, site)
	before, _ := d.Queue(context.Background())
	_, err := d.Sync(context.Background(), device.SyncOptions{Retry: fastRetry(nil)})
	if !errors.Is(err, device.ErrUpgradeRequired) {
		t.Fatalf("sync: %v, want ErrUpgradeRequired", err)
	}
	after, _ := d.Queue(context.Background())
	st, _ := d.Status(context.Background())
	if len(after) != 1 || after[0].ID != before[0].ID || string(after[0].Args) != string(before[0].Args) || st.UpgradeRequired == "" {
		t.Fatalf("queue %+v → %+v, status %+v", before, after, st)
	}
	home := d.Home()
	d.Close()
	newer, err := device.Open(home, device.Options{ProtocolVersion: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer newer.Close()
	rep := syncOK(t, newer, device.SyncOptions{SkipUploads: true})
	st, _ = newer.Status(context.Background())
	if rep.Applied != 1 || st.Queue != 0 || st.UpgradeRequired != "" {
		t.Fatalf("newer app: %+v, status %+v", rep, st)
	}
	if r, _ := srv.store.GetRecord(context.Background(), "visit", id); r.Version != 1 {
		t.Fatalf("visit on the server: %+v", r)
	}
}
