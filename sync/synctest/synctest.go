// Package synctest gives tests of every room a real, migrated PostgreSQL database holding the demo
// city, loaded through the sync engine (sync/demo) and cloned per test from a template built once
// per test binary. It is linked into tests only.
package synctest

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/demo"
)

// Engine is an engine on st with the default limits and cheap password hashes.
func Engine(st *storage.Store) *fsync.Engine {
	cfg := fsync.DefaultConfig()
	cfg.Password = storagetest.CheapPasswords
	return fsync.New(st, cfg)
}

// MigrateWithDemo migrates the database at dsn and loads the demo city (regions, demo users and
// the built-in checklists; no sites) with cheap password hashes.
func MigrateWithDemo(ctx context.Context, dsn string) error {
	if err := storage.MigrateDSN(ctx, dsn); err != nil {
		return err
	}
	st, err := storage.Open(ctx, dsn, storage.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = demo.LoadCity(ctx, Engine(st))
	return err
}

// NewDemoStore opens a store on a fresh database holding the demo city; closed at cleanup.
func NewDemoStore(t testing.TB) (*storage.Store, string) {
	t.Helper()
	dsn := pgtest.NewDatabase(t, MigrateWithDemo)
	return storagetest.Open(t, dsn), dsn
}

// LoadSites loads the demo sites into st (demo.LoadSites), failing the test on an error.
func LoadSites(t testing.TB, st *storage.Store) {
	t.Helper()
	if _, err := demo.LoadSites(context.Background(), Engine(st)); err != nil {
		t.Fatal(err)
	}
}
