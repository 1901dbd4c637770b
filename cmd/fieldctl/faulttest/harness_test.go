package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/cmd/fieldctl/fieldwork"
	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/fieldsync/fieldsync/sync/synctest"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// inproc is a real fieldsync server on a 127.0.0.1 port over a store and a blob store.
type inproc struct {
	t     testing.TB
	store *storage.Store
	blob  blob.Store
	addr  string
	app   *fiber.App
}

func startInproc(t testing.TB, st *storage.Store, bs blob.Store) *inproc {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Password = storagetest.CheapPasswords
	app, err := server.New(server.Deps{Store: st, Blob: bs, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &inproc{t: t, store: st, blob: bs, addr: ln.Addr().String(), app: app}
	go app.Listener(ln)
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return s
}

func (s *inproc) URL() string { return "http://" + s.addr }

// demoStore is a fresh database with the demo city and its sites.
func demoStore(t testing.TB) *storage.Store {
	t.Helper()
	st, _ := synctest.NewDemoStore(t)
	synctest.LoadSites(t, st)
	return st
}

func demoPassword(username string) string {
	for _, u := range democity.Users() {
		if u.Username == username {
			return u.Password
		}
	}
	return "no-such-user"
}

// quickRetry retries fast and often: the faults are frequent, the tests short.
func quickRetry() device.RetryPolicy {
	return device.RetryPolicy{Base: 5 * time.Millisecond, Max: 200 * time.Millisecond, Attempts: 10, Sleep: capSleep}
}

// capSleep waits at most 100 ms of what the policy asks (a server's Retry-After of 5 s
// included): the tests compress the phone's clock, not its behaviour.
func capSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(min(d, 100*time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// statusLog is a transport that counts the statuses (0: no answer) the phone saw.
type statusLog struct {
	mu  sync.Mutex
	got map[int]int
}

func (s *statusLog) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[int]int{}
	}
	if err != nil {
		s.got[0]++
	} else {
		s.got[res.StatusCode]++
	}
	return res, err
}

func (s *statusLog) count(status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[status]
}

// phone is a device with its work generator.
type phone struct {
	d *device.Device
	w *fieldwork.Worker
}

// newPhones logs n phones in as username on url (no faults), bootstraps them, and gives each a
// worker recording into ledger.
func newPhones(t *testing.T, url, username string, n int, seed uint64, ledger *fieldwork.Ledger) []*phone {
	t.Helper()
	ctx := context.Background()
	out := make([]*phone, n)
	var sites fieldwork.Sites
	for i := range out {
		d, err := device.Open(t.TempDir(), device.Options{DeviceName: fmt.Sprintf("fault phone %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if _, err := d.Login(ctx, url, username, demoPassword(username), quickRetry()); err != nil {
			t.Fatal(err)
		}
		if i == 0 { // one bootstrap finds the sites; the others pull at their first sync
			if _, err := d.Sync(ctx, device.SyncOptions{Retry: quickRetry()}); err != nil {
				t.Fatal(err)
			}
			if sites, err = fieldwork.PulledSites(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		out[i] = &phone{d: d, w: &fieldwork.Worker{D: d, Rnd: rand.New(rand.NewPCG(seed, uint64(i))), Sites: sites,
			Dir: t.TempDir(), Ledger: ledger, Tag: "fault", TrackPoints: 30}}
	}
	return out
}

// syncUntilDone syncs until a sync succeeds with an empty queue and no pending photo (at most
// tries times; faults make some syncs fail part-way).
func syncUntilDone(ctx context.Context, d *device.Device, hc *http.Client, opts device.SyncOptions, tries int) error {
	var err error
	opts.HTTPClient = hc
	if opts.Retry.Attempts == 0 {
		opts.Retry = quickRetry()
	}
	for range tries {
		var rep device.SyncReport
		rep, err = d.Sync(ctx, opts)
		if err == nil && rep.Queue == 0 {
			st, serr := d.Status(ctx)
			if serr != nil {
				return serr
			}
			if st.PendingPhotos == 0 {
				return nil
			}
			err = fmt.Errorf("%d photos still pending", st.PendingPhotos)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return err
}

// checkServerHoldsLedger checks the server's database holds exactly what the phones made: every
// phone's mutations once and applied; each visit, finding, photo and track once, the photos
// ready with one blob each; the phones' copies at the server's versions; and no other visit
// tagged by the run.
func checkServerHoldsLedger(t *testing.T, st *storage.Store, phones []*phone, ledger *fieldwork.Ledger, tag string) {
	t.Helper()
	ctx := context.Background()
	db := st.SQL()
	for i, p := range phones {
		var last, n, applied int64
		if err := db.QueryRow(`SELECT last_mutation_id FROM sync_clients WHERE client_id = $1`, p.d.ClientID()).Scan(&last); err != nil {
			t.Fatalf("phone %d: %v", i, err)
		}
		db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE result->>'status' = 'applied') FROM sync_mutations WHERE client_id = $1`,
			p.d.ClientID()).Scan(&n, &applied)
		st, err := p.d.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if last != st.LastMutationID || n != last || applied != n || st.Queue != 0 {
			rj, _ := p.d.Rejections(ctx)
			t.Fatalf("phone %d: server last %d, %d mutations (%d applied); phone last %d, queue %d; rejections %+v",
				i, last, n, applied, st.LastMutationID, st.Queue, rj)
		}
	}
	ids := func(list []uuid.UUID) []string {
		out := make([]string, len(list))
		for i, id := range list {
			out[i] = id.String()
		}
		return out
	}
	count := func(q string, args ...any) int {
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	visits, findings, photos, tracks := ledger.Counts()
	if got := count(`SELECT count(*) FROM records WHERE type = 'visit' AND status = 'submitted' AND id = ANY($1)`, ids(ledger.Visits)); got != visits {
		t.Fatalf("%d submitted visits on the server, want %d", got, visits)
	}
	if got := count(`SELECT count(*) FROM records WHERE type = 'visit' AND data->>'notes' LIKE $1`, tag+" %"); got != visits {
		t.Fatalf("%d visits tagged %q on the server, want %d (duplicates?)", got, tag, visits)
	}
	if got := count(`SELECT count(*) FROM records WHERE type = 'finding' AND id = ANY($1)`, ids(ledger.Findings)); got != findings {
		t.Fatalf("%d findings on the server, want %d", got, findings)
	}
	if got := count(`SELECT count(*) FROM records WHERE type = 'finding' AND data->>'description' LIKE $1`, "% "+tag); got != findings {
		t.Fatalf("%d findings tagged on the server, want %d", got, findings)
	}
	if got := count(`SELECT count(*) FROM records WHERE type = 'photo' AND data->>'status' = 'ready' AND id = ANY($1)`, ids(ledger.Photos)); got != photos {
		t.Fatalf("%d ready photos on the server, want %d", got, photos)
	}
	if got := count(`SELECT count(*) FROM records WHERE type = 'photo' AND parent_id = ANY($1)`, ids(ledger.Visits)); got != photos {
		t.Fatalf("%d photo records under the run's visits, want %d", got, photos)
	}
	if got := count(`SELECT count(*) FROM photo_blobs WHERE photo_id = ANY($1)`, ids(ledger.Photos)); got != photos {
		t.Fatalf("%d photo blobs, want %d", got, photos)
	}
	for _, v := range ledger.Tracks {
		rec, err := st.GetRecord(ctx, "track", v)
		var td struct {
			Points []json.RawMessage `json:"points"`
		}
		if err != nil || json.Unmarshal(rec.Data, &td) != nil || len(td.Points) != ledger.Points[v] {
			t.Fatalf("track of %s: %d points, want %d (%v)", v, len(td.Points), ledger.Points[v], err)
		}
	}
	if tracks != len(ledger.Tracks) {
		t.Fatal("ledger")
	}
	// Each phone holds the server's copy, at the server's version, of what it made.
	for _, p := range phones {
		for _, typ := range []string{"visit", "finding"} {
			recs, err := p.d.Records(ctx, typ)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Local {
					t.Fatalf("%s %s is still local-only on a phone", typ, r.ID)
				}
				var v int64
				if err := db.QueryRow(`SELECT version FROM records WHERE type = $1 AND id = $2`, typ, r.ID).Scan(&v); err != nil || v != r.Version {
					t.Fatalf("%s %s: phone version %d, server %d (%v)", typ, r.ID, r.Version, v, err)
				}
			}
		}
	}
	t.Logf("server holds exactly %d visits, %d findings, %d photos, %d tracks", visits, findings, photos, tracks)
}
