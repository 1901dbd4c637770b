package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// VisitDetail is everything the full report of one visit shows: the visit record, its site and
// region names, who recorded it, the checklist version it was filled in with, its findings,
// photos, location verdict and track stats. The caller checks the visit's scope.
type VisitDetail struct {
	Visit     models.Record
	Site      *models.Record
	Place     DispatchPlace
	Inspector string // name (username when no name)
	Checklist *models.Checklist
	Findings  []models.Record
	Photos    []models.Record
	Location  *models.Verdict // nil: the visit has no photos
	Track     *models.TrackStats
	UserNames map[uuid.UUID]string // everyone named in findings' histories and photos
}

// VisitDetail loads a live visit's report; ErrNotFound when there is no such live visit.
func (s *Store) VisitDetail(ctx context.Context, id uuid.UUID) (*VisitDetail, error) {
	var d *VisitDetail
	err := s.readSnapshot(ctx, func(c conn) error {
		var err error
		d, err = visitDetailIn(ctx, c, id)
		return err
	})
	return d, err
}

func recordsWhere(ctx context.Context, c conn, where string, args ...any) ([]models.Record, error) {
	rows, err := c.QueryContext(ctx, `SELECT `+recordColsNoMeta+` FROM records WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: visit report: %w", classify(err))
	}
	return scanRecords(rows)
}

func visitDetailIn(ctx context.Context, c conn, id uuid.UUID) (*VisitDetail, error) {
	recs, err := recordsWhere(ctx, c, `type = 'visit' AND id = $1 AND deleted_at IS NULL`, id)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("storage: visit %s: %w", id, ErrNotFound)
	}
	d := &VisitDetail{Visit: recs[0], UserNames: map[uuid.UUID]string{}}
	var v models.Visit
	if err := json.Unmarshal(d.Visit.Data, &v); err != nil {
		return nil, fmt.Errorf("storage: visit %s: %w", id, err)
	}
	if v.SiteID != nil {
		sites, err := recordsWhere(ctx, c, `type = 'site' AND id = $1`, *v.SiteID)
		if err != nil {
			return nil, err
		}
		if len(sites) > 0 {
			d.Site = &sites[0]
		}
	}
	if d.Visit.RegionID != nil {
		if err := c.QueryRowContext(ctx, `SELECT reg.name, COALESCE(cty.name, ''), COALESCE(twn.name, '')
			FROM regions reg`+placeJoins+` WHERE reg.id = $1`, *d.Visit.RegionID).Scan(
			&d.Place.Region, &d.Place.County, &d.Place.Township); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("storage: visit report region: %w", classify(err))
		}
	}
	if v.Checklist != nil {
		cls, err := recordsWhere(ctx, c, `type = 'checklist' AND id = $1`, v.Checklist.ID)
		if err != nil {
			return nil, err
		}
		if len(cls) > 0 {
			if cl, err := DecodeChecklist(cls[0]); err == nil {
				d.Checklist = &cl
			}
		}
	}
	if d.Findings, err = recordsWhere(ctx, c, `type = 'finding' AND parent_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, id); err != nil {
		return nil, err
	}
	if d.Photos, err = recordsWhere(ctx, c, `type = 'photo' AND parent_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, id); err != nil {
		return nil, err
	}
	var level string
	var reasons []byte
	switch err := c.QueryRowContext(ctx, `SELECT level, reasons FROM visit_location WHERE visit_id = $1`, id).Scan(&level, &reasons); {
	case err == nil:
		d.Location = &models.Verdict{Level: models.VerdictLevel(level)}
		_ = json.Unmarshal(reasons, &d.Location.Reasons)
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("storage: visit report location: %w", classify(err))
	}
	var stats []byte
	switch err := c.QueryRowContext(ctx, `SELECT data->'stats' FROM records WHERE type = 'track' AND id = $1 AND deleted_at IS NULL`, id).Scan(&stats); {
	case err == nil:
		d.Track = &models.TrackStats{}
		if err := json.Unmarshal(stats, d.Track); err != nil {
			d.Track = nil
		}
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("storage: visit report track: %w", classify(err))
	}
	// Names of the inspector and of everyone in the findings' histories and photo attachments.
	ids := []string{v.InspectorID.String()}
	for _, f := range d.Findings {
		var fd models.Finding
		if json.Unmarshal(f.Data, &fd) == nil {
			for _, e := range fd.History {
				ids = append(ids, e.By.String())
			}
		}
	}
	rows, err := c.QueryContext(ctx, `SELECT id, name FROM users WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("storage: visit report users: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var uid uuid.UUID
		var name string
		if err := rows.Scan(&uid, &name); err != nil {
			return nil, fmt.Errorf("storage: visit report users: %w", classify(err))
		}
		d.UserNames[uid] = name
	}
	d.Inspector = d.UserNames[v.InspectorID]
	return d, rows.Err()
}
