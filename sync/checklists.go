package sync

import (
	"context"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// validateChecklistAnswers checks a visit's answers against the checklist version it names. A
// visit that names none is left to its kind's rules and the answer limits every visit keeps. The
// checklist must exist (not_found), be of a kind in the actor's scope (out_of_scope, like every id
// a mutation names: see refForWrite) and of the visit's kind (invalid); the version must exist (an
// offline phone may still fill in an older one: every published version stays valid). A draft may
// leave required items unanswered; a submitted visit must answer them. The error is a storage
// failure, never a rejection.
//
// Checklists are read without a lock (see Work.load): every visit of a kind names the same few
// checklists, and locking them would serialise all pushes of that kind. Published versions never
// change, so an unlocked read is exact; a version being published meanwhile cannot be named by a
// phone yet.
func (w *Work) validateChecklistAnswers(v *models.Visit) (*Reject, error) {
	if v.Checklist == nil {
		return nil, nil
	}
	rec, rj, err := w.refForWrite(models.TypeChecklist, v.Checklist.ID, "checklist.id")
	if err != nil || rj != nil {
		return rj, err
	}
	cl, err := storage.DecodeChecklist(*rec)
	if err != nil {
		return nil, err
	}
	if cl.Kind != v.Kind {
		return reject("invalid", "checklist.id", "this checklist is for %s work, not %s", cl.Kind, v.Kind), nil
	}
	ver := cl.Version(v.Checklist.Version)
	if ver == nil {
		return reject("not_found", "checklist.version", "checklist %s has no version %d", cl.ID, v.Checklist.Version), nil
	}
	var ve models.ValidationError
	if v.Status == models.VisitSubmitted {
		models.ValidateAnswersAgainst(ver.Items, v.Answers, &ve)
	} else {
		models.ValidateDraftAnswersAgainst(ver.Items, v.Answers, &ve)
	}
	if len(ve.Errors) > 0 {
		return rejectInvalid(&ve), nil
	}
	return nil, nil
}

// checklistPullType serves checklists to phones. They belong to no region: every phone whose
// scope includes the checklist's kind receives it (Addressed, so the region rule does not apply;
// the scan and the change-log query filter by kind).
func checklistPullType() PullType {
	loaded := func(r models.Record) Loaded {
		l := recordLoaded(r)
		l.Addressed = true
		return l
	}
	return PullType{
		Name: models.TypeChecklist,
		Load: func(ctx context.Context, st *storage.Store, _ uuid.UUID, ids []string) (map[string]Loaded, error) {
			m, err := st.GetRecords(ctx, models.TypeChecklist, parseIDs(ids))
			out := map[string]Loaded{}
			for id, r := range m {
				out[id.String()] = loaded(r)
			}
			return out, err
		},
		Scan: func(ctx context.Context, st *storage.Store, q Query, after string, limit int) ([]Loaded, error) {
			rs, err := st.ListChecklists(ctx, storage.ChecklistFilter{Kinds: q.Scope.Kinds, After: afterID(after), Limit: limit})
			out := make([]Loaded, len(rs))
			for i, r := range rs {
				out[i] = loaded(r)
			}
			return out, err
		},
	}
}
