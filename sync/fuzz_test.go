package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// fzPushBody is the JSON body of a push holding ms, numbered from first.
func fzPushBody(clientID uuid.UUID, protocol int, first int64, ms ...Mutation) []byte {
	for i := range ms {
		ms[i].ID = first + int64(i)
	}
	b, err := json.Marshal(PushRequest{ClientID: clientID, ProtocolVersion: protocol, AppVersion: "2.3.0", Mutations: ms})
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzPushDecode feeds raw bytes to the push path as the server does: json.Unmarshal into a
// PushRequest, then Validate, and every registered handler's Refs on each mutation's arguments
// (none may panic). A request that validates is then pushed for real, once, against a test
// database made before fuzzing starts, under a fresh client id (so its mutations are applied,
// not answered from the stored results of an earlier input). A push must not panic and must
// answer either a well-formed response (a result per mutation, ids in order, a known status,
// rejections with an error) or one of the protocol's typed errors.
func FuzzPushDecode(f *testing.F) {
	e := newEnv(f)
	actor := e.actor("inspector", "dev-fuzz")
	town := e.region("211522105")
	reg := e.engine.Registry()

	// A visit and finding that exist, so updates and finding.create have something to work on.
	base := e.phone("inspector")
	v0, f0 := uuid.New(), uuid.New()
	base.push(mut("visit.create", visitArgs(v0, models.KindProjectVisit, town)), mut("finding.create", findingArgs(f0, v0)))

	cid := uuid.New()
	v1, f1 := uuid.New(), uuid.New()
	seeds := [][]byte{
		fzPushBody(cid, 1, 1, mut("visit.create", visitArgs(v1, models.KindProjectVisit, town))),
		fzPushBody(cid, 1, 1, mut("visit.create", visitArgs(v1, models.KindProjectVisit, town)),
			mut("finding.create", findingArgs(f1, v1)),
			mut("visit.update", set(v1, 1, map[string]any{"notes": "second look", "answers.workers_on_site": 95})),
			mut("visit.submit", map[string]any{"id": v1})),
		fzPushBody(cid, 1, 1, mut("visit.update", set(v0, 1, map[string]any{"answers": map[string]any{"stage": "completed"}}))),
		fzPushBody(cid, 1, 1, mut("finding.update", set(f0, 1, map[string]any{"severity": "minor", "deadline": "2026-05-01"}))),
		fzPushBody(cid, 1, 1, mut("visit.delete", map[string]any{"id": v0})),
		fzPushBody(cid, 1, 1, mut("visit.create", map[string]any{"id": v1, "kind": "project_visit", "site_id": uuid.New(),
			"started_at": "2026-03-14T09:12:03+08:00"})),
		fzPushBody(cid, 1, 1, mut("visit.update", set(v0, 99, map[string]any{"status": "submitted"}))),
		fzPushBody(cid, 1, 1, mut("visit.update", set(v0, 1, map[string]any{"notes": "tab\t bell\u0007 \u0001"}))),
		fzPushBody(cid, 1, 1, mut("track.append", map[string]any{"id": uuid.New()})),
		fzPushBody(cid, 1, 5, mut("visit.submit", map[string]any{"id": v0})), // a gap for a new client
		fzPushBody(cid, 0, 1, mut("visit.submit", map[string]any{"id": v0})), // protocol too old
		fzPushBody(cid, 2, 1),      // protocol too new
		fzPushBody(uuid.Nil, 1, 1), // no client id
		fzPushBody(cid, 1, 1),      // nothing to push
		[]byte(`{"client_id":"` + cid.String() + `","protocol_version":1,"mutations":[{"id":1,"name":"visit.create","args":null}]}`),
		[]byte(`{"client_id":"` + cid.String() + `","protocol_version":1,"mutations":[{"id":1,"name":"visit.update","args":"x"}]}`),
		[]byte(`{"client_id":"` + cid.String() + `","protocol_version":1,"mutations":[{"id":1,"name":"finding.create","args":{"visit_id":7}}]}`),
		[]byte(`{"client_id":"` + cid.String() + `","protocol_version":1,"mutations":[{"id":2,"name":"a"},{"id":2,"name":""}]}`),
		[]byte(`{"client_id":"` + cid.String() + `","protocol_version":1,"mutations":[{"id":-1,"name":"visit.submit","args":{}}]}`),
		[]byte(`{"client_id":"not-a-uuid","protocol_version":1}`),
		[]byte(`{"client_id":"` + cid.String() + `","protocol_version":1e400}`),
		[]byte(`{"mutations":{}}`),
		[]byte(`{}`), []byte(`null`), []byte(`[]`), []byte(``), []byte(`{"client_id":`),
	}
	for _, s := range seeds {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		var req PushRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return
		}
		for _, m := range req.Mutations {
			if h, ok := reg.handlers[m.Name]; ok && h.Refs != nil {
				_ = h.Refs(m.Args)
			}
		}
		if err := e.engine.Validate(&req); err != nil {
			if !fzTypedError(err) {
				t.Fatalf("Validate returned an untyped error %T: %v", err, err)
			}
			return
		}
		req.ClientID = uuid.New()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		resp, _, err := e.engine.Push(ctx, actor, &req)
		if err != nil {
			if !fzTypedError(err) {
				t.Fatalf("Push returned an untyped error %T: %v\nbody: %q", err, err, body)
			}
			return
		}
		if err := fzCheckResponse(&req, resp); err != nil {
			t.Fatalf("%v\nbody: %q", err, body)
		}
	})
}

