package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
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

func TestLoadDemoIsIdempotent(t *testing.T) {
	st, _ := storagetest.NewEmptyStore(t)
	ctx := context.Background()
	res, err := st.LoadDemo(ctx, storagetest.CheapPasswords)
	if err != nil {
		t.Fatal(err)
	}
	if res.Regions != 713 || res.Users != 9 {
		t.Fatalf("first load %+v", res)
	}
	var levels = map[string]int{}
	rows, _ := st.SQL().Query(`SELECT level, count(*) FROM regions GROUP BY level`)
	for rows.Next() {
		var l string
		var n int
		rows.Scan(&l, &n)
		levels[l] = n
	}
	rows.Close()
	if levels["city"] != 1 || levels["county"] != 8 || levels["township"] != 176 || levels["village"] != 528 {
		t.Fatalf("levels %v", levels)
	}
	var before string
	st.SQL().QueryRow(`SELECT string_agg(id::text || name || path || updated_at::text, ',' ORDER BY id) FROM regions`).Scan(&before)
	res, err = st.LoadDemo(ctx, storagetest.CheapPasswords)
	if err != nil || res.Regions != 0 || res.Users != 0 {
		t.Fatalf("second load %+v %v", res, err)
	}
	var after string
	st.SQL().QueryRow(`SELECT string_agg(id::text || name || path || updated_at::text, ',' ORDER BY id) FROM regions`).Scan(&after)
	if before != after || count(t, st, "users") != 9 || count(t, st, "audit_log") != 1 {
		t.Fatal("second load changed something")
	}
	// Demo ids are stable across machines.
	r, err := st.GetRegionByCode(ctx, "2115")
	if err != nil || r.ID != uuid.NewSHA1(uuid.MustParse("6f1c7d3e-2b9a-4f50-9c1e-5d2f4b8a7e10"), []byte("region:2115")) {
		t.Fatalf("city %+v %v", r, err)
	}
}

func TestSentinelErrors(t *testing.T) {
	st, _ := storagetest.NewDemoStore(t)
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
	st, _ := storagetest.NewDemoStore(t)
	ctx := context.Background()
	town, _ := st.GetRegionByCode(ctx, "211522105")
	dest, _ := st.GetRegionByCode(ctx, "211521")
	var changes []models.Change
	err := st.InTx(ctx, func(tx *storage.Store) error {
		var err error
		_, changes, err = tx.UpdateRegion(ctx, town.ID, storage.RegionPatch{ParentID: &dest.ID})
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
	if len(changes) != 5 || changes[0].OldRegionPath == nil || !strings.HasPrefix(changes[0].RegionPath, dest.Path) ||
		changes[4].RecordType != models.TypeUser {
		t.Fatalf("move changes %+v", changes)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	st, _ := storagetest.NewDemoStore(t)
	for _, q := range []string{`UPDATE audit_log SET action = 'x'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := st.SQL().Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func TestThrottle(t *testing.T) {
	st, _ := storagetest.NewEmptyStore(t)
	ctx := context.Background()
	rule := storage.ThrottleRule{Free: 2, Window: time.Hour, MaxDelay: 10 * time.Second}
	var waits []time.Duration
	for i := 1; i <= 6; i++ {
		n, wait, err := st.ThrottleFail(ctx, "pair:x 1.2.3.4", rule)
		if err != nil || n != i {
			t.Fatalf("failure %d: count %d, %v", i, n, err)
		}
		waits = append(waits, wait.Round(time.Second))
	}
	if fmt.Sprint(waits) != "[0s 0s 2s 4s 8s 10s]" {
		t.Fatalf("waits %v", waits)
	}
	wait, _ := st.ThrottleWait(ctx, "pair:x 1.2.3.4", "addr:1.2.3.4")
	if wait <= 8*time.Second || wait > 10*time.Second {
		t.Fatalf("waiting %v", wait)
	}
	if wait, _ := st.ThrottleWait(ctx, "pair:y 1.2.3.4"); wait != 0 {
		t.Fatalf("unrelated key waits %v", wait)
	}
	// A failure after the window starts counting afresh; the wait already imposed still runs.
	st.SQL().Exec(`UPDATE login_failures SET window_ends = now() - interval '1 second'`)
	if n, wait, _ := st.ThrottleFail(ctx, "pair:x 1.2.3.4", rule); n != 1 || wait <= 8*time.Second {
		t.Fatalf("after the window: count %d, wait %v", n, wait)
	}
	st.ThrottleReset(ctx, "pair:x 1.2.3.4")
	if wait, _ := st.ThrottleWait(ctx, "pair:x 1.2.3.4"); wait != 0 {
		t.Fatalf("reset key still waits %v", wait)
	}
	if err := st.PruneThrottle(ctx, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func TestThrottleDelay(t *testing.T) {
	r := storage.ThrottleRule{Free: 5, MaxDelay: 15 * time.Minute}
	for n, want := range map[int]time.Duration{0: 0, 5: 0, 6: 2 * time.Second, 9: 16 * time.Second, 14: 512 * time.Second,
		15: 15 * time.Minute, 40: 15 * time.Minute, 100: 15 * time.Minute, 1 << 30: 15 * time.Minute} {
		if got := r.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestAuthenticateChecksEverything(t *testing.T) {
	st, _ := storagetest.NewDemoStore(t)
	ctx := context.Background()
	u, _ := st.GetUserByUsername(ctx, "ranger.dongsheng")
	for _, d := range []string{"d1", "d2"} {
		if _, _, err := st.DeviceLogin(ctx, models.Device{ID: d}, u.ID, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	live, _ := st.CreateToken(ctx, []byte("live"), u.ID, "d1", time.Now().Add(time.Hour))
	if _, err := st.CreateToken(ctx, []byte("old"), u.ID, "d2", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
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

// TestOneLiveTokenPerDevice: the schema keeps one live token per device and user; a login ends
// the earlier one first.
func TestOneLiveTokenPerDevice(t *testing.T) {
	st, _ := storagetest.NewDemoStore(t)
	ctx := context.Background()
	u, _ := st.GetUserByUsername(ctx, "ranger.dongsheng")
	if _, _, err := st.DeviceLogin(ctx, models.Device{ID: "d1"}, u.ID, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(ctx, []byte("first"), u.ID, "d1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(ctx, []byte("second"), u.ID, "d1", time.Now().Add(time.Hour)); err == nil {
		t.Fatal("a second live token on one device was stored")
	}
	if n, err := st.RevokeDeviceSessions(ctx, u.ID, "d1"); err != nil || n != 1 {
		t.Fatalf("revoked %d %v", n, err)
	}
	if _, err := st.CreateToken(ctx, []byte("second"), u.ID, "d1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, []byte("first")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("replaced token accepted: %v", err)
	}
}
