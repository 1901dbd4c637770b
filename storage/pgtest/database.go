package pgtest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migrator applies the schema to a fresh database at dsn. The storage package supplies it
// (storage.Migrate); pgtest does not import storage, whose own tests use pgtest.
type Migrator func(ctx context.Context, dsn string) error

// template is a migrated database that test databases are cloned from.
type template struct {
	once sync.Once
	name string
	err  error
}

// NewDatabase returns the DSN of a new database for this test, in the shared cluster, cloned from
// a template database that migrate was applied to; the database is dropped (connections still
// open are terminated) at the test's cleanup.
//
// Templates are built on first use and kept for the test binary's life, one per Migrator function
// (keyed by its code pointer, so pass a named function such as storage.Migrate: closures made from
// the same function literal share one template whatever they captured). A nil migrate gives an
// empty database. When migrate fails, this and every later test using it fail with its error.
func NewDatabase(t testing.TB, migrate Migrator) string {
	t.Helper()
	c := Cluster(t)
	tmpl := templateFor(migrate)
	tmpl.once.Do(func() { tmpl.err = buildTemplate(shared.admin, c.DSN(tmpl.name), tmpl.name, migrate) })
	if tmpl.err != nil {
		t.Fatal(tmpl.err)
	}
	name := databaseName(t.Name(), shared.seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sql := "CREATE DATABASE " + ident(name) + " TEMPLATE " + ident(tmpl.name)
	if _, err := shared.admin.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := shared.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop test database: %v", err)
		}
	})
	return c.DSN(name)
}

// templateFor returns the template of migrate, creating its entry on first use.
func templateFor(migrate Migrator) *template {
	var key uintptr
	if migrate != nil {
		key = reflect.ValueOf(migrate).Pointer()
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.templates == nil {
		shared.templates = make(map[uintptr]*template)
	}
	tmpl, ok := shared.templates[key]
	if !ok {
		tmpl = &template{name: fmt.Sprintf("template_%d", len(shared.templates)+1)}
		shared.templates[key] = tmpl
	}
	return tmpl
}

// buildTemplate creates database name, applies migrate to it through dsn and closes it to
// connections, as CREATE DATABASE ... TEMPLATE requires.
func buildTemplate(admin *pgxpool.Pool, dsn, name string, migrate Migrator) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(name)); err != nil {
		return fmt.Errorf("pgtest: create template database: %w", err)
	}
	if migrate != nil {
		if err := migrate(ctx, dsn); err != nil {
			return fmt.Errorf("pgtest: migrate template database: %w", err)
		}
	}
	// Connections a migrator left open would make every clone fail.
	_, err := admin.Exec(ctx, "ALTER DATABASE "+ident(name)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
	if err == nil {
		_, err = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
	}
	if err != nil {
		return fmt.Errorf("pgtest: seal template database: %w", err)
	}
	return nil
}

// databaseName returns the name of test database number n: "t<n>_" and the test's name in
// lower case with other characters than letters and digits replaced, within PostgreSQL's 63 bytes.
func databaseName(testName string, n int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "t%d_", n)
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 63 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// ident quotes a PostgreSQL identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
