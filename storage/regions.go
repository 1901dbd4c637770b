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

// CreateRegion inserts r under its parent (r.ParentID nil only for the city), computing its path.
// It fills r.ID when zero, r.Path and the timestamps. A taken code is ErrConflict.
func (s *Store) CreateRegion(ctx context.Context, r *models.Region) error {
	if r.ID == uuid.Nil {
		r.ID = uuid.New()
	}
	parentPath := ""
	if r.ParentID != nil {
		parent, err := s.GetRegion(ctx, *r.ParentID)
		if err != nil {
			return fmt.Errorf("storage: region parent: %w", err)
		}
		parentPath = parent.Path
	}
	r.Path = models.RegionPath(parentPath, r.ID)
	lat, lon := nullPoint(r.Centre)
	var row regionRow
	err := s.q(ctx).Raw(`INSERT INTO regions (id, code, name, level, parent_id, path, centre_lat, centre_lon, boundary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+regionCols,
		r.ID, r.Code, r.Name, string(r.Level), r.ParentID, r.Path, lat, lon, nullJSON(r.Boundary)).Scan(&row).Error
	if err != nil {
		return fmt.Errorf("storage: create region: %w", classify(err))
	}
	*r = row.model()
	return nil
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
	ParentID      *uuid.UUID // move the region (and its subtree) under another parent of the level above
}

// UpdateRegion applies p to region id and returns the change-log rows phones need: the region
// itself, and when it moved, every region and synced record of its subtree (with their old paths,
// so phones that no longer cover them get removes). Append them with AppendChanges in the same
// transaction.
func (s *Store) UpdateRegion(ctx context.Context, id uuid.UUID, p RegionPatch) (models.Region, []models.Change, error) {
	cur, err := s.GetRegion(ctx, id)
	if err != nil {
		return models.Region{}, nil, err
	}
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
	var changes []models.Change
	if p.ParentID != nil && (cur.ParentID == nil || *cur.ParentID != *p.ParentID) {
		parent, err := s.GetRegion(ctx, *p.ParentID)
		if err != nil {
			return models.Region{}, nil, fmt.Errorf("storage: region parent: %w", err)
		}
		newPath := models.RegionPath(parent.Path, cur.ID)
		if changes, err = s.moveSubtree(ctx, cur.Path, newPath); err != nil {
			return models.Region{}, nil, err
		}
		sets, args = append(sets, "parent_id = ?"), append(args, parent.ID)
	}
	args = append(args, id)
	if err := s.q(ctx).Exec(`UPDATE regions SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...).Error; err != nil {
		return models.Region{}, nil, fmt.Errorf("storage: update region: %w", classify(err))
	}
	r, err := s.GetRegion(ctx, id)
	if err != nil {
		return models.Region{}, nil, err
	}
	if len(changes) == 0 {
		changes = []models.Change{RegionChange(r, nil)}
	}
	return r, changes, nil
}

// moveSubtree rewrites the paths of every region, synced record and conflict under oldPath to
// start with newPath, and returns a change per moved region and record.
func (s *Store) moveSubtree(ctx context.Context, oldPath, newPath string) ([]models.Change, error) {
	var changes []models.Change
	rows, err := s.raw(ctx).QueryContext(ctx, `UPDATE regions SET path = $1 || substr(path, $2), updated_at = now()
		WHERE path LIKE $3 RETURNING id, path, $4 || substr(path, length($1) + 1), extract(epoch FROM updated_at) * 1000000`,
		newPath, len(oldPath)+1, likePrefix(oldPath), oldPath)
	if err != nil {
		return nil, fmt.Errorf("storage: move regions: %w", classify(err))
	}
	for rows.Next() {
		var id uuid.UUID
		var path, old string
		var version float64
		if err := rows.Scan(&id, &path, &old, &version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("storage: move regions: %w", classify(err))
		}
		o := old
		changes = append(changes, models.Change{RecordType: models.TypeRegion, RecordID: id.String(), Op: models.OpPut,
			Version: int64(version), RegionPath: path, OldRegionPath: &o})
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
		var c models.Change
		var old, kind string
		var deleted bool
		if err := rows.Scan(&c.RecordType, &c.RecordID, &c.Version, &kind, &c.RegionPath, &old, &deleted); err != nil {
			return nil, fmt.Errorf("storage: move records: %w", classify(err))
		}
		if deleted {
			continue
		}
		c.Op, c.Kind, c.OldRegionPath = models.OpPut, models.Kind(kind), &old
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: move records: %w", classify(err))
	}
	if err := s.exec(ctx, "move conflicts", `UPDATE conflicts SET region_path = $1 || substr(region_path, $2) WHERE region_path LIKE $3`,
		newPath, len(oldPath)+1, likePrefix(oldPath)); err != nil {
		return nil, err
	}
	// Users assigned inside the subtree moved with it: phones of the new scope learn of them.
	urows, err := s.raw(ctx).QueryContext(ctx, `SELECT u.id, r.path, $2 || substr(r.path, length($1) + 1),
			(extract(epoch FROM u.updated_at) * 1000000)::bigint
		FROM users u JOIN regions r ON r.id = u.region_id WHERE r.path LIKE $3`, newPath, oldPath, likePrefix(newPath))
	if err != nil {
		return nil, fmt.Errorf("storage: moved users: %w", classify(err))
	}
	defer urows.Close()
	for urows.Next() {
		c := models.Change{RecordType: models.TypeUser, Op: models.OpPut}
		var id uuid.UUID
		var old string
		if err := urows.Scan(&id, &c.RegionPath, &old, &c.Version); err != nil {
			return nil, fmt.Errorf("storage: moved users: %w", classify(err))
		}
		c.RecordID, c.OldRegionPath = id.String(), &old
		changes = append(changes, c)
	}
	return changes, urows.Err()
}

// RegionChange is the change-log row of a region write.
func RegionChange(r models.Region, oldPath *string) models.Change {
	return models.Change{RecordType: models.TypeRegion, RecordID: r.ID.String(), Op: models.OpPut,
		Version: r.UpdatedAt.UnixMicro(), RegionPath: r.Path, OldRegionPath: oldPath}
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
