package sync

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// PushRequest is a phone's queue, or the part of it that fits one push.
type PushRequest struct {
	ClientID        uuid.UUID  `json:"client_id"`
	ProtocolVersion int        `json:"protocol_version"`
	AppVersion      string     `json:"app_version"`
	Mutations       []Mutation `json:"mutations"`
}

// PushResponse answers a push: the client's last mutation id and a result per mutation sent.
type PushResponse struct {
	LastMutationID int64                   `json:"last_mutation_id"`
	Results        []models.MutationResult `json:"results"`
}

// PushStats counts what a push did, for metrics and logs.
type PushStats struct {
	Replayed, Applied, Conflicts, Rejected int
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// Validate checks a push's shape: client id, protocol, size, and mutation ids that count up by
// one. It does not look at the database.
func (e *Engine) Validate(req *PushRequest) error {
	if req.ProtocolVersion < e.cfg.MinProtocol {
		return &ErrProtocolTooOld{Min: e.cfg.MinProtocol, Got: req.ProtocolVersion}
	}
	if len(req.Mutations) > e.cfg.MaxMutations {
		return &ErrTooManyMutations{Limit: e.cfg.MaxMutations, Got: len(req.Mutations)}
	}
	var ve models.ValidationError
	if req.ClientID == uuid.Nil {
		ve.Add("client_id", "required", "the app install's UUID is required")
	}
	if req.ProtocolVersion > e.cfg.MaxProtocol {
		ve.Add("protocol_version", "unsupported", "this server speaks protocol versions %d to %d", e.cfg.MinProtocol, e.cfg.MaxProtocol)
	}
	ve.CheckText("app_version", req.AppVersion, false, 32)
	for i, m := range req.Mutations {
		f := "mutations[" + strconv.Itoa(i) + "]"
		switch {
		case m.ID < 1:
			ve.Add(f+".id", "invalid", "mutation ids start at 1")
		case i > 0 && m.ID != req.Mutations[i-1].ID+1:
			ve.Add(f+".id", "invalid", "mutation ids in one push must count up by one (after %d comes %d, not %d)",
				req.Mutations[i-1].ID, req.Mutations[i-1].ID+1, m.ID)
		}
		if len(ve.Errors) > 20 {
			break
		}
	}
	return ve.Err()
}

// Push applies a push in one transaction: mutations already applied return their stored results,
// new ones are applied in order, and the client's last mutation id, every result, every record
// change and the change log are written together. A transient database failure returns an error
// wrapping storage.ErrUnavailable and advances nothing.
func (e *Engine) Push(ctx context.Context, a Actor, req *PushRequest) (*PushResponse, PushStats, error) {
	var stats PushStats
	if err := e.Validate(req); err != nil {
		return nil, stats, err
	}
	var resp *PushResponse
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = e.store.InTx(ctx, func(tx *storage.Store) error {
			stats = PushStats{}
			var err error
			resp, err = e.push(ctx, tx, a, req, &stats)
			return err
		})
		if !errors.Is(err, storage.ErrConflict) { // a concurrent create of the same id: run again
			break
		}
	}
	if err != nil {
		return nil, stats, err
	}
	return resp, stats, nil
}

