package sync

import (
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
)

func TestLoadDemoActivityIsIdempotent(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	snapshot := func() (n, versions, changes int64) {
		t.Helper()
		if err := e.store.SQL().QueryRow(`SELECT count(*), coalesce(sum(version), 0) FROM records`).Scan(&n, &versions); err != nil {
			t.Fatal(err)
		}
		if err := e.store.SQL().QueryRow(`SELECT count(*) FROM change_log`).Scan(&changes); err != nil {
			t.Fatal(err)
		}
		return
	}
	if res, err := e.store.LoadDemoSites(e.ctx); err != nil || res.Projects != 230 {
		t.Fatalf("demo sites %+v %v", res, err)
	}
	if res, err := e.store.LoadDemoSites(e.ctx); err != nil || res.Sites() != 0 {
		t.Fatalf("demo sites again %+v %v", res, err)
	}
	start := time.Now()
	act, err := e.engine.LoadDemoActivity(e.ctx, now)
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
	again, err := e.engine.LoadDemoActivity(e.ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if again.Applied != 0 || again.Replayed != act.Applied {
		t.Fatalf("second load applied %d, replayed %d (first applied %d)", again.Applied, again.Replayed, act.Applied)
	}
	if n2, v2, c2 := snapshot(); n1 != n2 || v1 != v2 || c1 != c2 {
		t.Fatalf("second load changed records: %d/%d/%d → %d/%d/%d", n1, v1, c1, n2, v2, c2)
	}
	c, err := e.store.DemoCounts(e.ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Projects != 230 || c.Visits != act.TotalVisits() || c.Findings != act.Findings ||
		c.OverdueFindings != act.OverdueFindings || c.ClosedFindings != act.ClosedFindings || c.Tracks != act.Tracks {
		t.Fatalf("counts %+v, activity %+v", c, act)
	}
	t.Log(c)
}
