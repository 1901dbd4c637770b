package pgtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// migrations counts calls of migrateWidgets.
var migrations atomic.Int32

// migrateWidgets is a Migrator that creates table widgets.
func migrateWidgets(ctx context.Context, dsn string) error {
	migrations.Add(1)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	// Left open on purpose: pgtest must cope with a migrator that leaks a connection.
	_, err = conn.Exec(ctx, "CREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL)")
	return err
}

// connect opens dsn, closed at the test's cleanup.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// scalar runs sql on conn and returns the first column of the single row as text.
func scalar(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(context.Background(), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestClonesAreMigratedAndIsolated(t *testing.T) {
	t0 := time.Now()
	a := connect(t, pgtest.NewDatabase(t, migrateWidgets))
	t.Logf("first database (cluster start and template): %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	dsnB := pgtest.NewDatabase(t, migrateWidgets)
	t.Logf("cloned database: %v", time.Since(t0).Round(time.Millisecond))
	b := connect(t, dsnB)

	ctx := context.Background()
	if _, err := a.Exec(ctx, "INSERT INTO widgets VALUES (1, 'only in a'); CREATE TABLE extra (x int)"); err != nil {
		t.Fatal(err)
	}
	if got := scalar(t, b, "SELECT count(*)::text FROM widgets"); got != "0" {
		t.Errorf("b sees %s widgets of a", got)
	}
	if got := scalar(t, b, "SELECT coalesce(to_regclass('extra')::text, 'none')"); got != "none" {
		t.Errorf("b sees a's table: %s", got)
	}
	if got := scalar(t, a, "SELECT current_database()"); got == scalar(t, b, "SELECT current_database()") {
		t.Errorf("both tests got database %s", got)
	}
	if n := migrations.Load(); n != 1 {
		t.Errorf("migrator ran %d times, want once", n)
	}
}

func TestParallelClones(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			conn := connect(t, pgtest.NewDatabase(t, migrateWidgets))
			if _, err := conn.Exec(context.Background(), "INSERT INTO widgets VALUES (1, 'mine')"); err != nil {
				t.Fatal(err)
			}
			if got := scalar(t, conn, "SELECT count(*)::text FROM widgets"); got != "1" {
				t.Errorf("widgets = %s, want only this test's one", got)
			}
		})
	}
}

func TestNilMigratorGivesEmptyDatabase(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t, nil))
	if got := scalar(t, conn, "SELECT coalesce(to_regclass('widgets')::text, 'none')"); got != "none" {
		t.Errorf("widgets in an unmigrated database: %s", got)
	}
}

func TestDatabaseDroppedAtCleanup(t *testing.T) {
	var name string
	t.Run("user", func(t *testing.T) {
		conn := connect(t, pgtest.NewDatabase(t, migrateWidgets))
		name = scalar(t, conn, "SELECT current_database()")
	})
	admin := connect(t, pgtest.Cluster(t).DSN("postgres"))
	var n int
	if err := admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after its test", name)
	}
}

// fatalTB records a Fatal instead of failing the real test.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	panic(errFatal)
}

var errFatal = errors.New("fatal")

func failingMigrator(context.Context, string) error { return errors.New("no such column: bogus") }

func TestMigratorErrorFailsTheTest(t *testing.T) {
	for range 2 { // the second call reuses the failed template
		tb := &fatalTB{TB: t}
		func() {
			defer func() {
				if r := recover(); r != errFatal {
					panic(r)
				}
			}()
			pgtest.NewDatabase(tb, failingMigrator)
			t.Fatal("NewDatabase returned despite a failing migrator")
		}()
		if !strings.Contains(tb.msg, "no such column: bogus") {
			t.Errorf("failure message = %q", tb.msg)
		}
	}
}

func TestPrivateClusterRestart(t *testing.T) {
	c := pgtest.NewPrivateCluster(t)
	ctx := context.Background()
	if err := c.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	dsn := c.DSN("app")
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)

	t0 := time.Now()
	c = pgtest.Restart(t, c)
	t.Logf("restart: %v", time.Since(t0).Round(time.Millisecond))
	if got := scalar(t, connect(t, dsn), "SELECT x::text FROM kept"); got != "7" {
		t.Errorf("row after restart = %q", got)
	}
	if c.DSN("app") != dsn {
		t.Errorf("DSN changed across restart: %s, was %s", c.DSN("app"), dsn)
	}
}

func BenchmarkNewDatabase(b *testing.B) {
	pgtest.NewDatabase(b, migrateWidgets) // cluster and template outside the timing
	for b.Loop() {
		pgtest.NewDatabase(b, migrateWidgets) // dropped at cleanup, after the timing
	}
}