// push is one attempt of Push inside its transaction.
func (e *Engine) push(ctx context.Context, tx *storage.Store, a Actor, req *PushRequest, stats *PushStats) (*PushResponse, error) {
	last, err := tx.LockClient(ctx, req.ClientID, a.User.ID, a.DeviceID, req.AppVersion)
	if err != nil {
		return nil, err
	}
	resp := &PushResponse{LastMutationID: last, Results: []models.MutationResult{}}
	var fresh []Mutation
	for i, m := range req.Mutations {
		if m.ID > last {
			fresh = req.Mutations[i:]
			break
		}
	}
	if n := len(req.Mutations) - len(fresh); n > 0 {
		replayed, err := e.replay(ctx, tx, req.ClientID, req.Mutations[0].ID, req.Mutations[n-1].ID)
		if err != nil {
			return nil, err
		}
		resp.Results, stats.Replayed = append(resp.Results, replayed...), len(replayed)
	}
	if len(fresh) == 0 {
		return resp, nil
	}
	if fresh[0].ID != last+1 {
		return nil, &ErrMutationGap{Expected: last + 1, Got: fresh[0].ID}
	}
	w := newWork(ctx, tx, a, req.ClientID, e.registry)
	results, names, err := e.apply(w, fresh, stats)
	if err != nil {
		return nil, err
	}
	if err := e.refreshPhotos(w); err != nil {
		return nil, err
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	if err := tx.SaveResults(ctx, req.ClientID, names, results); err != nil {
		return nil, err
	}
	if e.hookBeforeLog != nil {
		e.hookBeforeLog()
	}
	// From here to commit this push holds the change-log writer lock: keep it short.
	seq, err := tx.AppendChanges(ctx, w.changes)
	if err != nil {
		return nil, err
	}
	if seq == 0 {
		// Nothing to log (every mutation changed nothing): the effects of this client's earlier
		// pushes, committed before this one locked the client, lie at or below the head.
		if seq, err = tx.ChangeHead(ctx); err != nil {
			return nil, err
		}
	}
	newLast := fresh[len(fresh)-1].ID
	if err := tx.AdvanceClient(ctx, req.ClientID, newLast, seq, req.AppVersion); err != nil {
		return nil, err
	}
	if e.hookAfterLog != nil {
		e.hookAfterLog()
	}
	resp.LastMutationID = newLast
	resp.Results = append(resp.Results, results...)
	return resp, nil
}

// replay returns the results of mutations from..to, all at or below the client's last mutation
// id: each one's stored result, or, when it was pruned (older than the result retention, see
// storage.PruneResults), a result with status expired. Nothing is applied again either way.
func (e *Engine) replay(ctx context.Context, tx *storage.Store, clientID uuid.UUID, from, to int64) ([]models.MutationResult, error) {
	stored, err := tx.StoredResults(ctx, clientID, from, to)
	if err != nil {
		return nil, err
	}
	if int64(len(stored)) == to-from+1 {
		return stored, nil
	}
	out := make([]models.MutationResult, 0, to-from+1)
	for id := from; id <= to; id++ {
		if len(stored) > 0 && stored[0].ID == id {
			out, stored = append(out, stored[0]), stored[1:]
			continue
		}
		out = append(out, models.MutationResult{ID: id, Status: models.StatusExpired})
	}
	return out, nil
}

// apply runs each fresh mutation's handler against the working set.
func (e *Engine) apply(w *Work, fresh []Mutation, stats *PushStats) ([]models.MutationResult, []string, error) {
	var refs []Ref
	for _, m := range fresh {
		if h, ok := e.registry.handlers[m.Name]; ok && h.Refs != nil {
			refs = append(refs, h.Refs(m.Args)...)
		}
	}
	if err := w.prefetch(refs); err != nil {
		return nil, nil, err
	}
	results := make([]models.MutationResult, 0, len(fresh))
	names := make([]string, 0, len(fresh))
	for _, m := range fresh {
		res := models.MutationResult{ID: m.ID, Status: models.StatusApplied}
		h, ok := e.registry.handlers[m.Name]
		var entity *models.EntityRef
		var conflicts []uuid.UUID
		var err error
		switch {
		case !ok:
			err = reject("unknown_mutation", "name", "this server does not know the mutation %q", m.Name)
		case models.JSONHasNUL(m.Args):
			err = reject("invalid", "args", "text must not contain NUL characters")
		case !utf8.Valid(m.Args):
			err = reject("invalid", "args", "arguments must be valid UTF-8")
		default:
			w.mutation = m
			entity, conflicts, err = h.Apply(w, m)
		}
		var rj *Reject
		switch {
		case errors.As(err, &rj):
			res.Status, res.Error = models.StatusRejected, &models.MutationError{Code: rj.Code, Message: truncate(rj.Message, 4000),
				Field: truncate(rj.Field, 200)}
			w.rejected(m.ID)
			stats.Rejected++
		case err != nil:
			return nil, nil, fmt.Errorf("sync: %s (mutation %d): %w", m.Name, m.ID, err)
		case len(conflicts) > 0:
			res.Status, res.Entity, res.Conflicts = models.StatusConflict, entity, conflicts
			stats.Conflicts++
		default:
			res.Entity = entity
			stats.Applied++
		}
		results = append(results, res)
		names = append(names, truncate(strings.ReplaceAll(m.Name, "\x00", ""), 64))
	}
	return results, names, nil
}

// truncate cuts s to at most n bytes on a character boundary (PostgreSQL stores UTF-8 only).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
