// Package storagetest gives tests of every room a real, migrated PostgreSQL database, cloned per
// test from a template built once per test binary (sync/synctest adds the demo city), and the test
// sites of StoreSites.
package storagetest

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/pgtest"
)

// CheapPasswords keeps argon2id cheap in tests; production uses models.DefaultPasswordParams.
var CheapPasswords = models.PasswordParams{MemoryKiB: 64, Iterations: 1, Threads: 1}

// NewEmptyStore opens a store on a fresh migrated database with no rows; closed at cleanup.
func NewEmptyStore(t testing.TB) (*storage.Store, string) {
	t.Helper()
	dsn := pgtest.NewDatabase(t, storage.MigrateDSN)
	return Open(t, dsn), dsn
}

// Open opens a store on dsn, closed at cleanup.
func Open(t testing.TB, dsn string) *storage.Store {
	t.Helper()
	st, err := storage.Open(context.Background(), dsn, storage.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
