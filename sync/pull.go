package sync

import (
	"context"
	"encoding/json"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// PullRequest asks for what changed since a cursor (nil: a first pull, which bootstraps the scope).
type PullRequest struct {
	ClientID uuid.UUID `json:"client_id"`
	Cursor   *string   `json:"cursor"`
	Limit    int       `json:"limit"`
}

// ChangeOut is one change as a phone receives it.
type ChangeOut struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Op      string          `json:"op"`
	Version int64           `json:"version"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// PullResponse is one page of changes.
type PullResponse struct {
	Cursor         string      `json:"cursor"`
	HasMore        bool        `json:"has_more"`
	Reset          bool        `json:"reset"`
	LastMutationID int64       `json:"last_mutation_id"`
	Changes        []ChangeOut `json:"changes"`
}

// Pull returns the next page of changes the actor's scope allows. The page and the client's
// last mutation id are read in one snapshot, so every mutation up to last_mutation_id has its
// effects in this page or an earlier one.
func (e *Engine) Pull(ctx context.Context, a Actor, req *PullRequest) (*PullResponse, error) {
	limit := req.Limit
	if limit == 0 {
		limit = e.cfg.DefaultPullLimit
	}
	var ve models.ValidationError
	if req.ClientID == uuid.Nil {
		ve.Add("client_id", "required", "the app install's UUID is required")
	}
	if limit < 1 || limit > e.cfg.MaxPullLimit {
		ve.Add("limit", "out_of_range", "limit must be between 1 and %d", e.cfg.MaxPullLimit)
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	var cur *cursor
	if req.Cursor != nil && *req.Cursor != "" {
		var err error
		if cur, err = decodeCursor(*req.Cursor); err != nil {
			return nil, err
		}
	}
	fp := scopeFingerprint(a.Scope)
	var resp *PullResponse
	err := e.store.InSnapshot(ctx, func(tx *storage.Store) error {
		if _, err := tx.ClientLastMutation(ctx, req.ClientID, a.User.ID); err != nil {
			return err // the client id belongs to another user
		}
		pruned, err := tx.PrunedThrough(ctx)
		if err != nil {
			return err
		}
		p := &puller{e: e, tx: tx, a: a, clientID: req.ClientID, limit: limit, fp: fp}
		reset := false
		switch {
		case cur == nil:
			resp, err = p.startBootstrap(ctx)
		case cur.Scope != fp, cur.Boot == nil && cur.Seq < pruned:
			reset = true // the scope changed, or the cursor is older than the retention window
			resp, err = p.startBootstrap(ctx)
		case cur.Boot != nil:
			resp, err = p.bootstrap(ctx, cur)
		default:
			resp, err = p.incremental(ctx, cur)
		}
		if err != nil {
			return err
		}
		resp.Reset = reset
		resp.LastMutationID, err = p.lastMutation(ctx, resp)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// lastMutation is the last mutation of the client whose effects this page (with the pages before
// it) has delivered: the mutations whose change rows lie at or below the page's end. During a
// bootstrap nothing is complete until its last page, so the earlier pages report 0.
func (p *puller) lastMutation(ctx context.Context, resp *PullResponse) (int64, error) {
	next, err := decodeCursor(resp.Cursor)
	if err != nil || next.Boot != nil {
		return 0, err
	}
	return p.tx.LastMutationThrough(ctx, p.clientID, next.Seq)
}

// puller builds one pull page inside the pull's snapshot.
type puller struct {
	e        *Engine
	tx       *storage.Store
	a        Actor
	clientID uuid.UUID
	limit    int
	fp       string
}

func (p *puller) covers(l Loaded) bool {
	if l.Addressed || (l.OwnerUser != nil && *l.OwnerUser == p.a.User.ID) {
		return true
	}
	return p.a.Scope.CoversRegion(l.RegionPath) && (l.Kind == "" || p.a.Scope.CoversKind(l.Kind))
}

func (p *puller) startBootstrap(ctx context.Context) (*PullResponse, error) {
	head, err := p.tx.ChangeHead(ctx)
	if err != nil {
		return nil, err
	}
	return p.bootstrap(ctx, &cursor{V: 1, Seq: head, Scope: p.fp, Boot: &bootState{}})
}

// bootstrap sends the current state of every record in scope, type by type in id order. Records
// that change meanwhile are sent again by the incremental pulls that follow (from cur.Seq, the
// change-log head when the bootstrap began), so the phone converges.
func (p *puller) bootstrap(ctx context.Context, cur *cursor) (*PullResponse, error) {
	types := p.e.registry.types
	resp := &PullResponse{Changes: []ChangeOut{}}
	b := *cur.Boot
	for b.Type < len(types) && len(resp.Changes) < p.limit {
		t := types[b.Type]
		want := p.limit - len(resp.Changes)
		page, err := t.Scan(ctx, p.tx, Query{Actor: p.a, ClientID: p.clientID}, b.After, want)
		if err != nil {
			return nil, err
		}
		for _, l := range page {
			if p.covers(l) && !l.Deleted {
				resp.Changes = append(resp.Changes, p.sent(t.Name, l))
			}
		}
		if len(page) < want {
			b = bootState{Type: b.Type + 1}
		} else {
			b.After = page[len(page)-1].ID
		}
	}
	next := cursor{V: 1, Seq: cur.Seq, Scope: p.fp}
	if b.Type < len(types) {
		next.Boot = &b
		resp.HasMore = true
	} else {
		head, err := p.tx.ChangeHead(ctx)
		if err != nil {
			return nil, err
		}
		resp.HasMore = head > cur.Seq
	}
	resp.Cursor = next.encode()
	return resp, nil
}

// incremental sends what changed after cur.Seq: a put with the record's current state when it is
// in scope, a remove when it was deleted or has left the scope.
func (p *puller) incremental(ctx context.Context, cur *cursor) (*PullResponse, error) {
	rows, head, err := p.tx.Changes(ctx, storage.ChangeFilter{After: cur.Seq, Limit: p.limit, Scope: p.a.Scope,
		UserID: p.a.User.ID, ClientID: p.clientID})
	if err != nil {
		return nil, err
	}
	type key struct{ typ, id string }
	last := map[key]int{}     // index of the last row of each record
	wasSeen := map[key]bool{} // the record was inside the scope before or after some change in the page
	ids := map[string][]string{}
	for i, r := range rows {
		k := key{r.RecordType, r.RecordID}
		if _, ok := last[k]; !ok {
			ids[r.RecordType] = append(ids[r.RecordType], r.RecordID)
		}
		last[k] = i
		inKind := r.Kind == "" || p.a.Scope.CoversKind(r.Kind)
		if inKind && (p.a.Scope.CoversRegion(r.RegionPath) || (r.OldRegionPath != nil && p.a.Scope.CoversRegion(*r.OldRegionPath))) {
			wasSeen[k] = true
		}
	}
	loaded := map[key]Loaded{}
	for typ, list := range ids {
		t, ok := p.e.registry.pullType(typ)
		if !ok {
			continue
		}
		m, err := t.Load(ctx, p.tx, p.clientID, list)
		if err != nil {
			return nil, err
		}
		for id, l := range m {
			loaded[key{typ, id}] = l
		}
	}
	resp := &PullResponse{Changes: []ChangeOut{}}
	for i, r := range rows {
		k := key{r.RecordType, r.RecordID}
		if last[k] != i {
			continue
		}
		l, ok := loaded[k]
		switch {
		case ok && !l.Deleted && p.covers(l):
			resp.Changes = append(resp.Changes, p.sent(r.RecordType, l))
		case wasSeen[k] || (ok && l.OwnerUser != nil && *l.OwnerUser == p.a.User.ID):
			v := r.Version
			if ok {
				v = l.Version
			}
			resp.Changes = append(resp.Changes, ChangeOut{Type: r.RecordType, ID: r.RecordID, Op: models.OpRemove, Version: v})
		}
	}
	next := cursor{V: 1, Seq: head, Scope: p.fp}
	if len(rows) == p.limit {
		next.Seq, resp.HasMore = rows[len(rows)-1].Seq, true
	}
	resp.Cursor = next.encode()
	return resp, nil
}
