package sync

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// ageResults makes the stored results of a client's mutations up to id look applied days ago.
func (e *env) ageResults(client uuid.UUID, through int64, days int) {
	e.t.Helper()
	if _, err := e.store.SQL().Exec(`UPDATE sync_mutations SET applied_at = now() - make_interval(days => $3)
		WHERE client_id = $1 AND mutation_id <= $2`, client, through, days); err != nil {
		e.t.Fatal(err)
	}
}

// TestReplayAfterPruningIsExpired: once stored results older than the result retention are
// pruned, a replay of those mutations is answered "expired" and applies nothing again; results
// still kept are replayed as stored, and the queue goes on.
func TestReplayAfterPruningIsExpired(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	town := e.region(dongsheng)
	v, f := uuid.New(), uuid.New()
	batch := []Mutation{mut("visit.create", visitArgs(v, models.KindProjectVisit, town)),
		mut("visit.update", set(v, 1, map[string]any{"notes": "second look"})),
		mut("finding.create", findingArgs(f, v))}
	first := p.push(batch...)
	for _, r := range first.Results {
		expectStatus(t, r, models.StatusApplied)
	}
	e.ageResults(p.id, 2, 100)
	rep, err := e.store.PruneResults(e.ctx, time.Now().Add(-e.engine.Config().ResultRetention), 1) // one row per statement
	if err != nil || rep.Skipped || rep.Results != 2 {
		t.Fatalf("prune: %+v %v, want 2 results deleted", rep, err)
	}
	if n := e.count(`SELECT count(*) FROM sync_mutations WHERE client_id = $1`, p.id); n != 1 {
		t.Fatalf("%d results kept, want 1", n)
	}

	digest := e.stateDigest()
	changes := e.count(`SELECT count(*) FROM change_log`)
	p.next = 1 // the phone never got the answer and sends the same push again
	again := p.push(batch...)
	if again.LastMutationID != 3 || len(again.Results) != 3 {
		t.Fatalf("replay: last %d, %d results", again.LastMutationID, len(again.Results))
	}
	for i, r := range again.Results {
		want := models.MutationResult{ID: int64(i + 1), Status: models.StatusExpired}
		if i == 2 {
			want = first.Results[2]
		}
		if r.ID != want.ID || r.Status != want.Status || r.Error != nil || (r.Entity == nil) != (want.Entity == nil) ||
			(r.Entity != nil && *r.Entity != *want.Entity) {
			t.Fatalf("replayed result %d: %+v, want %+v", i, r, want)
		}
	}
	if e.stateDigest() != digest || e.count(`SELECT count(*) FROM change_log`) != changes {
		t.Fatal("a replay of pruned mutations changed the database")
	}
	if n := e.count(`SELECT count(*) FROM records WHERE type = 'visit' AND id = $1 AND version = 2`, v); n != 1 {
		t.Fatal("the visit was written again")
	}
	// The queue goes on after the replay.
	expectStatus(t, p.push(mut("visit.submit", map[string]any{"id": v})).Results[0], models.StatusApplied)
}

// TestPruneResultsOneServerAtATime: while another server holds the pruning lock, PruneResults
// does nothing and says so; once it is released, it prunes.
func TestPruneResultsOneServerAtATime(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	expectStatus(t, p.push(mut("visit.create", visitArgs(uuid.New(), models.KindProjectVisit, e.region(dongsheng)))).Results[0],
		models.StatusApplied)
	e.ageResults(p.id, 1, 100)
	other, err := e.store.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(e.ctx, `SELECT pg_advisory_lock(7236103)`); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Now().Add(-90 * 24 * time.Hour)
	if rep, err := e.store.PruneResults(e.ctx, cutoff, 100); err != nil || !rep.Skipped || rep.Results != 0 {
		t.Fatalf("with the lock held elsewhere: %+v %v", rep, err)
	}
	if _, err := other.ExecContext(e.ctx, `SELECT pg_advisory_unlock(7236103)`); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.store.PruneResults(e.ctx, cutoff, 100); err != nil || rep.Skipped || rep.Results != 1 {
		t.Fatalf("after release: %+v %v", rep, err)
	}
	// The lock went back with the connection: it is free again.
	var free bool
	if err := other.QueryRowContext(e.ctx, `SELECT pg_try_advisory_lock(7236103)`).Scan(&free); err != nil || !free {
		t.Fatalf("the pruning lock was left held: %v", err)
	}
}

// TestPrunePushMarkersKeepsLastMutation: pruning the push markers at or below the change log's
// pruned_through changes no answer a pull can ask for (cursors at or above it).
func TestPrunePushMarkersKeepsLastMutation(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	town := e.region(dongsheng)
	var seqs []int64
	for range 5 {
		expectStatus(t, p.push(mut("visit.create", visitArgs(uuid.New(), models.KindProjectVisit, town))).Results[0], models.StatusApplied)
		head, err := e.store.ChangeHead(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, head)
	}
	through := seqs[2] // the change log was pruned up to the third push
	if _, err := e.store.SQL().Exec(`UPDATE sync_state SET pruned_through = $1`, through); err != nil {
		t.Fatal(err)
	}
	answers := func() []int64 {
		var out []int64
		for s := through; s <= seqs[4]+1; s++ {
			n, err := e.store.LastMutationThrough(e.ctx, p.id, s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	before := answers()
	rep, err := e.store.PruneResults(e.ctx, time.Now().Add(-time.Hour), 1)
	if err != nil || rep.Pushes != 2 {
		t.Fatalf("prune: %+v %v, want the first two push markers deleted", rep, err)
	}
	if after := answers(); !equalInts(before, after) {
		t.Fatalf("last_mutation_id by cursor changed: %v -> %v", before, after)
	}
	if n := e.count(`SELECT count(*) FROM sync_pushes WHERE client_id = $1`, p.id); n != 3 {
		t.Fatalf("%d push markers kept, want 3", n)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPushThatChangesNothingReportsNoEarlyMutation: a push whose mutations change nothing writes
// no change-log row; a pull whose page ends before the effects of the same client's earlier push
// must still not report that earlier push as delivered.
func TestPushThatChangesNothingReportsNoEarlyMutation(t *testing.T) {
	e := newEnv(t)
	p := e.phone("inspector")
	other := e.phone("inspector")
	town := e.region(dongsheng)
	p.pullAll(5000)
	// Another phone writes first, so a page of one change ends before p's effects.
	expectStatus(t, other.push(mut("visit.create", visitArgs(uuid.New(), models.KindProjectVisit, town))).Results[0], models.StatusApplied)
	v := uuid.New()
	expectStatus(t, p.push(mut("visit.create", visitArgs(v, models.KindProjectVisit, town))).Results[0], models.StatusApplied)
	noop := p.push(mut("visit.update", set(v, 1, map[string]any{"notes": "first visit"}))) // the value it has
	if noop.Results[0].Status != models.StatusApplied || noop.Results[0].Entity.Version != 1 {
		t.Fatalf("no-op update: %+v", noop.Results[0])
	}
	page, err := e.engine.Pull(e.ctx, p.a, &PullRequest{ClientID: p.id, Cursor: p.cursor, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !page.HasMore || page.LastMutationID != 0 {
		t.Fatalf("a page without mutation 1's visit reports last_mutation_id %d", page.LastMutationID)
	}
	p.pullAll(5000)
	final, err := e.engine.Pull(e.ctx, p.a, &PullRequest{ClientID: p.id, Cursor: p.cursor, Limit: 1})
	if err != nil || final.LastMutationID != 2 {
		t.Fatalf("after every page: last_mutation_id %d (%v), want 2", final.LastMutationID, err)
	}
}
