package sync

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

type recordKey struct {
	typ string
	id  uuid.UUID
}

// Work is the unit of work of one push or one administrative operation: the records it read
// (locked) and wrote, the change-log rows, conflicts and audit lines it produced. Handlers change
// records only through it; the engine writes everything in a few bulk statements at the end of
// the transaction, so records, their change-log rows and their audit lines commit together.
type Work struct {
	ctx       context.Context
	tx        *storage.Store
	actor     Actor
	clientID  uuid.UUID
	now       time.Time
	registry  *Registry
	records   map[recordKey]*models.Record
	absent    map[recordKey]bool // looked up and not found (a create's id), so not asked again
	regions   map[uuid.UUID]models.Region
	dirty     []recordKey
	isDirty   map[recordKey]bool
	changes   []models.Change
	conflicts []models.Conflict
	audits    []models.AuditEntry
	mutation  Mutation // the mutation being applied

	regionsByCode map[string]models.Region // filled by preloadRegions (batch imports)
}

func newWork(ctx context.Context, tx *storage.Store, a Actor, clientID uuid.UUID, reg *Registry) *Work {
	return &Work{ctx: ctx, tx: tx, actor: a, clientID: clientID, now: time.Now().UTC(), registry: reg,
		records: map[recordKey]*models.Record{}, absent: map[recordKey]bool{}, regions: map[uuid.UUID]models.Region{},
		isDirty: map[recordKey]bool{}}
}

// prefetch loads (and locks) every record the mutations refer to, one query per type, and the
// regions they name.
func (w *Work) prefetch(refs []Ref) error {
	byType := map[string][]uuid.UUID{}
	for _, r := range refs {
		byType[r.Type] = append(byType[r.Type], r.ID)
	}
	for typ, ids := range byType {
		if typ == models.TypeRegion {
			regions, err := w.tx.RegionsByIDs(w.ctx, ids)
			if err != nil {
				return err
			}
			for _, r := range regions {
				w.regions[r.ID] = r
			}
			continue
		}
		fresh := ids[:0:0]
		for _, id := range ids {
			if _, have := w.records[recordKey{typ, id}]; !have {
				fresh = append(fresh, id) // never replace what this unit of work holds (it may have changed it)
			}
		}
		ids = fresh
		if len(ids) == 0 {
			continue
		}
		recs, err := w.load(typ, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if r, ok := recs[id]; ok {
				w.records[recordKey{typ, id}] = &r
			} else {
				w.absent[recordKey{typ, id}] = true
			}
		}
	}
	return nil
}

