package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/fieldsync/fieldsync/sync/demo"
	"github.com/fieldsync/fieldsync/sync/synctest"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func count(t *testing.T, st *storage.Store, query string) int {
	t.Helper()
	var n int
	if err := st.SQL().QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLoadCityIsIdempotent(t *testing.T) {
	st, _ := storagetest.NewEmptyStore(t)
	e := synctest.Engine(st)
	ctx := context.Background()
	res, err := demo.LoadCity(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if res.Regions != 713 || res.Users != 9 || res.Checklists != 4 {
		t.Fatalf("first load %+v", res)
	}
	levels := map[string]int{}
	rows, err := st.SQL().Query(`SELECT level, count(*) FROM regions GROUP BY level`)
	if err != nil {
		t.Fatal(err)
	}
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
	// Written as an admin would: every region, user and checklist logged, one audit line.
	if n := count(t, st, `SELECT count(*) FROM change_log`); n != 713+9+4 {
		t.Fatalf("%d change-log rows, want %d", n, 713+9+4)
	}
	const regionsQ = `SELECT string_agg(id::text || name || path || updated_at::text, ',' ORDER BY id) FROM regions`
	var before, after string
	st.SQL().QueryRow(regionsQ).Scan(&before)
	changes := count(t, st, `SELECT count(*) FROM change_log`)
	res, err = demo.LoadCity(ctx, e)
	if err != nil || res.Regions != 0 || res.Users != 0 || res.Checklists != 0 {
		t.Fatalf("second load %+v %v", res, err)
	}
	st.SQL().QueryRow(regionsQ).Scan(&after)
	if before != after || count(t, st, `SELECT count(*) FROM users`) != 9 || count(t, st, `SELECT count(*) FROM audit_log`) != 1 ||
		count(t, st, `SELECT count(*) FROM change_log`) != changes {
		t.Fatal("second load changed something")
	}
	// Demo ids are stable across machines.
	r, err := st.GetRegionByCode(ctx, "2115")
	if err != nil || r.ID != uuid.NewSHA1(uuid.MustParse("6f1c7d3e-2b9a-4f50-9c1e-5d2f4b8a7e10"), []byte("region:2115")) ||
		r.ID != demo.RegionID("2115") {
		t.Fatalf("city %+v %v", r, err)
	}
	u, err := st.GetUserByUsername(ctx, "ranger.dongsheng")
	if err != nil || u.ID != demo.UserID("ranger.dongsheng") || u.RegionID == nil || *u.RegionID != demo.RegionID("211522105") {
		t.Fatalf("ranger %+v %v", u, err)
	}
}

func TestLoadActivityIsIdempotent(t *testing.T) {
	st, _ := synctest.NewDemoStore(t)
	e := synctest.Engine(st)
	ctx := context.Background()
	now := time.Now()
	snapshot := func() (n, versions, changes int64) {
		t.Helper()
		if err := st.SQL().QueryRow(`SELECT count(*), coalesce(sum(version), 0) FROM records`).Scan(&n, &versions); err != nil {
			t.Fatal(err)
		}
		if err := st.SQL().QueryRow(`SELECT count(*) FROM change_log`).Scan(&changes); err != nil {
			t.Fatal(err)
		}
		return
	}
	if res, err := demo.LoadSites(ctx, e); err != nil || res.Sites[models.SiteProject] != 230 {
		t.Fatalf("demo sites %+v %v", res, err)
	}
	if res, err := demo.LoadSites(ctx, e); err != nil || res.SiteCount() != 0 {
		t.Fatalf("demo sites again %+v %v", res, err)
	}
	start := time.Now()
	act, err := demo.LoadActivity(ctx, e, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first load %v: %+v", time.Since(start), act)
	for _, k := range models.Kinds {
		if act.Visits[k] == 0 {
			t.Fatalf("no %s visits", k)
		}
	}
	if act.Findings == 0 || act.OverdueFindings == 0 || act.ClosedFindings == 0 || act.Tracks == 0 || act.Applied == 0 {
		t.Fatalf("activity %+v", act)
	}
	n1, v1, c1 := snapshot()
	again, err := demo.LoadActivity(ctx, e, now)
	if err != nil {
		t.Fatal(err)
	}
	if again.Applied != 0 || again.Replayed != act.Applied {
		t.Fatalf("second load applied %d, replayed %d (first applied %d)", again.Applied, again.Replayed, act.Applied)
	}
	if n2, v2, c2 := snapshot(); n1 != n2 || v1 != v2 || c1 != c2 {
		t.Fatalf("second load changed records: %d/%d/%d → %d/%d/%d", n1, v1, c1, n2, v2, c2)
	}
	c, err := st.DemoCounts(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Projects != 230 || c.Visits != act.TotalVisits() || c.Findings != act.Findings ||
		c.OverdueFindings != act.OverdueFindings || c.ClosedFindings != act.ClosedFindings || c.Tracks != act.Tracks {
		t.Fatalf("counts %+v, activity %+v", c, act)
	}
	t.Log(demo.Summary(c))
}
