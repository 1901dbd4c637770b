package sync

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

func deepList(n int) json.RawMessage {
	return json.RawMessage(strings.Repeat("[", n) + "1" + strings.Repeat("]", n))
}

// TestPushKeepsAnswersWithinTheLimits: answers that break the answer limits are rejected naming
// the answer, with or without a checklist, on create and on update, and change nothing; answers
// within them (a visit without a checklist, as fieldctl and older phones send) are applied.
func TestPushKeepsAnswersWithinTheLimits(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	town := e.region(dongsheng)
	withAnswer := func(kind models.Kind, key string, raw json.RawMessage, checklist bool) Mutation {
		a := visitArgs(uuid.New(), kind, town)
		ans := a["answers"].(map[string]any)
		if checklist {
			ans = map[string]any{}
			for k, v := range models.DefaultChecklistExample(kind) {
				ans[k] = v
			}
			a["checklist"] = map[string]any{"id": models.DefaultChecklistID(kind), "version": 1}
		}
		ans[key] = raw
		a["answers"] = ans
		return mut("visit.create", a)
	}
	own := uuid.New()
	expectStatus(t, p.push(mut("visit.create", visitArgs(own, models.KindProjectVisit, town))).Results[0], models.StatusApplied)
	products := func(n int) json.RawMessage {
		rows := make([]string, n)
		for i := range rows {
			rows[i] = `{"category":"seed","brand":"b","label_compliant":true}`
		}
		return json.RawMessage("[" + strings.Join(rows, ",") + "]")
	}
	for _, c := range []struct {
		name        string
		m           Mutation
		code, field string
	}{
		{"a list 9,000 deep", withAnswer(models.KindProjectVisit, "deep", deepList(9000), false), "too_deep", "answers.deep[0][0][0]"},
		{"a string too long", withAnswer(models.KindProjectVisit, "note", json.RawMessage(`"`+strings.Repeat("x", 4001)+`"`), false), "too_long", "answers.note"},
		{"a number beyond float64", withAnswer(models.KindAgriInputCheck, "samples_taken", json.RawMessage(`1e999`), false), "out_of_range", "answers.samples_taken"},
		{"a key inside an answer", withAnswer(models.KindAgriInputCheck, "products", json.RawMessage(`[{"Category":"seed"}]`), false), "invalid", "answers.products[0]"},
		{"free answers without a checklist", withAnswer(models.KindAgriInputCheck, "products", json.RawMessage(`[{"category":"seed","name":"玉米种子"}]`), false), "", ""},
		{"a list 9,000 deep with a checklist", withAnswer(models.KindProjectVisit, "blockers", deepList(9000), true), "too_deep", "answers.blockers[0][0][0]"},
		{"a choice outside its options", withAnswer(models.KindProjectVisit, "works_status", json.RawMessage(`"halted"`), true), "unknown", "answers.works_status"},
		{"a number as text", withAnswer(models.KindProjectVisit, "workers_on_site", json.RawMessage(`"120"`), true), "invalid", "answers.workers_on_site"},
		{"a multi-choice of every option twice", withAnswer(models.KindProjectVisit, "blockers", json.RawMessage(`["land","land","land","land","land","land","land","land"]`), true), "out_of_range", "answers.blockers"},
		{"group rows over the declared size", withAnswer(models.KindAgriInputCheck, "products", products(201), true), "out_of_range", "answers.products"},
		{"a group row that is not an object", withAnswer(models.KindAgriInputCheck, "products", json.RawMessage(`[{"category":"seed","brand":"b","label_compliant":true},[1]]`), true), "invalid", "answers.products[1]"},
		{"group rows within the declared size", withAnswer(models.KindAgriInputCheck, "products", products(200), true), "", ""},
		{"an update to a deep answer", mut("visit.update", set(own, 1, map[string]any{"answers.deep": deepList(5)})), "too_deep", "answers.deep[0][0][0]"},
		{"an update of all answers", mut("visit.update", set(own, 1, map[string]any{"answers": map[string]any{"stage": "completed", "x": deepList(5)}})), "too_deep", "answers.x[0][0][0]"},
		{"an update within the limits", mut("visit.update", set(own, 1, map[string]any{"answers.note": "ok"})), "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.stateDigest()
			r := p.push(c.m).Results[0]
			if c.code == "" {
				expectStatus(t, r, models.StatusApplied)
				return
			}
			expectRejected(t, r, c.code, c.field)
			if e.stateDigest() != before {
				t.Fatal("a rejected mutation changed the database")
			}
		})
	}
}

