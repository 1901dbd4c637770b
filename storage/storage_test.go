package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/fieldsync/fieldsync/sync/synctest"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func count(t *testing.T, st *storage.Store, table string) int {
	t.Helper()
	var n int
	if err := st.SQL().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSentinelErrors(t *testing.T) {
	st, _ := synctest.NewDemoStore(t)
	ctx := context.Background()
	if _, err := st.GetUser(ctx, uuid.New()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
	u := models.User{Username: "inspector", Name: "dup", PasswordHash: "x", Role: models.RoleInspector, Active: true}
	if err := st.CreateUser(ctx, &u); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("duplicate username: %v", err)
	}
	if _, err := st.RevokeDevice(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing device: %v", err)
	}
}

func TestRegionMoveRewritesSubtree(t *testing.T) {
	st, _ := synctest.NewDemoStore(t)
	ctx := context.Background()
	town, _ := st.GetRegionByCode(ctx, "211522105")
	dest, _ := st.GetRegionByCode(ctx, "211521")
	var moved []storage.Moved
	err := st.InTx(ctx, func(tx *storage.Store) error {
		var err error
		if moved, err = tx.MoveRegionSubtree(ctx, town.Path, models.RegionPath(dest.Path, town.ID)); err != nil {
			return err
		}
		_, err = tx.UpdateRegion(ctx, town.ID, storage.RegionPatch{ParentID: &dest.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	inDest, err := st.ListRegions(ctx, storage.RegionFilter{Scope: models.Scope{RegionID: &dest.ID, RegionPath: dest.Path}})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, r := range inDest {
		if strings.HasPrefix(r.Code, "211522105") {
			found++
			if !strings.HasPrefix(r.Path, dest.Path) {
				t.Fatalf("%s path %s not under %s", r.Code, r.Path, dest.Path)
			}
		}
	}
	if found != 4 {
		t.Fatalf("moved subtree has %d regions under the new county, want 4", found)
	}
	// 4 regions and the ranger assigned to the township (their phones' scopes moved with it).
	if len(moved) != 5 || moved[0].OldPath != town.Path || !strings.HasPrefix(moved[0].Path, dest.Path) ||
		moved[4].Type != models.TypeUser {
		t.Fatalf("moved %+v", moved)
	}
	if r, err := st.GetRegion(ctx, town.ID); err != nil || r.ParentID == nil || *r.ParentID != dest.ID {
		t.Fatalf("moved township %+v %v", r, err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	st, _ := synctest.NewDemoStore(t)
	for _, q := range []string{`UPDATE audit_log SET action = 'x'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := st.SQL().Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func TestThrottle(t *testing.T) {
	st, _ := storagetest.NewEmptyStore(t)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		wait, err := st.ThrottleFail(ctx, "user:x", 3, time.Minute, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if (i < 3) != (wait == 0) {
			t.Fatalf("failure %d: wait %v", i, wait)
		}
	}
	wait, _ := st.ThrottleLocked(ctx, "user:x", "ip:1.2.3.4")
	if wait < 9*time.Minute || wait > 10*time.Minute {
		t.Fatalf("locked for %v", wait)
	}
	if wait, _ := st.ThrottleLocked(ctx, "user:y"); wait != 0 {
		t.Fatalf("unrelated key locked %v", wait)
	}
	st.ThrottleReset(ctx, "user:x")
	if wait, _ := st.ThrottleLocked(ctx, "user:x"); wait != 0 {
		t.Fatalf("reset key still locked %v", wait)
	}
}

func TestAuthenticateChecksEverything(t *testing.T) {
	st, _ := synctest.NewDemoStore(t)
	ctx := context.Background()
	u, _ := st.GetUserByUsername(ctx, "ranger.dongsheng")
	if _, _, err := st.DeviceLogin(ctx, models.Device{ID: "d1"}, u.ID, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	live, _ := st.CreateToken(ctx, []byte("live"), u.ID, "d1", time.Now().Add(time.Hour))
	_, _ = st.CreateToken(ctx, []byte("old"), u.ID, "d1", time.Now().Add(-time.Second))
	p, err := st.Authenticate(ctx, []byte("live"))
	if err != nil || p.TokenID != live || p.User.PasswordHash != "" || p.Scope.RegionPath == "" || len(p.Scope.Kinds) != 2 {
		t.Fatalf("principal %+v %v", p, err)
	}
	if _, err := st.Authenticate(ctx, []byte("old")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired token accepted: %v", err)
	}
	if n, err := st.PruneTokens(ctx, time.Now()); err != nil || n != 1 {
		t.Fatalf("pruned %d %v", n, err)
	}
}