// Record returns a record of the working set (tombstones included), loading it when a handler
// reads one it did not declare.
func (w *Work) Record(typ string, id uuid.UUID) (*models.Record, error) {
	k := recordKey{typ, id}
	if r, ok := w.records[k]; ok {
		return r, nil
	}
	if w.absent[k] {
		return nil, nil
	}
	recs, err := w.load(typ, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	r, ok := recs[id]
	if !ok {
		w.absent[k] = true
		return nil, nil
	}
	w.records[k] = &r
	return &r, nil
}

// load reads records for the unit of work. Records a push may write are locked until commit, so
// concurrent pushes to one record merge one after the other. Sites and checklists are only read by
// mutations (admins change them through their own API): they are read without a lock, or every
// push naming the same project or checklist would wait for the others.
func (w *Work) load(typ string, ids []uuid.UUID) (map[uuid.UUID]models.Record, error) {
	if typ == models.TypeSite || typ == models.TypeChecklist {
		return w.tx.GetRecords(w.ctx, typ, ids)
	}
	return w.tx.LockRecords(w.ctx, typ, ids)
}

// lockRecord loads one record for a change and locks it until commit, whatever its type (an
// admin's change to a site waits for another admin's; pushes read sites unlocked). Nil when it
// does not exist.
func (w *Work) lockRecord(typ string, id uuid.UUID) (*models.Record, error) {
	k := recordKey{typ, id}
	if w.isDirty[k] {
		return w.records[k], nil
	}
	recs, err := w.tx.LockRecords(w.ctx, typ, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	r, ok := recs[id]
	if !ok {
		w.absent[k] = true
		delete(w.records, k)
		return nil, nil
	}
	w.records[k] = &r
	delete(w.absent, k)
	return &r, nil
}

// Region returns a region by id (nil when it does not exist).
func (w *Work) Region(id uuid.UUID) (*models.Region, error) {
	if r, ok := w.regions[id]; ok {
		return &r, nil
	}
	rs, err := w.tx.RegionsByIDs(w.ctx, []uuid.UUID{id})
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	w.regions[id] = rs[0]
	return &rs[0], nil
}

// Put stores a new or changed record and logs a put. oldPath is the record's region path before
// the change when it moved (nil otherwise).
func (w *Work) Put(r *models.Record, oldPath *string) {
	k := recordKey{r.Type, r.ID}
	w.records[k] = r
	if !w.isDirty[k] {
		w.isDirty[k] = true
		w.dirty = append(w.dirty, k)
	}
	op := models.OpPut
	if r.DeletedAt != nil {
		op = models.OpRemove
	}
	w.changes = append(w.changes, models.Change{RecordType: r.Type, RecordID: r.ID.String(), Op: op, Version: r.Version,
		Kind: r.Kind, RegionPath: r.RegionPath, OldRegionPath: oldPath})
}

// Remove turns a record into a tombstone and logs a remove.
func (w *Work) Remove(r *models.Record) {
	t := w.now
	r.DeletedAt = &t
	r.Version++
	w.Put(r, nil)
}

// Conflict records a same-field conflict; the user who wrote the server's value hears of it too.
func (w *Work) Conflict(c models.Conflict) {
	w.conflicts = append(w.conflicts, c)
	users := []uuid.UUID{w.actor.User.ID}
	if c.Server.UserID != w.actor.User.ID {
		users = append(users, c.Server.UserID)
	}
	for _, u := range users {
		u := u
		w.changes = append(w.changes, models.Change{RecordType: models.TypeConflict, RecordID: c.ID.String(), Op: models.OpPut,
			Version: 1, Kind: c.Kind, RegionPath: c.RegionPath, AudienceUser: &u})
	}
}

// rejected logs a rejection record for the pushing app install.
func (w *Work) rejected(mutationID int64) {
	c := w.clientID
	w.changes = append(w.changes, models.Change{RecordType: models.TypeRejection, RecordID: formatInt(mutationID),
		Op: models.OpPut, Version: 1, AudienceClient: &c})
}

// Audit records an audit line for an action by the unit of work's actor; it is written with the
// records and the change log, in the same transaction.
func (w *Work) Audit(action, targetType, targetID string, details map[string]any) {
	w.audits = append(w.audits, w.actor.auditEntry(action, targetType, targetID, details))
}

// logChange adds a change-log row for a write that is not a record of the working set (a region,
// a user, a moved subtree).
func (w *Work) logChange(cs ...models.Change) { w.changes = append(w.changes, cs...) }

// meta is the field metadata of a change by the actor at version v.
func (w *Work) meta(v int64) models.FieldMeta {
	m := models.FieldMeta{Version: v, UserID: w.actor.User.ID, DeviceID: w.actor.DeviceID, At: w.now}
	if w.clientID != uuid.Nil {
		c := w.clientID
		m.ClientID = &c
	}
	return m
}

// flush writes the working set: records, conflicts and audit lines. The caller appends the change
// log last (commit), so the change-log writer lock is held as briefly as possible.
//
// Records that did not exist when the push read them are inserted without overwriting: if another
// push created the same id meanwhile, the write fails with storage.ErrConflict and Push retries,
// this time seeing the record (and rejecting the create as already_exists).
func (w *Work) flush() error {
	var created, changed []models.Record
	for _, k := range w.dirty {
		if w.absent[k] {
			created = append(created, *w.records[k])
		} else {
			changed = append(changed, *w.records[k])
		}
	}
	if err := w.tx.SaveRecords(w.ctx, created, true); err != nil {
		return err
	}
	if err := w.tx.SaveRecords(w.ctx, changed, false); err != nil {
		return err
	}
	if err := w.tx.InsertConflicts(w.ctx, w.conflicts); err != nil {
		return err
	}
	for _, a := range w.audits {
		if err := w.tx.Audit(w.ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// commit flushes the working set and appends its change-log rows: the end of every unit of work
// but a push (which stores its results in between).
func (w *Work) commit() error {
	if err := w.flush(); err != nil {
		return err
	}
	_, err := w.tx.AppendChanges(w.ctx, w.changes)
	return err
}

// write runs fn in one transaction on a fresh unit of work for the actor, then commits the unit
// of work: the path of every write that is not a push (admin operations, sessions, conflict
// resolutions, imports).
func (e *Engine) write(ctx context.Context, a Actor, fn func(w *Work) error) error {
	return e.store.InTx(ctx, func(tx *storage.Store) error {
		w := newWork(ctx, tx, a, uuid.Nil, e.registry)
		if err := fn(w); err != nil {
			return err
		}
		return w.commit()
	})
}
