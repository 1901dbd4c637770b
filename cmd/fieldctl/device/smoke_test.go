package device_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
)

// A first sync bootstraps the phone, a visit made offline is pushed once, and pulled back.
func TestLoginSyncVisit(t *testing.T) {
	srv := newTestServer(t)
	ctx := context.Background()
	d := newPhone(t, srv, "inspector")
	if rep := syncOK(t, d, device.SyncOptions{SkipUploads: true}); rep.Pages < 2 {
		t.Fatalf("a bootstrap of the demo city in pages of 1,000 takes several pages: %+v", rep)
	}
	sites, err := d.Sites(ctx, device.Filter{Kind: "project", Limit: 1})
	if err != nil || len(sites) != 1 {
		t.Fatalf("sites: %v %d", err, len(sites))
	}
	id, err := d.NewVisit(ctx, device.VisitInput{Kind: "project_visit", SiteID: sites[0].ID,
		Answers: map[string]any{"stage": "under_construction", "workers_on_site": 12}})
	if err != nil {
		t.Fatal(err)
	}
	rep := syncOK(t, d, device.SyncOptions{})
	if rep.Applied != 1 || rep.Queue != 0 {
		t.Fatalf("report %+v", rep)
	}
	r, err := d.Record(ctx, "visit", id.String())
	if err != nil || r == nil || r.Local || r.Version != 1 {
		t.Fatalf("visit after sync: %+v %v", r, err)
	}
	var v map[string]any
	_ = json.Unmarshal(r.Data, &v)
	if v["inspector_id"] == nil {
		t.Fatalf("visit is not the server's copy: %s", r.Data)
	}
}
