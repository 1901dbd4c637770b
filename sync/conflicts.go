package sync

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// ErrAlreadyResolved means a conflict was resolved before (409).
var ErrAlreadyResolved = errors.New("sync: conflict already resolved")

// Resolution is a supervisor's decision on a conflict: keep the phone's value ("client"), the
// value it overwrote ("server"), or a new one ("value").
type Resolution struct {
	Keep  string          `json:"keep"`
	Value json.RawMessage `json:"value,omitempty"`
	Note  string          `json:"note,omitempty"`
}

// ResolveConflict applies a supervisor's resolution: the chosen value is written to the record as
// an update by the supervisor (through the same rules as a phone's update, so the record's version
// moves on and every phone in scope gets it), and the conflict is marked resolved. A conflict
// outside the supervisor's scope is storage.ErrNotFound.
func (e *Engine) ResolveConflict(ctx context.Context, a Actor, id uuid.UUID, res Resolution) (models.Conflict, error) {
	var ve models.ValidationError
	switch res.Keep {
	case "client", "server":
	case "value":
		if len(res.Value) == 0 {
			ve.Add("value", "required", "keep=value needs the value to write")
		}
	default:
		ve.Add("keep", "invalid", "keep must be client, server or value")
	}
	ve.CheckText("note", res.Note, false, 1000)
	if err := ve.Err(); err != nil {
		return models.Conflict{}, err
	}
	var out models.Conflict
	err := e.store.InTx(ctx, func(tx *storage.Store) error {
		c, err := tx.GetConflict(ctx, id, true)
		if err != nil {
			return err
		}
		if !a.Scope.Covers(c.RegionPath, c.Kind) {
			return storage.ErrNotFound
		}
		if c.ResolvedAt != nil {
			return ErrAlreadyResolved
		}
		value := map[string]json.RawMessage{"client": c.ClientValue, "server": c.ServerValue, "value": res.Value}[res.Keep]
		w := newWork(ctx, tx, a, uuid.Nil, e.registry)
		rec, err := w.Record(c.RecordType, c.RecordID)
		if err != nil {
			return err
		}
		if rec != nil && rec.DeletedAt == nil {
			args, _ := json.Marshal(update{ID: c.RecordID, BaseVersion: rec.Version, Set: map[string]json.RawMessage{c.Field: value}})
			h := e.registry.handlers[c.RecordType+".update"]
			w.mutation = Mutation{Name: c.RecordType + ".update", Args: args}
			if _, _, err := h.Apply(w, w.mutation); err != nil {
				var rj *Reject
				if errors.As(err, &rj) {
					code := rj.Code
					if !slices.Contains([]string{"required", "too_long", "invalid", "out_of_range", "unknown"}, code) {
						code = "invalid" // a rule of the record (scope, state): the value cannot be written
					}
					var ve models.ValidationError
					ve.Add("value", code, "the chosen value cannot be written: %s", rj.Message)
					return &ve
				}
				return err
			}
			if err := w.flush(); err != nil {
				return err
			}
		}
		body, _ := json.Marshal(res)
		if err := tx.ResolveConflict(ctx, id, a.User.ID, body); err != nil {
			return err
		}
		changes := w.changes
		for _, u := range []uuid.UUID{c.Client.UserID, c.Server.UserID} {
			u := u
			changes = append(changes, models.Change{RecordType: models.TypeConflict, RecordID: id.String(), Op: models.OpPut,
				Version: 2, Kind: c.Kind, RegionPath: c.RegionPath, AudienceUser: &u})
		}
		if _, err := tx.AppendChanges(ctx, changes); err != nil {
			return err
		}
		out, err = tx.GetConflict(ctx, id, false)
		return err
	})
	withholdConflict(&out)
	return out, err
}

// ListConflicts pages through the conflicts in the actor's scope, newest first, each in the form
// the API sends (see withholdConflict).
func (e *Engine) ListConflicts(ctx context.Context, a Actor, f storage.ConflictFilter) ([]models.Conflict, error) {
	f.Scope = a.Scope
	cs, err := e.store.ListConflicts(ctx, f)
	for i := range cs {
		if withholdConflict(&cs[i]); len(cs[i].Withheld) > 0 {
			e.log.WarnContext(ctx, "conflict list: stored conflict breaks the limits; sent with parts withheld",
				"id", cs[i].ID, "withheld", cs[i].Withheld)
		}
	}
	return cs, err
}
