package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

type regionRow struct {
	ID        uuid.UUID
	Code      string
	Name      string
	Level     string
	ParentID  uuid.NullUUID
	Path      string
	CentreLat sql.NullFloat64
	CentreLon sql.NullFloat64
	Boundary  []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (r regionRow) model() models.Region {
	m := models.Region{ID: r.ID, Code: r.Code, Name: r.Name, Level: models.RegionLevel(r.Level), Path: r.Path,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.ParentID.Valid {
		id := r.ParentID.UUID
		m.ParentID = &id
	}
	if r.CentreLat.Valid && r.CentreLon.Valid {
		m.Centre = &models.Point{Lat: r.CentreLat.Float64, Lon: r.CentreLon.Float64}
	}
	if len(r.Boundary) > 0 {
		m.Boundary = json.RawMessage(r.Boundary)
	}
	return m
}

const regionCols = `id, code, name, level, parent_id, path, centre_lat, centre_lon, boundary, created_at, updated_at`

// RegionScopeClause is the SQL twin of models.Scope.CoversRegion: a WHERE fragment that keeps rows
// whose region path column lies inside the scope. Every scoped query uses it.
func RegionScopeClause(scope models.Scope, pathColumn string) (string, []any) {
	if scope.RegionPath == "" {
		return "TRUE", nil
	}
	return pathColumn + " LIKE ? ESCAPE '\\'", []any{likePrefix(scope.RegionPath)}
}

func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

func nullPoint(p *models.Point) (any, any) {
	if p == nil {
		return nil, nil
	}
	return p.Lat, p.Lon
}

func nullJSON(raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return string(raw)
}

// CreateRegion inserts r as given (the caller fills its id and its path under its parent) and
// returns it as stored, with its timestamps. A taken code is ErrConflict.
func (s *Store) CreateRegion(ctx context.Context, r models.Region) (models.Region, error) {
	lat, lon := nullPoint(r.Centre)
	var row regionRow
	err := s.q(ctx).Raw(`INSERT INTO regions (id, code, name, level, parent_id, path, centre_lat, centre_lon, boundary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+regionCols,
		r.ID, r.Code, r.Name, string(r.Level), r.ParentID, r.Path, lat, lon, nullJSON(r.Boundary)).Scan(&row).Error
	if err != nil {
		return models.Region{}, fmt.Errorf("storage: create region: %w", classify(err))
	}
	return row.model(), nil
}

func (s *Store) getRegion(ctx context.Context, where string, arg any) (models.Region, error) {
	var rows []regionRow
	if err := s.q(ctx).Raw(`SELECT `+regionCols+` FROM regions WHERE `+where, arg).Scan(&rows).Error; err != nil {
		return models.Region{}, fmt.Errorf("storage: get region: %w", classify(err))
	}
	if len(rows) == 0 {
		return models.Region{}, fmt.Errorf("storage: region %v: %w", arg, ErrNotFound)
	}
	return rows[0].model(), nil
}

// GetRegion loads one region by id.
func (s *Store) GetRegion(ctx context.Context, id uuid.UUID) (models.Region, error) {
	return s.getRegion(ctx, "id = ?", id)
}

// GetRegionByCode loads one region by its code.
func (s *Store) GetRegionByCode(ctx context.Context, code string) (models.Region, error) {
	return s.getRegion(ctx, "code = ?", code)
}

// RegionFilter narrows ListRegions.
type RegionFilter struct {
	Scope    models.Scope
	MaxLevel models.RegionLevel // "" = every level
	Boundary bool               // include boundaries (they can be large)
}

// ListRegions returns the regions inside the filter's scope, parents before children, siblings
// ordered by code.
func (s *Store) ListRegions(ctx context.Context, f RegionFilter) ([]models.Region, error) {
	where, args := RegionScopeClause(f.Scope, "path")
	if f.MaxLevel != "" {
		levels := []string{}
		for _, l := range []models.RegionLevel{models.LevelCity, models.LevelCounty, models.LevelTownship, models.LevelVillage} {
			if l.Depth() <= f.MaxLevel.Depth() {
				levels = append(levels, string(l))
			}
		}
		where += " AND level IN ?"
		args = append(args, levels)
	}
	cols := regionCols
	if !f.Boundary {
		cols = strings.Replace(cols, "boundary", "NULL::jsonb AS boundary", 1)
	}
	var rows []regionRow
	if err := s.q(ctx).Raw(`SELECT `+cols+` FROM regions WHERE `+where+` ORDER BY length(path), code`, args...).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: list regions: %w", classify(err))
	}
	out := make([]models.Region, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// RegionPatch names the fields UpdateRegion changes; nil leaves a field alone.
type RegionPatch struct {
	Name          *string
	Centre        *models.Point
	ClearCentre   bool
	Boundary      json.RawMessage
	ClearBoundary bool
	ParentID      *uuid.UUID // the new parent (the paths are rewritten by MoveRegionSubtree)
}

// UpdateRegion applies p to region id's own row and returns the region as stored.
func (s *Store) UpdateRegion(ctx context.Context, id uuid.UUID, p RegionPatch) (models.Region, error) {
	sets := []string{"updated_at = now()"}
	args := []any{}
	if p.Name != nil {
		sets, args = append(sets, "name = ?"), append(args, *p.Name)
	}
	if p.ClearCentre {
		sets = append(sets, "centre_lat = NULL", "centre_lon = NULL")
	} else if p.Centre != nil {
		sets, args = append(sets, "centre_lat = ?", "centre_lon = ?"), append(args, p.Centre.Lat, p.Centre.Lon)
	}
	if p.ClearBoundary {
		sets = append(sets, "boundary = NULL")
	} else if len(p.Boundary) > 0 {
		sets, args = append(sets, "boundary = ?"), append(args, string(p.Boundary))
	}
	if p.ParentID != nil {
		sets, args = append(sets, "parent_id = ?"), append(args, *p.ParentID)
	}
	args = append(args, id)
	res := s.q(ctx).Exec(`UPDATE regions SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...)
	if res.Error != nil {
		return models.Region{}, fmt.Errorf("storage: update region: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return models.Region{}, fmt.Errorf("storage: region %s: %w", id, ErrNotFound)
	}
	return s.GetRegion(ctx, id)
}

// Moved is a row whose region path MoveRegionSubtree rewrote: a region, a synced record or a user
// (Type is models.TypeRegion, the record's type or models.TypeUser), with its version after the
// move and its old path.
type Moved struct {
	Type    string
	ID      string
	Version int64
	Kind    models.Kind
	Path    string
	OldPath string
	Deleted bool // a tombstone
}

// MoveRegionSubtree rewrites the paths of every region, synced record and conflict under oldPath
// to start with newPath, and returns the regions, records and users (assigned inside the subtree)
// that moved. Call inside InTx.
func (s *Store) MoveRegionSubtree(ctx context.Context, oldPath, newPath string) ([]Moved, error) {
	var moved []Moved
	rows, err := s.raw(ctx).QueryContext(ctx, `UPDATE regions SET path = $1 || substr(path, $2), updated_at = now()
		WHERE path LIKE $3 RETURNING id, path, $4 || substr(path, length($1) + 1), extract(epoch FROM updated_at) * 1000000`,
		newPath, len(oldPath)+1, likePrefix(oldPath), oldPath)
	if err != nil {
		return nil, fmt.Errorf("storage: move regions: %w", classify(err))
	}
	for rows.Next() {
		m := Moved{Type: models.TypeRegion}
		var version float64
		if err := rows.Scan(&m.ID, &m.Path, &m.OldPath, &version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("storage: move regions: %w", classify(err))
		}
		m.Version = int64(version)
		moved = append(moved, m)
	}
	rows.Close()
	rows, err = s.raw(ctx).QueryContext(ctx, `UPDATE records SET region_path = $1 || substr(region_path, $2)
		WHERE region_path LIKE $3 RETURNING type, id, version, kind, region_path, $4 || substr(region_path, length($1) + 1),
		deleted_at IS NOT NULL`, newPath, len(oldPath)+1, likePrefix(oldPath), oldPath)
	if err != nil {
		return nil, fmt.Errorf("storage: move records: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var m Moved
		var kind string
		if err := rows.Scan(&m.Type, &m.ID, &m.Version, &kind, &m.Path, &m.OldPath, &m.Deleted); err != nil {
			return nil, fmt.Errorf("storage: move records: %w", classify(err))
		}
		m.Kind = models.Kind(kind)
		moved = append(moved, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: move records: %w", classify(err))
	}
	if err := s.exec(ctx, "move conflicts", `UPDATE conflicts SET region_path = $1 || substr(region_path, $2) WHERE region_path LIKE $3`,
		newPath, len(oldPath)+1, likePrefix(oldPath)); err != nil {
		return nil, err
	}
	urows, err := s.raw(ctx).QueryContext(ctx, `SELECT u.id, r.path, $2 || substr(r.path, length($1) + 1),
			(extract(epoch FROM u.updated_at) * 1000000)::bigint
		FROM users u JOIN regions r ON r.id = u.region_id WHERE r.path LIKE $3`, newPath, oldPath, likePrefix(newPath))
	if err != nil {
		return nil, fmt.Errorf("storage: moved users: %w", classify(err))
	}
	defer urows.Close()
	for urows.Next() {
		m := Moved{Type: models.TypeUser}
		if err := urows.Scan(&m.ID, &m.Path, &m.OldPath, &m.Version); err != nil {
			return nil, fmt.Errorf("storage: moved users: %w", classify(err))
		}
		moved = append(moved, m)
	}
	return moved, urows.Err()
}

// RegionsByIDs loads the regions with the given ids (missing ones are left out).
func (s *Store) RegionsByIDs(ctx context.Context, ids []uuid.UUID) ([]models.Region, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []regionRow
	if err := s.q(ctx).Raw(`SELECT `+regionCols+` FROM regions WHERE id IN ?`, ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: regions by id: %w", classify(err))
	}
	out := make([]models.Region, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// ScanRegions returns one bootstrap page of the regions inside scope, ordered by id after after.
func (s *Store) ScanRegions(ctx context.Context, scope models.Scope, after uuid.UUID, limit int) ([]models.Region, error) {
	var rows []regionRow
	if err := s.q(ctx).Raw(`SELECT `+strings.Replace(regionCols, "boundary", "NULL::jsonb AS boundary", 1)+` FROM regions
		WHERE path LIKE ? ESCAPE '\' AND id > ? ORDER BY id LIMIT ?`, likePrefix(scope.RegionPath), after, limit).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: scan regions: %w", classify(err))
	}
	out := make([]models.Region, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}
