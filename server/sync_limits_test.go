package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// TestSyncPullSendsBadStoredRecordSafely: a visit stored before the answer limits were enforced
// (an answer nested 9,000 deep and a number no float64 holds, written straight into the database)
// and a conflict keeping such a value reach phones over HTTP in the documented safe form (and
// supervisors in the conflict list): the bad parts null and listed in withheld, every answer valid
// against openapi.yaml and decodable.
func TestSyncPullSendsBadStoredRecordSafely(t *testing.T) {
	h := newHarness(t)
	p := h.syncPhone("inspector", "phone-safe")
	town := h.regionID(codeDongsheng)
	good := uuid.New()
	out, _ := p.push(visitCreate(good, "project_visit", town))
	expectResult(t, out.Results[0], "applied", 1)

	ctx := context.Background()
	rec, err := h.store.GetRecord(ctx, models.TypeVisit, good)
	if err != nil {
		t.Fatal(err)
	}
	bad := rec
	bad.ID = uuid.New()
	var data map[string]json.RawMessage
	if err := json.Unmarshal(rec.Data, &data); err != nil {
		t.Fatal(err)
	}
	data["id"], _ = json.Marshal(bad.ID)
	delete(data, "answers")
	rest, _ := json.Marshal(data)
	deep := strings.Repeat("[", 9000) + "1" + strings.Repeat("]", 9000)
	bad.Data = append([]byte(`{"answers":{"stage":"completed","deep":`+deep+`,"huge":1e999},`), rest[1:]...)
	conflictID := uuid.New()
	uid := uuid.MustParse(h.userID("inspector"))
	err = h.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.SaveRecords(ctx, []models.Record{bad}, true); err != nil {
			return err
		}
		c := models.Conflict{ID: conflictID, RecordType: models.TypeVisit, RecordID: good, Field: "answers.deep",
			RegionPath: bad.RegionPath, Kind: bad.Kind, BaseVersion: 1, Kept: "client", ServerValue: json.RawMessage(deep),
			ClientValue: json.RawMessage(`2`), Server: models.ConflictSide{UserID: uid, At: time.Now()},
			Client: models.ConflictSide{UserID: uid, At: time.Now()}, CreatedAt: time.Now()}
		if err := tx.InsertConflicts(ctx, []models.Conflict{c}); err != nil {
			return err
		}
		_, err := tx.AppendChanges(ctx, []models.Change{
			{RecordType: models.TypeVisit, RecordID: bad.ID.String(), Op: models.OpPut, Version: 1, Kind: bad.Kind, RegionPath: bad.RegionPath},
			{RecordType: models.TypeConflict, RecordID: conflictID.String(), Op: models.OpPut, Version: 1, Kind: bad.Kind,
				RegionPath: bad.RegionPath, AudienceUser: &uid}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	sup := h.syncPhone("supervisor", "laptop-safe")
	for _, phone := range []*syncPhone{p, sup} { // incremental, bootstrap
		changes, _ := phone.pullAll(500)
		v, ok := findChange(changes, "visit", bad.ID.String())
		if !ok {
			t.Fatalf("%s: the bad visit was not sent", phone.username)
		}
		var d struct {
			Answers  map[string]json.RawMessage `json:"answers"`
			Withheld []string                   `json:"withheld"`
		}
		if err := json.Unmarshal(v.Data, &d); err != nil || string(d.Answers["deep"]) != "null" ||
			string(d.Answers["huge"]) != "null" || strings.Join(d.Withheld, ",") != "answers.deep,answers.huge" {
			t.Fatalf("%s: visit sent as %.300s (%v)", phone.username, v.Data, err)
		}
		if phone == p {
			c, ok := findChange(changes, "conflict", conflictID.String())
			if !ok || !strings.Contains(string(c.Data), `"server_value":null`) || !strings.Contains(string(c.Data), `"withheld":["server_value"]`) {
				t.Fatalf("conflict sent as %.300s", c.Data)
			}
		}
	}
	// The supervisors' conflict list sends it the same way.
	r := h.do("GET", "/v1/conflicts", sup.token, nil)
	expectStatus(t, r, 200)
	if !strings.Contains(string(r.Body), `"server_value":null`) || !strings.Contains(string(r.Body), `"withheld":["server_value"]`) {
		t.Fatalf("conflict list: %.500s", r.Body)
	}
}

// TestSyncPushAnswerLimitsAndExpiredReplay: over HTTP, an answer beyond the limits is rejected
// (too_deep), and a replay of mutations whose results were pruned is answered expired; both
// answers are valid against openapi.yaml.
func TestSyncPushAnswerLimitsAndExpiredReplay(t *testing.T) {
	h := newHarness(t)
	p := h.syncPhone("inspector", "phone-limits")
	town := h.regionID(codeDongsheng)
	deep := visitCreate(uuid.New(), "project_visit", town)
	deep.Args.(map[string]any)["answers"] = map[string]any{"stage": "completed", "x": [][][][]int{{{{1}}}}}
	ok := visitCreate(uuid.New(), "project_visit", town)
	body := p.body([]syncMut{deep, ok}, 1)
	out, _ := p.push(deep, ok)
	expectRejected(t, out.Results[0], "too_deep", "answers.x[0][0][0]")
	expectResult(t, out.Results[1], "applied", 1)

	if _, err := h.store.SQL().Exec(`UPDATE sync_mutations SET applied_at = now() - interval '100 days' WHERE client_id = $1`,
		p.clientID); err != nil {
		t.Fatal(err)
	}
	if rep, err := h.store.PruneResults(context.Background(), time.Now().Add(-90*24*time.Hour), 100); err != nil || rep.Results != 2 {
		t.Fatalf("prune: %+v %v", rep, err)
	}
	r := p.pushRaw(body)
	expectStatus(t, r, 200)
	var again syncPushResponse
	if err := json.Unmarshal(r.Body, &again); err != nil {
		t.Fatal(err)
	}
	if again.LastMutationID != 2 || len(again.Results) != 2 {
		t.Fatalf("replay: %s", r.Body)
	}
	for _, res := range again.Results {
		if res.Status != "expired" || res.Entity != nil || res.Error != nil {
			t.Fatalf("replayed result %+v, want expired", res)
		}
	}
}
