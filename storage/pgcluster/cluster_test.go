package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testSettings make the test clusters fast; durability does not matter here.
var testSettings = map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

// newDir returns a fresh cluster directory path whose parent the postgres user can enter.
func newDir(t *testing.T) string {
	t.Helper()
	parent, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(parent) })
	return filepath.Join(parent, "postgres")
}

// start starts a cluster in dir and registers a Stop at cleanup.
func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	t0 := time.Now()
	c, err := Start(ctx, Options{Dir: dir, Settings: testSettings})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("start took %v (port %d)", time.Since(t0).Round(time.Millisecond), c.Port())
	t.Cleanup(func() { stop(t, c) })
	return c
}

// stop stops c, failing t on error.
func stop(t *testing.T, c *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Error(err)
	}
}

// query runs sql on database postgres of c and returns the first column of the single row.
func query(t *testing.T, c *Cluster, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// processesIn returns the pids of processes whose working directory is dir (postgres and all of
// its children run in the data directory).
func processesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("this test needs /proc: %v", err)
	}
	var pids []string
	for _, e := range entries {
		if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err == nil && cwd == dir {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func TestStartQueryStop(t *testing.T) {
	c := start(t, newDir(t))
	if got := query(t, c, "SELECT 1::text"); got != "1" {
		t.Fatalf("SELECT 1 = %q", got)
	}
	if got := query(t, c, "SELECT current_user::text"); got != superuser {
		t.Errorf("current_user = %q, want %q", got, superuser)
	}
	if !strings.HasPrefix(c.DSN("x"), fmt.Sprintf("postgres://%s:", superuser)) ||
		!strings.HasSuffix(c.DSN("x"), fmt.Sprintf("@127.0.0.1:%d/x?sslmode=disable", c.Port())) {
		t.Errorf("DSN = %q", c.DSN("x"))
	}
	if err := c.CreateDatabase(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateDatabase(context.Background(), "app"); err != nil {
		t.Fatalf("second CreateDatabase: %v", err)
	}
	if got := query(t, c, "SELECT count(*)::text FROM pg_database WHERE datname = 'app'"); got != "1" {
		t.Errorf("databases named app: %s", got)
	}
	if os.Geteuid() == 0 {
		for _, path := range []string{c.dataDir, fmt.Sprintf("/proc/%d", c.proc.Cmd.Process.Pid)} {
			if uid, _, err := fileOwner(path); err != nil || uid == 0 {
				t.Errorf("%s owned by uid %d (%v), want the postgres user", path, uid, err)
			}
		}
	}
	if len(processesIn(t, c.dataDir)) == 0 {
		t.Fatal("no postgres process found in the data directory")
	}

	stop(t, c)
	if pids := processesIn(t, c.dataDir); len(pids) > 0 {
		t.Errorf("processes left after Stop: %v", pids)
	}
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port()), time.Second); err == nil {
		_ = conn.Close()
		t.Errorf("port %d still accepts connections after Stop", c.Port())
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if locked, err := Locked(c.dir); err != nil || locked {
		t.Errorf("Locked after Stop = %v, %v", locked, err)
	}
}

// execSQL runs sql on database postgres of c.
func execSQL(t *testing.T, c *Cluster, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestRestartReusesData(t *testing.T) {
	dir := newDir(t)
	c := start(t, dir)
	execSQL(t, c, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)")
	stop(t, c)
	before, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION"))
	if err != nil {
		t.Fatal(err)
	}

	// A start that fails reports the server log.
	_, err = Start(context.Background(), Options{Dir: dir, Settings: map[string]string{"shared_buffers": "lots"}})
	if err == nil || !strings.Contains(err.Error(), `invalid value for parameter "shared_buffers"`) {
		t.Errorf("start with a bad setting: %v", err)
	}
	// A fixed port that is taken is an error, not retried elsewhere.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	_, err = Start(context.Background(), Options{Dir: dir, Port: l.Addr().(*net.TCPAddr).Port})
	if !errors.Is(err, errPortTaken) {
		t.Errorf("start on a taken port: %v", err)
	}

	c = start(t, dir)
	if got := query(t, c, "SELECT id::text FROM kept"); got != "42" {
		t.Errorf("row after restart = %q", got)
	}
	after, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("PG_VERSION rewritten: the cluster was initialised again")
	}
}

func TestParentNotSearchable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root switches to the postgres user")
	}
	private := filepath.Dir(newDir(t))
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{Dir: filepath.Join(private, "data", "postgres")})
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+private+" ") {
		t.Fatalf("Start under a 0700 directory: %v", err)
	}
}

func TestFindBinDir(t *testing.T) {
	dir, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	if !hasBinaries(dir) {
		t.Errorf("FindBinDir = %s, which lacks the binaries", dir)
	}
	if _, err := chooseBinDir(t.TempDir(), ""); err == nil {
		t.Error("chooseBinDir accepted a directory without binaries")
	}
	if _, err := chooseBinDir(dir, "9"); err == nil || !strings.Contains(err.Error(), "created by PostgreSQL 9") {
		t.Errorf("version mismatch: %v", err)
	}
	if !strings.Contains(errNoBinaries.Error(), "apt-get install postgresql") {
		t.Error("missing-binaries error does not name the package")
	}
}
