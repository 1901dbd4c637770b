package sync

import (
	"encoding/json"
	"errors"
	"time"

	fastjson "github.com/goccy/go-json"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// photo.attach binds a photo id to a visit (and optionally one of its findings) with the app's
// own position and capture time. The bytes travel separately (tus, see Uploads); whichever half
// arrives second completes the photo record, so the order never matters.

type photoAttachArgs struct {
	PhotoID uuid.UUID `json:"photo_id"`
	models.PhotoAttach
}

func registerPhotos(r *Registry) {
	r.Handle("photo.attach", Handler{Refs: photoAttachRefs, Apply: photoAttach})
}

func photoAttachRefs(args json.RawMessage) []Ref {
	var a photoAttachArgs
	if fastjson.Unmarshal(args, &a) != nil || a.PhotoID == uuid.Nil || a.VisitID == uuid.Nil {
		return nil
	}
	refs := []Ref{{models.TypePhoto, a.PhotoID}, {models.TypeVisit, a.VisitID}}
	if a.FindingID != nil {
		refs = append(refs, Ref{models.TypeFinding, *a.FindingID})
	}
	return refs
}

func photoAttach(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error) {
	var a photoAttachArgs
	if rj := decode(m.Args, &a); rj != nil {
		return nil, nil, rj
	}
	var ve models.ValidationError
	if a.PhotoID == uuid.Nil {
		ve.Add("photo_id", "required", "a photo needs a UUID made on the phone")
	}
	if a.VisitID == uuid.Nil {
		ve.Add("visit_id", "required", "a photo is attached to a visit")
	}
	models.ValidatePosition(&ve, "position", a.Position)
	models.ParseTime(&ve, "captured_at", a.CapturedAt, true)
	ve.CheckText("caption", a.Caption, false, models.MaxPhotoCaptionLn)
	if len(ve.Errors) > 0 {
		return nil, nil, rejectInvalid(&ve)
	}
	visit, err := w.liveVisitOf(a.VisitID)
	if err != nil {
		return nil, nil, err
	}
	if a.FindingID != nil {
		f, rj, err := w.refForWrite(models.TypeFinding, *a.FindingID, "finding_id")
		if err != nil || rj != nil {
			return nil, nil, orReject(err, rj)
		}
		if f.ParentID == nil || *f.ParentID != visit.ID {
			return nil, nil, reject("not_found", "finding_id", "the visit has no such finding")
		}
	}
	if err := w.tx.LockPhoto(w.ctx, a.PhotoID); err != nil {
		return nil, nil, err
	}
	blob, err := w.tx.GetPhotoBlob(w.ctx, a.PhotoID)
	var have *models.PhotoBlob
	switch {
	case err == nil:
		have = &blob
		if blob.UploadedBy != w.actor.User.ID {
			return nil, nil, reject("photo_taken", "photo_id", "this photo id was uploaded by someone else")
		}
	case !errors.Is(err, storage.ErrNotFound):
		return nil, nil, err
	}
	rec, err := w.Record(models.TypePhoto, a.PhotoID)
	if err != nil {
		return nil, nil, err
	}
	var pd models.PhotoData
	live := rec != nil && rec.DeletedAt == nil
	if live {
		if err := json.Unmarshal(rec.Data, &pd); err != nil {
			return nil, nil, err
		}
		if pd.AttachedBy != nil && *pd.AttachedBy != w.actor.User.ID {
			return nil, nil, reject("photo_taken", "photo_id", "this photo is attached by someone else")
		}
		if rj := w.writeScope(rec, "photo_id"); rj != nil {
			return nil, nil, rj // the caller's own photo, attached where their scope no longer reaches
		}
	}
	uid := w.actor.User.ID
	pd.ID, pd.Attach, pd.Blob, pd.AttachedBy, pd.AttachDevice = a.PhotoID, &a.PhotoAttach, have, &uid, w.actor.DeviceID
	pd.ClockSkewS = nil
	if ct, err := parseClientTime(m.ClientTime); err == nil && ct != nil {
		s := w.now.Sub(*ct).Seconds()
		pd.ClockSkewS = &s
	}
	region, err := w.Region(*visit.RegionID)
	if err != nil {
		return nil, nil, err
	}
	if region == nil {
		return nil, nil, reject("not_found", "visit_id", "the visit's region no longer exists")
	}
	// The verdict and status are filled in by refreshPhotos once every mutation of the push ran.
	pd.Status = photoStatus(&pd)
	if !live {
		vid := visit.ID
		rec = w.newRecord(models.TypePhoto, a.PhotoID, visit.Kind, region, &vid, pd.Status, &pd)
		w.Put(rec, nil)
		return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, nil, nil
	}
	cp := *rec
	var oldPath *string
	if cp.RegionPath != region.Path {
		p := cp.RegionPath
		oldPath = &p
	}
	vid := visit.ID
	cp.Version++
	cp.Data, _ = fastjson.Marshal(&pd)
	cp.ParentID, cp.Kind, cp.RegionID, cp.RegionPath, cp.Status, cp.UpdatedAt = &vid, visit.Kind, &region.ID, region.Path, pd.Status, w.now
	w.Put(&cp, oldPath)
	return &models.EntityRef{Type: cp.Type, ID: cp.ID, Version: cp.Version}, nil, nil
}

func photoStatus(pd *models.PhotoData) string {
	switch {
	case pd.Attach == nil:
		return models.PhotoUploaded
	case pd.Blob == nil:
		return models.PhotoPendingUpload
	default:
		return models.PhotoReady
	}
}

// refreshPhotos keeps photo verdicts and the visits' roll-ups in step with what this unit of work
// changed: a photo attached or completed, a visit moved in time or place, or deleted (its photos
// go with it). It runs after the handlers and before flush.
func (e *Engine) refreshPhotos(w *Work) error {
	visits := map[uuid.UUID]bool{}
	var stored []uuid.UUID // visits that may have photos committed before this push
	for _, k := range w.dirty {
		switch k.typ {
		case models.TypeVisit:
			if !visits[k.id] {
				visits[k.id] = true
				if !w.absent[k] {
					stored = append(stored, k.id)
				}
			}
		case models.TypePhoto:
			if r := w.records[k]; r.ParentID != nil && !visits[*r.ParentID] {
				visits[*r.ParentID] = true
				stored = append(stored, *r.ParentID)
			}
		}
	}
	if len(visits) == 0 {
		return nil
	}
	photoIDs := map[uuid.UUID]bool{}
	if len(stored) > 0 {
		ids, err := w.tx.PhotoIDsOfVisits(w.ctx, stored)
		if err != nil {
			return err
		}
		var refs []Ref
		for _, id := range ids {
			photoIDs[id] = true
			refs = append(refs, Ref{models.TypePhoto, id})
		}
		if err := w.prefetch(refs); err != nil {
			return err
		}
	}
	for _, k := range w.dirty {
		if k.typ == models.TypePhoto {
			photoIDs[k.id] = true
		}
	}
	byVisit := map[uuid.UUID][]models.Verdict{}
	for id := range photoIDs {
		rec, err := w.Record(models.TypePhoto, id)
		if err != nil {
			return err
		}
		if rec == nil || rec.DeletedAt != nil || rec.ParentID == nil || !visits[*rec.ParentID] {
			continue
		}
		v, err := e.refreshPhoto(w, rec)
		if err != nil {
			return err
		}
		if v != nil {
			byVisit[*rec.ParentID] = append(byVisit[*rec.ParentID], *v)
		}
	}
	for vid := range visits {
		vs := byVisit[vid]
		if len(vs) == 0 {
			// Most visits have no photo: write nothing for them, unless one just lost its photos
			// (a deleted visit takes them with it) and its roll-up must go.
			if v := w.records[recordKey{models.TypeVisit, vid}]; v == nil || v.DeletedAt == nil || w.absent[recordKey{models.TypeVisit, vid}] {
				continue
			}
		}
		if err := w.tx.SetVisitLocation(w.ctx, vid, models.RollUpVerdict(vs), len(vs)); err != nil {
			return err
		}
	}
	return nil
}

// refreshPhoto recomputes one photo record's status and verdict against its visit as this unit of
// work sees it, and writes a new version when they changed. A photo of a deleted visit is removed;
// it returns nil then.
func (e *Engine) refreshPhoto(w *Work, rec *models.Record) (*models.Verdict, error) {
	visit, err := w.Record(models.TypeVisit, *rec.ParentID)
	if err != nil {
		return nil, err
	}
	if visit == nil || visit.DeletedAt != nil {
		cp := *rec
		w.Remove(&cp)
		return nil, nil
	}
	var pd models.PhotoData
	if err := json.Unmarshal(rec.Data, &pd); err != nil {
		return nil, err
	}
	in, err := w.verdictInput(visit, &pd)
	if err != nil {
		return nil, err
	}
	pd.Status = photoStatus(&pd)
	pd.Verdict = models.EvaluatePhoto(in, e.cfg.Verdict)
	if pd.Verdict.Reasons == nil {
		pd.Verdict.Reasons = []models.VerdictReason{}
	}
	data, _ := fastjson.Marshal(&pd)
	if string(data) == string(rec.Data) && rec.Status == pd.Status && rec.RegionPath == visit.RegionPath {
		return &pd.Verdict, nil
	}
	cp := *rec
	var oldPath *string
	if cp.RegionPath != visit.RegionPath {
		p := cp.RegionPath
		oldPath = &p
	}
	if !w.isDirty[recordKey{rec.Type, rec.ID}] {
		cp.Version++ // a record this push already wrote keeps the version it was given
	}
	cp.Data, cp.Status, cp.Kind, cp.RegionID, cp.RegionPath, cp.UpdatedAt = data, pd.Status, visit.Kind, visit.RegionID,
		visit.RegionPath, w.now
	w.Put(&cp, oldPath)
	return &pd.Verdict, nil
}

// verdictInput gathers what the verdict rules read: the photo's two halves, the visit's window and
// its site's point or patrol area.
func (w *Work) verdictInput(visit *models.Record, pd *models.PhotoData) (models.VerdictInput, error) {
	in := models.VerdictInput{Attach: pd.Attach}
	if pd.Blob != nil {
		in.Exif = pd.Blob.Exif
		if in.Exif == nil {
			in.Exif = &models.PhotoExif{}
		}
	}
	if pd.ClockSkewS != nil {
		d := time.Duration(*pd.ClockSkewS * float64(time.Second))
		in.ClockSkew = &d
	}
	var v models.Visit
	if err := json.Unmarshal(visit.Data, &v); err != nil {
		return in, err
	}
	if t, err := time.Parse(time.RFC3339Nano, v.StartedAt); err == nil {
		in.VisitStart = t
	}
	if v.EndedAt != nil {
		if t, err := time.Parse(time.RFC3339Nano, *v.EndedAt); err == nil {
			in.VisitEnd = &t
		}
	}
	if v.SiteID == nil {
		return in, nil
	}
	site, err := w.Record(models.TypeSite, *v.SiteID)
	if err != nil || site == nil || site.DeletedAt != nil {
		return in, err
	}
	var s models.Site
	if json.Unmarshal(site.Data, &s) == nil {
		in.SitePoint = s.Location
		if len(s.Boundary) > 0 && string(s.Boundary) != "null" {
			in.SiteArea = s.Boundary
		}
	}
	return in, nil
}
