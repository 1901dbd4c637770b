package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/sync/demo"
	"github.com/fieldsync/fieldsync/sync/synctest"
)

// TestSummaryFactsFollowRecords loads the demo activity through the sync engine and checks that
// the fact tables agree with the records they are kept from, and that the summary's totals are the
// sums of its rows.
func TestSummaryFactsFollowRecords(t *testing.T) {
	st, _ := synctest.NewDemoStore(t)
	ctx := context.Background()
	now := time.Now()
	synctest.LoadSites(t, st)
	act, err := demo.LoadActivity(ctx, synctest.Engine(st), now)
	if err != nil {
		t.Fatal(err)
	}
	var visits, facts, findings, findingFacts, tracks, trackFacts int
	q := func(sql string, dst *int) {
		t.Helper()
		if err := st.SQL().QueryRow(sql).Scan(dst); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	q(`SELECT count(*) FROM records WHERE type = 'visit' AND deleted_at IS NULL AND status = 'submitted'`, &visits)
	q(`SELECT count(*) FROM report_visits`, &facts)
	q(`SELECT count(*) FROM records WHERE type = 'finding' AND deleted_at IS NULL`, &findings)
	q(`SELECT count(*) FROM report_findings`, &findingFacts)
	q(`SELECT count(*) FROM records t JOIN records v ON v.type = 'visit' AND v.id = t.id AND v.status = 'submitted'
		WHERE t.type = 'track' AND t.deleted_at IS NULL`, &tracks)
	q(`SELECT count(*) FROM report_visits WHERE distance_m IS NOT NULL`, &trackFacts)
	if visits != facts || findings != findingFacts || tracks != trackFacts || findings != act.Findings {
		t.Fatalf("facts: visits %d/%d, findings %d/%d (demo %d), tracks %d/%d", facts, visits, findingFacts, findings,
			act.Findings, trackFacts, tracks)
	}

	today := now.In(models.ChinaStandardTime)
	sum, err := st.Summary(ctx, storage.SummaryQuery{GroupLevel: models.LevelCounty, From: today.AddDate(0, 0, -60),
		To: today, Today: today})
	if err != nil {
		t.Fatal(err)
	}
	var rowVisits, rowFindings, rowOverdue int
	for _, r := range sum.Rows {
		rowVisits += r.AllKinds.Visits
		rowFindings += r.AllKinds.Findings.Total
		rowOverdue += r.AllKinds.Overdue
	}
	if sum.Total.AllKinds.Visits != visits || rowVisits != visits || rowFindings != findings ||
		sum.Total.AllKinds.Overdue != act.OverdueFindings || rowOverdue != act.OverdueFindings {
		t.Fatalf("total %+v; rows: visits %d findings %d overdue %d; want visits %d findings %d overdue %d",
			sum.Total.AllKinds, rowVisits, rowFindings, rowOverdue, visits, findings, act.OverdueFindings)
	}
	if sum.Total.Patrols.Patrols == 0 || sum.Total.Patrols.DistanceKm <= 0 || sum.Total.Projects.Projects == 0 {
		t.Fatalf("empty figures: %+v %+v", sum.Total.Patrols, sum.Total.Projects)
	}
}
