package sync

import (
	"encoding/json"
	"math"
	"slices"

	fastjson "github.com/goccy/go-json"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// maxTrackArgsBytes bounds one track.append: 2,000 fixes of about 130 bytes each, with room.
const maxTrackArgsBytes = 512 << 10

// registerTracksWithBuffer registers track.append; coverage counts the patrol area within
// bufferM metres of the track.
func registerTracksWithBuffer(r *Registry, bufferM float64) {
	r.Handle("track.append", Handler{Refs: trackAppendRefs, Apply: func(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error) {
		return trackAppend(w, m, bufferM)
	}})
}

type trackAppendArgs struct {
	VisitID uuid.UUID             `json:"visit_id"`
	Chunk   *int                  `json:"chunk"`
	Points  []models.TrackPointIn `json:"points"`
}

func trackAppendRefs(args json.RawMessage) []Ref {
	var a struct {
		VisitID uuid.UUID `json:"visit_id"`
	}
	if fastjson.Unmarshal(args, &a) != nil || a.VisitID == uuid.Nil {
		return nil
	}
	return []Ref{{models.TypeVisit, a.VisitID}, {models.TypeTrack, a.VisitID}}
}

// trackAppend merges one chunk of fixes into the track of a fire-patrol visit (record type
// "track", id = the visit's id). Chunks and points are merged as sets, so a chunk that arrives
// twice, or chunks in any order, give the same track; an append that adds nothing changes
// nothing (no new version).
func trackAppend(w *Work, m Mutation, bufferM float64) (*models.EntityRef, []uuid.UUID, error) {
	if len(m.Args) > maxTrackArgsBytes {
		return nil, nil, reject("too_long", "args", "a track chunk must be at most %d bytes; send fewer points per chunk", maxTrackArgsBytes)
	}
	var a trackAppendArgs
	if rj := decode(m.Args, &a); rj != nil {
		return nil, nil, rj
	}
	if rj := mayWriteFieldWork(w.actor); rj != nil {
		return nil, nil, rj
	}
	if a.VisitID == uuid.Nil {
		return nil, nil, reject("required", "visit_id", "a track chunk needs the visit_id of its patrol")
	}
	if a.Chunk == nil {
		return nil, nil, reject("required", "chunk", "a track chunk needs its chunk number")
	}
	if *a.Chunk < 0 || *a.Chunk > models.MaxTrackChunk {
		return nil, nil, reject("out_of_range", "chunk", "chunk numbers run from 0 to %d", models.MaxTrackChunk)
	}
	visit, err := w.liveVisitOf(a.VisitID)
	if err != nil {
		return nil, nil, err
	}
	if visit.Kind != models.KindFirePatrol {
		return nil, nil, reject("invalid_kind", "visit_id", "tracks belong to fire_patrol visits; this visit is %s", visit.Kind)
	}
	var ve models.ValidationError
	points := models.ConvertTrackPoints(&ve, "points", a.Points)
	if len(ve.Errors) > 0 {
		return nil, nil, rejectInvalid(&ve)
	}

	rec, err := w.Record(models.TypeTrack, visit.ID)
	if err != nil {
		return nil, nil, err
	}
	var old models.Track
	live := rec != nil && rec.DeletedAt == nil
	if live {
		if err := json.Unmarshal(rec.Data, &old); err != nil {
			return nil, nil, err
		}
	}
	t := models.Track{VisitID: visit.ID.String(), Chunks: models.MergeChunks(old.Chunks, *a.Chunk),
		Points: models.MergeTrackPoints(old.Points, points)}
	if len(t.Points) > models.MaxTrackPoints {
		return nil, nil, reject("too_long", "points", "a track keeps at most %d points; this chunk would make %d",
			models.MaxTrackPoints, len(t.Points))
	}
	t.Stats = models.ComputeTrackStats(t.Points)
	t.Stats.CoverageBufferM = bufferM
	if t.Stats.Coverage, err = w.trackCoverage(visit, t.Points, bufferM); err != nil {
		return nil, nil, err
	}

	region, err := w.Region(*visit.RegionID)
	if err != nil {
		return nil, nil, err
	}
	if region == nil {
		return nil, nil, reject("not_found", "visit_id", "the visit's region no longer exists")
	}
	if live && trackEqual(old, t) && rec.RegionPath == region.Path {
		return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, nil, nil
	}
	if rec == nil {
		vid := visit.ID
		rec = w.newRecord(models.TypeTrack, visit.ID, visit.Kind, region, &vid, "", &t)
		w.Put(rec, nil)
		return &models.EntityRef{Type: rec.Type, ID: rec.ID, Version: rec.Version}, nil, nil
	}
	var oldPath *string
	if rec.RegionPath != region.Path {
		p := rec.RegionPath
		oldPath = &p
	}
	cp := *rec
	cp.Version++
	cp.Data, _ = fastjson.Marshal(&t)
	cp.RegionID, cp.RegionPath, cp.Kind, cp.DeletedAt, cp.UpdatedAt = &region.ID, region.Path, visit.Kind, nil, w.now
	w.Put(&cp, oldPath)
	return &models.EntityRef{Type: cp.Type, ID: cp.ID, Version: cp.Version}, nil, nil
}

// trackCoverage is the share of the visit's patrol area (its site's data.boundary) within bufferM
// of the track, rounded to 1e-4; nil when the visit has no site, the site no boundary, or the
// boundary is not a polygon.
func (w *Work) trackCoverage(visit *models.Record, pts []models.TrackPoint, bufferM float64) (*float64, error) {
	var v struct {
		SiteID *uuid.UUID `json:"site_id"`
	}
	if json.Unmarshal(visit.Data, &v) != nil || v.SiteID == nil {
		return nil, nil
	}
	site, err := w.Record(models.TypeSite, *v.SiteID)
	if err != nil || site == nil || site.DeletedAt != nil {
		return nil, err
	}
	var s struct {
		Boundary json.RawMessage `json:"boundary"`
	}
	if json.Unmarshal(site.Data, &s) != nil {
		return nil, nil
	}
	area, err := models.AreaFromGeoJSON(s.Boundary)
	if err != nil {
		return nil, nil
	}
	c := math.Round(models.Coverage(area, models.TrackOrbPoints(pts), bufferM)*1e4) / 1e4
	return &c, nil
}

// trackEqual compares two tracks as stored (points by value, coverage by value).
func trackEqual(a, b models.Track) bool {
	if a.VisitID != b.VisitID || !slices.Equal(a.Chunks, b.Chunks) || len(a.Points) != len(b.Points) {
		return false
	}
	for i := range a.Points {
		p, q := a.Points[i], b.Points[i]
		if !p.T.Equal(q.T) || p.Lat != q.Lat || p.Lon != q.Lon || p.CRS != q.CRS ||
			(p.AccuracyM == nil) != (q.AccuracyM == nil) || (p.AccuracyM != nil && *p.AccuracyM != *q.AccuracyM) {
			return false
		}
	}
	sa, sb := a.Stats, b.Stats
	if (sa.Coverage == nil) != (sb.Coverage == nil) || (sa.Coverage != nil && *sa.Coverage != *sb.Coverage) {
		return false
	}
	sa.Coverage, sb.Coverage = nil, nil
	return sa == sb
}
