package storage_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/pressly/goose/v3"
)

// releasedMigrations pins the sha256 of every migration file that has been released. A released
// migration never changes: databases already migrated would not run it again and would differ
// from fresh ones. A fix is a new migration. A new migration is pinned here in the change that
// adds it.
var releasedMigrations = map[string]string{
	"00001_foundation.sql":         "768b23f5bac179943a150566db0d2ae4b08b7f0cfcdb810038e15a8242396df3",
	"00002_sync.sql":               "c2ed3c7de4924fc14bdf9d3eed5a8fd6bc85e019a33b1b88e23c49a24c8bfccd",
	"00003_photos.sql":             "f5d0aec8db65e556d1d9b87f1eb66a999fce3100b601f8356149fdcafb23979d",
	"00004_reports.sql":            "2c9547636ad42eddd370f4f4807420daf8b8a016834da3531994389aa8572d30",
	"00005_summary.sql":            "941a57807b977f49d36771f921bce682ceec75c8117a4c53e2674e29be2f53f0",
	"00006_reports_converge.sql":   "8d6a77b81520bb7e20d62c9cf4ec01caa007d4addf0259ef7d0860f8883cd804",
	"00007_sync_results_prune.sql": "e6febf315036defcdbdf3e1ca4ea04eec6534459972e3e4119dedb838a4c6cc0",
	"00008_login_backoff.sql":      "45cf4cb8aef59344813cd78770756cc5b88957b453cbb1ce9b71656d212aa606",
	"00009_server_secrets.sql":     "24390ce95990af0b4dbb820f7c26fde5f90a9773087181f63f548b5439f3e555",
}

// migrationPinProblems lists what breaks the append-only rule in fsys: a pinned file changed or
// removed, or a file not pinned yet.
func migrationPinProblems(fsys fs.FS, pins map[string]string) []string {
	var problems []string
	seen := map[string]bool{}
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return []string{err.Error()}
	}
	for _, name := range files {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		sum := sha256.Sum256(b)
		got := hex.EncodeToString(sum[:])
		want, pinned := pins[name]
		seen[name] = true
		switch {
		case !pinned:
			problems = append(problems, fmt.Sprintf("%s is not pinned: add %q: %q to releasedMigrations in the change that adds it", name, name, got))
		case got != want:
			problems = append(problems, fmt.Sprintf("%s changed after release (sha256 %s, pinned %s): migrations are append-only; "+
				"restore the released file and put the change in a new migration", name, got, want))
		}
	}
	for name := range pins {
		if !seen[name] {
			problems = append(problems, fmt.Sprintf("%s was released and is gone: migrations are append-only; restore it", name))
		}
	}
	slices.Sort(problems)
	return problems
}

func TestReleasedMigrationsNeverChange(t *testing.T) {
	for _, p := range migrationPinProblems(os.DirFS("migrations"), releasedMigrations) {
		t.Error(p)
	}
}

func TestMigrationPinCheckCatchesAnEditedMigration(t *testing.T) {
	fsys := fstest.MapFS{}
	for name := range releasedMigrations {
		b, err := os.ReadFile(path.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	if p := migrationPinProblems(fsys, releasedMigrations); len(p) != 0 {
		t.Fatalf("the released files themselves fail the check: %v", p)
	}
	edited := fstest.MapFS{}
	for k, v := range fsys {
		edited[k] = v
	}
	edited["00004_reports.sql"] = &fstest.MapFile{Data: append(slices.Clone(fsys["00004_reports.sql"].Data), "\n-- an edit\n"...)}
	edited["00099_new.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\nSELECT 1;\n")}
	delete(edited, "00001_foundation.sql")
	got := strings.Join(migrationPinProblems(edited, releasedMigrations), "\n")
	for _, want := range []string{"00004_reports.sql changed after release", "00099_new.sql is not pinned", "00001_foundation.sql was released and is gone"} {
		if !strings.Contains(got, want) {
			t.Errorf("the check missed %q; it said:\n%s", want, got)
		}
	}
}

// TestMigratedInBetweenConvergesWithFresh migrates a database as it was when 00004 first shipped
// (without the indexes and statistics it gained later), then up to today, and expects the same
// indexes and statistics as a database migrated fresh.
func TestMigratedInBetweenConvergesWithFresh(t *testing.T) {
	ctx := context.Background()
	old := fstest.MapFS{}
	for _, name := range []string{"00001_foundation.sql", "00002_sync.sql", "00003_photos.sql", "00005_summary.sql"} {
		b, err := os.ReadFile(path.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	b, err := os.ReadFile("testdata/migrations-00004-first-release/00004_reports.sql")
	if err != nil {
		t.Fatal(err)
	}
	old["00004_reports.sql"] = &fstest.MapFile{Data: b}

	inBetween := openDB(t, pgtest.NewDatabase(t, nil))
	p, err := goose.NewProvider(goose.DialectPostgres, inBetween, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("migrate as first released: %v", err)
	}
	before := schemaObjects(t, inBetween)
	if err := storage.Migrate(ctx, inBetween, nil); err != nil {
		t.Fatalf("migrate to today: %v", err)
	}
	fresh := openDB(t, pgtest.NewDatabase(t, storage.MigrateDSN))
	want, got := schemaObjects(t, fresh), schemaObjects(t, inBetween)
	if !slices.Equal(got, want) {
		t.Errorf("a database migrated in between differs from a fresh one:\n got %v\nwant %v", got, want)
	}
	if slices.Equal(before, want) {
		t.Error("the first-release fixture already matched today's schema: the test proves nothing")
	}
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// schemaObjects lists the indexes (with their definitions) and extended statistics of schema public.
func schemaObjects(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
		UNION ALL SELECT 'statistics ' || stxname FROM pg_statistic_ext ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}