// fzTypedError reports whether err is one of the errors a push may answer besides a response.
func fzTypedError(err error) bool {
	var gap *ErrMutationGap
	var old *ErrProtocolTooOld
	var many *ErrTooManyMutations
	var ve *models.ValidationError
	return errors.As(err, &gap) || errors.As(err, &old) || errors.As(err, &many) || errors.As(err, &ve) ||
		errors.Is(err, ErrClientMismatch)
}

// fzCheckResponse checks a push response against its request (a new client: every mutation is fresh).
func fzCheckResponse(req *PushRequest, resp *PushResponse) error {
	if resp == nil {
		return errors.New("nil response without an error")
	}
	if len(resp.Results) != len(req.Mutations) {
		return fmt.Errorf("%d results for %d mutations", len(resp.Results), len(req.Mutations))
	}
	want := int64(0)
	if n := len(req.Mutations); n > 0 {
		want = req.Mutations[n-1].ID
	}
	if resp.LastMutationID != want {
		return fmt.Errorf("last_mutation_id %d, want %d", resp.LastMutationID, want)
	}
	for i, r := range resp.Results {
		if r.ID != req.Mutations[i].ID {
			return fmt.Errorf("result %d has id %d, want %d", i, r.ID, req.Mutations[i].ID)
		}
		switch r.Status {
		case models.StatusApplied, models.StatusConflict:
			if r.Entity == nil {
				return fmt.Errorf("result %d (%s) is %s without an entity", i, req.Mutations[i].Name, r.Status)
			}
		case models.StatusRejected:
			if r.Error == nil || r.Error.Code == "" {
				return fmt.Errorf("result %d (%s) is rejected without an error code", i, req.Mutations[i].Name)
			}
		default:
			return fmt.Errorf("result %d has status %q", i, r.Status)
		}
	}
	return nil
}

// TestPushUnstorableTextIsRejectedNotFatal: text PostgreSQL cannot store must cost one mutation a
// rejection, never fail the whole push (a failed push advances nothing, so the phone would retry
// the same queue forever; property 6: a permanently failing mutation is rejected and the
// mutations behind it still apply). Two ways in, both found by FuzzPushDecode and its seeds:
//   - a U+0000, which JSON allows and json.Unmarshal keeps, in a mutation's text (notes, an
//     answer), its name or the app version: jsonb and text columns refuse NUL;
//   - a mutation name longer than 64 bytes whose 64th byte falls inside a multi-byte character
//     (any long name in Chinese, or one where json.Unmarshal replaced invalid UTF-8 with U+FFFD):
//     the name stored with the result was cut to 64 bytes mid-character, and PostgreSQL refuses
//     the invalid UTF-8 ("invalid byte sequence for encoding UTF8: 0xef"), failing the push.
func TestPushUnstorableTextIsRejectedNotFatal(t *testing.T) {
	e := newEnv(t)
	town := e.region("211522105")
	for _, tc := range []struct {
		name string
		bad  func() Mutation
	}{
		{"NUL in notes", func() Mutation {
			a := visitArgs(uuid.New(), models.KindProjectVisit, town)
			a["notes"] = "before\x00after"
			return mut("visit.create", a)
		}},
		{"NUL in an answer", func() Mutation {
			a := visitArgs(uuid.New(), models.KindProjectVisit, town)
			a["answers"] = map[string]any{"stage": "under\x00construction"}
			return mut("visit.create", a)
		}},
		{"NUL in the mutation name", func() Mutation { return Mutation{Name: "visit.\x00create", Args: json.RawMessage(`{}`)} }},
		{"long name cut mid-character", func() Mutation {
			return Mutation{Name: strings.Repeat("测", 22), Args: json.RawMessage(`{}`)} // 66 bytes
		}},
		{"invalid UTF-8 in a conflicting field (found by the fuzzer)", func() Mutation {
			// Another phone created a visit and changed its notes; this phone's stale update of the
			// notes is a conflict, whose record keeps the raw value it sent.
			other, v := e.phone("inspector"), uuid.New() // the same user on another install
			other.push(mut("visit.create", visitArgs(v, models.KindProjectVisit, town)),
				mut("visit.update", set(v, 1, map[string]any{"notes": "changed"})))
			return Mutation{Name: "visit.update", Args: json.RawMessage("{\"id\":\"" + v.String() +
				"\",\"base_version\":1,\"set\":{\"notes\":\"\x80\xffcond look\"}}")}
		}},
		{"long name with replaced invalid UTF-8", func() Mutation {
			return Mutation{Name: strings.Repeat("a", 63) + "\uFFFD", Args: json.RawMessage(`{}`)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.phone("inspector")
			good := uuid.New()
			resp, err := p.pushErr(tc.bad(), mut("visit.create", visitArgs(good, models.KindProjectVisit, town)))
			if err != nil {
				t.Fatalf("the whole push failed (the queue can never move on): %v", err)
			}
			if len(resp.Results) != 2 || resp.LastMutationID != 2 {
				t.Fatalf("response %+v", resp)
			}
			expectStatus(t, resp.Results[0], models.StatusRejected)
			expectStatus(t, resp.Results[1], models.StatusApplied)
		})
	}
	t.Run("NUL in the app version", func(t *testing.T) {
		p := e.phone("inspector")
		m := mut("visit.create", visitArgs(uuid.New(), models.KindProjectVisit, town))
		m.ID = 1
		_, _, err := e.engine.Push(e.ctx, p.a, &PushRequest{ClientID: p.id, ProtocolVersion: 1, AppVersion: "2.3\x00",
			Mutations: []Mutation{m}})
		if err != nil && !fzTypedError(err) {
			t.Fatalf("want a response or a validation error, got %T: %v", err, err)
		}
	})
}
