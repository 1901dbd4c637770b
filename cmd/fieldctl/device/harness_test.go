package device_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/fieldsync/fieldsync/sync/synctest"
	"github.com/gofiber/fiber/v2"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testServer is a real fieldsync server on a 127.0.0.1 port over the demo city in its own
// PostgreSQL database (regions, users, checklists and the demo sites) and the test binary's MinIO. Stop and Start take it off and back on the
// same address (the phone goes offline meanwhile).
type testServer struct {
	t     testing.TB
	store *storage.Store
	blob  blob.Store
	addr  string
	app   *fiber.App
	tweak []func(*server.Config)
}

func newTestServer(t testing.TB, tweak ...func(*server.Config)) *testServer {
	t.Helper()
	st, _ := synctest.NewDemoStore(t)
	synctest.LoadSites(t, st)
	s := &testServer{t: t, store: st, blob: miniotest.NewStore(t), addr: "127.0.0.1:0", tweak: tweak}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's base URL.
func (s *testServer) URL() string { return "http://" + s.addr }

// Start serves (again) on the server's address.
func (s *testServer) Start() {
	s.t.Helper()
	cfg := server.DefaultConfig()
	cfg.Password = storagetest.CheapPasswords
	for _, f := range s.tweak {
		f(&cfg)
	}
	app, err := server.New(server.Deps{Store: s.store, Blob: s.blob, Config: cfg})
	if err != nil {
		s.t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ { // the port of a stopped server may take a moment to free
		if ln, err = net.Listen("tcp", s.addr); err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.addr, s.app = ln.Addr().String(), app
	go app.Listener(ln)
}

// Stop takes the server off the network (PostgreSQL keeps running).
func (s *testServer) Stop() {
	if s.app != nil {
		_ = s.app.ShutdownWithTimeout(5 * time.Second)
		s.app = nil
	}
}

// demoPassword is a demo login's password.
func demoPassword(username string) string {
	for _, u := range democity.Users() {
		if u.Username == username {
			return u.Password
		}
	}
	return "no-such-user"
}

// fastRetry keeps test retries short; Sleep records the delays asked for.
func fastRetry(delays *[]time.Duration) device.RetryPolicy {
	return device.RetryPolicy{Base: time.Millisecond, Max: 20 * time.Millisecond, Attempts: 6,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if delays != nil {
				*delays = append(*delays, d)
			}
			return nil
		}}
}

// newPhone opens a phone in a temp home and logs username in on srv.
func newPhone(t testing.TB, srv *testServer, username string) *device.Device {
	t.Helper()
	d := openPhone(t, t.TempDir())
	if _, err := d.Login(context.Background(), srv.URL(), username, demoPassword(username), fastRetry(nil)); err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return d
}

func openPhone(t testing.TB, home string) *device.Device {
	t.Helper()
	d, err := device.Open(filepath.Clean(home), device.Options{DeviceName: "test phone"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// syncOK syncs and fails the test on an error.
func syncOK(t testing.TB, d *device.Device, opts device.SyncOptions) device.SyncReport {
	t.Helper()
	if opts.Retry.Sleep == nil {
		opts.Retry = fastRetry(nil)
	}
	rep, err := d.Sync(context.Background(), opts)
	if err != nil {
		t.Fatalf("sync: %v (report %+v)", err, rep)
	}
	return rep
}
