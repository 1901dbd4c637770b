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

// Work is the unit of work of one push: the records it read (locked) and wrote, the change-log
// rows and conflicts it produced. Handlers change records only through it; the engine writes
// everything in a few bulk statements at the end of the push's transaction.
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
	mutation  Mutation // the mutation being applied
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

// meta is the field metadata of a change by the actor at version v.
func (w *Work) meta(v int64) models.FieldMeta {
	m := models.FieldMeta{Version: v, UserID: w.actor.User.ID, DeviceID: w.actor.DeviceID, At: w.now}
	if w.clientID != uuid.Nil {
		c := w.clientID
		m.ClientID = &c
	}
	return m
}

// flush writes the working set: records, conflicts, then the change log (last, so the change-log
// writer lock is held as briefly as possible).
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
	return w.tx.InsertConflicts(w.ctx, w.conflicts)
}