// TestPullSendsBadStoredRecordsSafely: records stored before the answer limits were enforced (a
// list 9,000 deep, which stops parsers with a smaller stack or a nesting limit; a number no
// float64 holds, which Go's decoder refuses) are written straight into the database. Bootstrap and incremental pulls
// still succeed, encode and decode; the bad answers arrive as null and are listed in withheld,
// the rest of the record as stored, and the server logs each one.
func TestPullSendsBadStoredRecordsSafely(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	cfg := DefaultConfig()
	cfg.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	e.engine = New(e.store, cfg)
	p := e.phone("inspector")
	p.pullAll(5000)
	town := e.region(dongsheng)
	good := uuid.New()
	expectStatus(t, p.push(mut("visit.create", visitArgs(good, models.KindProjectVisit, town))).Results[0], models.StatusApplied)

	rec, err := e.store.GetRecord(e.ctx, models.TypeVisit, good)
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
	bad.Data = append([]byte(`{"answers":{"stage":"completed","deep":`+string(deepList(9000))+`,"huge":1e999},`), rest[1:]...)
	var probe any
	if err := json.Unmarshal(bad.Data, &probe); err == nil || jsonDepth(bad.Data) <= 9000 {
		t.Fatal("the bad record neither breaks Go's decoder nor nests 9,000 deep: the test proves nothing")
	}
	conflictID := uuid.New()
	err = e.store.InTx(e.ctx, func(tx *storage.Store) error {
		if err := tx.SaveRecords(e.ctx, []models.Record{bad}, true); err != nil {
			return err
		}
		c := models.Conflict{ID: conflictID, RecordType: models.TypeVisit, RecordID: good, Field: "answers.deep",
			RegionPath: town.Path, Kind: models.KindProjectVisit, BaseVersion: 1, Kept: "client",
			ServerValue: deepList(9000), ClientValue: json.RawMessage(`2`),
			Server: models.ConflictSide{UserID: p.a.User.ID}, Client: models.ConflictSide{UserID: p.a.User.ID}}
		if err := tx.InsertConflicts(e.ctx, []models.Conflict{c}); err != nil {
			return err
		}
		u := p.a.User.ID
		_, err := tx.AppendChanges(e.ctx, []models.Change{
			{RecordType: models.TypeVisit, RecordID: bad.ID.String(), Op: models.OpPut, Version: 1, Kind: bad.Kind, RegionPath: bad.RegionPath},
			{RecordType: models.TypeConflict, RecordID: conflictID.String(), Op: models.OpPut, Version: 1, Kind: bad.Kind,
				RegionPath: bad.RegionPath, AudienceUser: &u}})
		return err
	})
	if err != nil {
		t.Fatalf("storing the bad record: %v", err)
	}

	check := func(what string, resp *PullResponse) {
		t.Helper()
		body, err := json.Marshal(resp)
		if err != nil {
			t.Fatalf("%s: the page cannot be encoded: %v", what, err)
		}
		var anyBody any
		if err := json.Unmarshal(body, &anyBody); err != nil {
			t.Fatalf("%s: a phone cannot decode the page: %v", what, err)
		}
		if d := jsonDepth(body); d > 16 {
			t.Fatalf("%s: the page nests %d deep; a phone's parser may give up", what, d)
		}
		var sawVisit, sawConflict bool
		for _, c := range resp.Changes {
			var d struct {
				Answers     map[string]json.RawMessage `json:"answers"`
				Withheld    []string                   `json:"withheld"`
				ServerValue json.RawMessage            `json:"server_value"`
				ClientValue json.RawMessage            `json:"client_value"`
			}
			switch {
			case c.Type == models.TypeVisit && c.ID == bad.ID.String():
				sawVisit = true
				_ = json.Unmarshal(c.Data, &d)
				if string(d.Answers["deep"]) != "null" || string(d.Answers["huge"]) != "null" ||
					string(d.Answers["stage"]) != `"completed"` || strings.Join(d.Withheld, ",") != "answers.deep,answers.huge" {
					t.Fatalf("%s: visit sent as %s", what, c.Data)
				}
			case c.Type == models.TypeVisit && c.ID == good.String():
				_ = json.Unmarshal(c.Data, &d)
				if d.Withheld != nil {
					t.Fatalf("%s: a good visit has withheld %v", what, d.Withheld)
				}
			case c.Type == models.TypeConflict && c.ID == conflictID.String():
				sawConflict = true
				_ = json.Unmarshal(c.Data, &d)
				if string(d.ServerValue) != "null" || string(d.ClientValue) != "2" || strings.Join(d.Withheld, ",") != "server_value" {
					t.Fatalf("%s: conflict sent as %s", what, c.Data)
				}
			}
		}
		if !sawVisit || !sawConflict {
			t.Fatalf("%s: bad visit sent %v, conflict sent %v", what, sawVisit, sawConflict)
		}
	}
	incremental, err := e.engine.Pull(e.ctx, p.a, &PullRequest{ClientID: p.id, Cursor: p.cursor, Limit: 500})
	if err != nil {
		t.Fatalf("incremental pull: %v", err)
	}
	check("incremental", incremental)
	q := e.phone("inspector")
	var all PullResponse
	for cur := (*string)(nil); ; {
		page, err := e.engine.Pull(e.ctx, q.a, &PullRequest{ClientID: q.id, Cursor: cur, Limit: 5000})
		if err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
		all.Changes = append(all.Changes, page.Changes...)
		if !page.HasMore {
			break
		}
		cur = &page.Cursor
	}
	check("bootstrap", &all)
	if n := strings.Count(logs.String(), "sent with parts withheld"); n < 4 {
		t.Fatalf("%d log lines for 2 records pulled twice:\n%s", n, logs.String())
	}
	// The stored record itself is left as it is: an update that sets the answers repairs it.
	if r, err := e.store.GetRecord(e.ctx, models.TypeVisit, bad.ID); err != nil || !bytes.Contains(r.Data, []byte("[[[[[")) {
		t.Fatalf("the stored record changed: %v", err)
	}
}

// jsonDepth is how deep lists and objects nest in a JSON document (strings skipped).
func jsonDepth(b []byte) int {
	depth, most, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			most = max(most, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return most
}
