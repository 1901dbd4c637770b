package storage_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync/storage/storagetest"
)

// TestServerSecretIsSharedAndKept asks for a secret from several stores (server processes) at
// once: all get the same bytes, a store opened later too, and another name gets another secret.
func TestServerSecretIsSharedAndKept(t *testing.T) {
	_, dsn := storagetest.NewEmptyStore(t)
	ctx := context.Background()
	const n = 6
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		st := storagetest.Open(t, dsn)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if got[i], err = st.ServerSecret(ctx, "cursor", 32); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(got[0]) != 32 || bytes.Equal(got[0], make([]byte, 32)) {
		t.Fatalf("secret %x", got[0])
	}
	for i := range got {
		if !bytes.Equal(got[i], got[0]) {
			t.Fatalf("store %d got another secret", i)
		}
	}
	later := storagetest.Open(t, dsn)
	if again, err := later.ServerSecret(ctx, "cursor", 32); err != nil || !bytes.Equal(again, got[0]) {
		t.Fatalf("a later store got %x, %v", again, err)
	}
	if other, err := later.ServerSecret(ctx, "other", 32); err != nil || bytes.Equal(other, got[0]) {
		t.Fatalf("another name got %x, %v", other, err)
	}
	var rows int
	if err := later.SQL().QueryRowContext(ctx, `SELECT count(*) FROM server_secrets`).Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("%d rows, %v", rows, err)
	}
}
