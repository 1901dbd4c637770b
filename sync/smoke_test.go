package sync

import (
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

func TestPushPullRoundTrip(t *testing.T) {
	e := newEnv(t)
	insp := e.phone("inspector")
	town := e.region("211522105")
	vid, fid := uuid.New(), uuid.New()
	resp := insp.push(mut("visit.create", visitArgs(vid, models.KindProjectVisit, town)),
		mut("finding.create", findingArgs(fid, vid)),
		mut("visit.update", set(vid, 1, map[string]any{"notes": "second look", "answers.workers_on_site": 95})),
		mut("visit.submit", map[string]any{"id": vid}))
	if resp.LastMutationID != 4 || len(resp.Results) != 4 {
		t.Fatalf("resp %+v", resp)
	}
	for _, r := range resp.Results {
		expectStatus(t, r, models.StatusApplied)
	}
	if v := resp.Results[3].Entity.Version; v != 3 {
		t.Fatalf("visit version %d, want 3", v)
	}
	ranger := e.phone("ranger.dongsheng") // same township, but kinds fire_patrol+planting_check
	insp.pullAll(100)
	ranger.pullAll(100)
	c, ok := insp.has(models.TypeVisit, vid)
	if !ok || c.Version != 3 {
		t.Fatalf("inspector's replica: %+v", c)
	}
	d := dataOf(t, c)
	if d["status"] != "submitted" || d["notes"] != "second look" || d["answers"].(map[string]any)["workers_on_site"] != float64(95) {
		t.Fatalf("visit data %v", d)
	}
	if _, ok := insp.has(models.TypeFinding, fid); !ok {
		t.Fatal("finding not pulled")
	}
	if _, ok := ranger.has(models.TypeVisit, vid); ok {
		t.Fatal("a project visit reached a ranger whose kinds exclude it")
	}
	if n := ranger.count(models.TypeRegion); n != 4 {
		t.Fatalf("ranger has %d regions, want 4", n)
	}
	if n := insp.count(models.TypeRegion); n != 713 {
		t.Fatalf("inspector has %d regions, want 713", n)
	}
}
