package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/cmd/fieldctl/fieldwork"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
)

// Two phones edit the same finding offline, then sync one after the other. The documented merge
// (SYNC_PROTOCOL.md, sync/merge.go): fields only one side changed are both applied; a field both
// changed takes the later arrival's value and a conflict record keeps both. After a pull both
// phones hold the same finding at the same version.
func TestFaultTwoPhonesEditOneFindingOffline(t *testing.T) {
	ctx := context.Background()
	st := demoStore(t)
	srv := startInproc(t, st, miniotest.NewStore(t))
	ledger := &fieldwork.Ledger{}
	ps := newPhones(t, srv.URL(), "inspector", 2, 17, ledger)
	a, b := ps[0].d, ps[1].d
	visit, err := a.NewVisit(ctx, device.VisitInput{Kind: "project_visit", SiteID: ps[0].w.Sites["project"][0],
		Answers: map[string]any{"stage": "approved"}, Notes: "fault merge"})
	if err != nil {
		t.Fatal(err)
	}
	finding, err := a.NewFinding(ctx, device.FindingInput{VisitID: visit, Category: "safety", Severity: "ordinary",
		Description: "原始描述", ResponsibleUnit: "施工单位", Deadline: "2026-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device.Device{a, b} {
		if err := syncUntilDone(ctx, d, nil, device.SyncOptions{}, 2); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := b.Record(ctx, "finding", finding.String()); r == nil {
		t.Fatal("phone B did not pull the finding")
	}
	// Offline, both edit; description on both sides.
	if err := a.UpdateFinding(ctx, finding, map[string]any{"description": "A 的描述", "measures": "A 的措施"}); err != nil {
		t.Fatal(err)
	}
	if err := b.UpdateFinding(ctx, finding, map[string]any{"description": "B 的描述", "responsible_person": "张工"}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device.Device{a, b, a} { // A arrives first, then B; A pulls B's
		if err := syncUntilDone(ctx, d, nil, device.SyncOptions{}, 2); err != nil {
			t.Fatal(err)
		}
	}
	ra, _ := a.Record(ctx, "finding", finding.String())
	rb, _ := b.Record(ctx, "finding", finding.String())
	srvRec, err := st.GetRecord(ctx, "finding", finding)
	if err != nil || ra == nil || rb == nil {
		t.Fatalf("finding: %v %v %v", err, ra, rb)
	}
	if ra.Version != rb.Version || ra.Version != srvRec.Version {
		t.Fatalf("versions: A %d, B %d, server %d", ra.Version, rb.Version, srvRec.Version)
	}
	var fa, fb map[string]any
	_ = json.Unmarshal(ra.Data, &fa)
	_ = json.Unmarshal(rb.Data, &fb)
	ja, _ := json.Marshal(fa)
	jb, _ := json.Marshal(fb)
	if !bytes.Equal(ja, jb) {
		t.Fatalf("the phones differ:\nA %s\nB %s", ja, jb)
	}
	want := map[string]string{"description": "B 的描述", "measures": "A 的措施", "responsible_person": "张工"}
	for k, v := range want {
		if fa[k] != v {
			t.Fatalf("%s = %v, want %q (merged: %s)", k, fa[k], v, ja)
		}
	}
	var n int
	var field, kept, serverValue, clientValue string
	if err := st.SQL().QueryRow(`SELECT count(*) OVER (), field, kept, server_value #>> '{}', client_value #>> '{}'
		FROM conflicts WHERE record_type = 'finding' AND record_id = $1`, finding).Scan(&n, &field, &kept, &serverValue, &clientValue); err != nil {
		t.Fatalf("conflict record: %v", err)
	}
	if n != 1 || field != "description" || kept != "client" || serverValue != "A 的描述" || clientValue != "B 的描述" {
		t.Fatalf("conflict: %d on %s, kept %s, server %q, client %q", n, field, kept, serverValue, clientValue)
	}
}
