package sync

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// Every id a mutation names is resolved through the helpers of this file, so that a write never
// reaches outside the writer's scope through a reference: the record a mutation changes
// (liveRecord), and every record it points to or writes through (refForWrite: a visit's site, a
// finding's visit, a photo's visit and finding, a rectification's photos, a visit's checklist).
// A new mutation that names an id uses them too; TestEveryMutationChecksTheIDsItNames fails for a
// registered mutation without a scope scenario.

// writeScope returns the out_of_scope rejection of a record the actor may not write through, nil
// when the actor's write scope covers it: its kind (when it has one) among the scope's kinds, and
// its region inside the scope's subtree. Checklists belong to no region and are checked by kind
// only. field is the argument that named the record.
func (w *Work) writeScope(rec *models.Record, field string) *Reject {
	if rec.Kind != "" && !w.actor.Scope.CoversKind(rec.Kind) {
		return reject("out_of_scope", field, "this %s is %s work, outside your scope", rec.Type, rec.Kind)
	}
	if rec.Type != models.TypeChecklist && !w.actor.Scope.CoversRegion(rec.RegionPath) {
		return reject("out_of_scope", field, "this %s lies outside your scope", rec.Type)
	}
	return nil
}

// refForWrite loads the record of type typ that argument field names, for a mutation that writes
// through it: it must exist and be live (else not_found on field) and lie in the actor's write
// scope (else out_of_scope on field, see writeScope).
func (w *Work) refForWrite(typ string, id uuid.UUID, field string) (*models.Record, *Reject, error) {
	rec, err := w.Record(typ, id)
	if err != nil {
		return nil, nil, err
	}
	if id == uuid.Nil || rec == nil || rec.DeletedAt != nil {
		return nil, reject("not_found", field, "no such %s (it may have been deleted)", typ), nil
	}
	if rj := w.writeScope(rec, field); rj != nil {
		return nil, rj, nil
	}
	return rec, nil, nil
}

// optionalRefs checks ids that may name records not written yet (a rectification's photos, whose
// photo.attach may come later): each one that names a live record must lie in the actor's write
// scope (out_of_scope on field[i]).
func (w *Work) optionalRefs(typ string, ids []uuid.UUID, field string) (*Reject, error) {
	for i, id := range ids {
		rec, err := w.Record(typ, id)
		if err != nil {
			return nil, err
		}
		if rec == nil || rec.DeletedAt != nil {
			continue
		}
		if rj := w.writeScope(rec, field+"["+strconv.Itoa(i)+"]"); rj != nil {
			return rj, nil
		}
	}
	return nil, nil
}

// placeOf resolves where a visit happens and checks that the actor may write there. The place is
// the region named or, without one, the site's township; it must lie in the actor's scope
// (out_of_scope on region_id, or on site_id when the region came from the site). The site named
// must lie in the actor's scope and inside the visit's region: its region path equals the
// region's or lies under it (out_of_scope on site_id). Call it after the visit's kind was checked.
func (w *Work) placeOf(siteID, regionID *uuid.UUID) (*models.Region, *Reject, error) {
	var site *models.Record
	if siteID != nil {
		var err error
		if site, err = w.Record(models.TypeSite, *siteID); err != nil {
			return nil, nil, err
		}
		if site == nil || site.DeletedAt != nil {
			return nil, reject("not_found", "site_id", "no such site"), nil
		}
	}
	regionField := "region_id"
	if regionID == nil && site != nil {
		regionID, regionField = site.RegionID, "site_id"
	}
	if regionID == nil {
		return nil, reject("required", "region_id", "a visit needs a site_id or a region_id"), nil
	}
	r, err := w.Region(*regionID)
	if err != nil {
		return nil, nil, err
	}
	if r == nil {
		return nil, reject("not_found", "region_id", "no such region"), nil
	}
	if !w.actor.Scope.CoversRegion(r.Path) {
		return nil, reject("out_of_scope", regionField, "this place is outside your scope"), nil
	}
	if site != nil {
		if rj := w.writeScope(site, "site_id"); rj != nil {
			return nil, rj, nil
		}
		if !strings.HasPrefix(site.RegionPath, r.Path) {
			return nil, reject("out_of_scope", "site_id", "the site lies outside the visit's region %s (%s)", r.Name, r.Code), nil
		}
	}
	return r, nil, nil
}

// inScope checks that the actor's scope covers a region and kind (the record a mutation changes:
// a kind outside the scope is reported on "kind", a place outside it on field).
func inScope(a Actor, path string, kind models.Kind, field string) *Reject {
	if !a.Scope.CoversKind(kind) {
		return reject("out_of_scope", "kind", "your scope does not include %s work", kind)
	}
	if !a.Scope.CoversRegion(path) {
		return reject("out_of_scope", field, "this place is outside your scope")
	}
	return nil
}

// liveRecord loads a record the actor may change: it exists, is not deleted, lies in their scope,
// and they wrote it or supervise it.
func (w *Work) liveRecord(typ string, id uuid.UUID) (*models.Record, *Reject, error) {
	rec, err := w.Record(typ, id)
	if err != nil {
		return nil, nil, err
	}
	if rec == nil || rec.DeletedAt != nil {
		return nil, reject("not_found", "id", "no such %s (it may have been deleted)", typ), nil
	}
	if rj := mayWriteFieldWork(w.actor); rj != nil {
		return nil, rj, nil
	}
	if rj := inScope(w.actor, rec.RegionPath, rec.Kind, "id"); rj != nil {
		return nil, rj, nil
	}
	own := rec.CreatedBy != nil && *rec.CreatedBy == w.actor.User.ID
	if !own && w.actor.User.Role != models.RoleSupervisor && typ == models.TypeVisit {
		return nil, reject("forbidden", "id", "only the visit's inspector or a supervisor may change it"), nil
	}
	cp := *rec
	cp.FieldMeta = make(map[string]models.FieldMeta, len(rec.FieldMeta))
	for k, v := range rec.FieldMeta {
		cp.FieldMeta[k] = v
	}
	return &cp, nil, nil
}

// liveVisitOf loads the visit a mutation names in its visit_id as liveRecord does; a *Reject
// (naming visit_id) comes back as the error.
func (w *Work) liveVisitOf(id uuid.UUID) (*models.Record, error) {
	visit, rj, err := w.liveRecord(models.TypeVisit, id)
	if err != nil {
		return nil, err
	}
	if rj != nil {
		if rj.Field == "id" {
			rj.Field = "visit_id"
		}
		return nil, rj
	}
	return visit, nil
}

// liveRecordOf reads {"id": …} from a mutation's arguments and loads that record as liveRecord
// does; a *Reject comes back as the error.
func (w *Work) liveRecordOf(typ string, args json.RawMessage) (*models.Record, error) {
	var a struct {
		ID uuid.UUID `json:"id"`
	}
	if rj := decode(args, &a); rj != nil {
		return nil, rj
	}
	rec, rj, err := w.liveRecord(typ, a.ID)
	if err != nil || rj != nil {
		return nil, orReject(err, rj)
	}
	return rec, nil
}
