package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

const conflictCols = `id, record_type, record_id, field, region_path, kind, base_version, kept, server_value, server_meta,
	client_value, client_meta, created_at, resolved_at, resolved_by, resolution`

// InsertConflicts stores conflicts found while merging. Call inside the push's transaction.
func (s *Store) InsertConflicts(ctx context.Context, cs []models.Conflict) error {
	for _, c := range cs {
		sm, _ := json.Marshal(c.Server)
		cm, _ := json.Marshal(c.Client)
		if err := s.exec(ctx, "insert conflict", `INSERT INTO conflicts (id, record_type, record_id, field, region_path, kind,
				base_version, kept, server_value, server_meta, client_value, client_meta)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11::jsonb, $12::jsonb)`,
			c.ID, c.RecordType, c.RecordID, c.Field, c.RegionPath, string(c.Kind), c.BaseVersion, c.Kept,
			jsonOrNull(c.ServerValue), string(sm), jsonOrNull(c.ClientValue), string(cm)); err != nil {
			return err
		}
	}
	return nil
}

func jsonOrNull(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

func scanConflicts(rows *sql.Rows) ([]models.Conflict, error) {
	defer rows.Close()
	var out []models.Conflict
	for rows.Next() {
		var c models.Conflict
		var kind string
		var sv, sm, cv, cm, res []byte
		var resolvedAt sql.NullTime
		var resolvedBy uuid.NullUUID
		if err := rows.Scan(&c.ID, &c.RecordType, &c.RecordID, &c.Field, &c.RegionPath, &kind, &c.BaseVersion, &c.Kept,
			&sv, &sm, &cv, &cm, &c.CreatedAt, &resolvedAt, &resolvedBy, &res); err != nil {
			return nil, fmt.Errorf("storage: scan conflict: %w", classify(err))
		}
		c.Kind, c.ServerValue, c.ClientValue, c.Resolution = models.Kind(kind), sv, cv, res
		_ = json.Unmarshal(sm, &c.Server)
		_ = json.Unmarshal(cm, &c.Client)
		if resolvedAt.Valid {
			t := resolvedAt.Time
			c.ResolvedAt = &t
		}
		c.ResolvedBy = nullUUID(resolvedBy)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConflictFilter narrows ListConflicts: conflicts on records inside Scope, open ones unless All,
// newest first, before the (created_at, id) of the previous page's last row.
type ConflictFilter struct {
	Scope    models.Scope
	All      bool
	RecordID *uuid.UUID
	BeforeAt time.Time
	BeforeID uuid.UUID
	Limit    int
}

// ListConflicts returns one page of conflicts.
func (s *Store) ListConflicts(ctx context.Context, f ConflictFilter) ([]models.Conflict, error) {
	kinds := kindStrings(f.Scope.Kinds)
	before := f.BeforeAt
	if before.IsZero() {
		before = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT `+conflictCols+` FROM conflicts
		WHERE region_path LIKE $1 AND (cardinality($2::text[]) = 0 OR kind = ANY($2::text[]))
		  AND ($3 OR resolved_at IS NULL) AND ($4::uuid IS NULL OR record_id = $4)
		  AND (created_at, id) < ($5, $6)
		ORDER BY created_at DESC, id DESC LIMIT $7`,
		likePrefix(f.Scope.RegionPath), kinds, f.All, f.RecordID, before, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("storage: list conflicts: %w", classify(err))
	}
	return scanConflicts(rows)
}

// GetConflict loads one conflict, locking it when called inside a transaction with lock.
func (s *Store) GetConflict(ctx context.Context, id uuid.UUID, lock bool) (models.Conflict, error) {
	q := `SELECT ` + conflictCols + ` FROM conflicts WHERE id = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	rows, err := s.raw(ctx).QueryContext(ctx, q, id)
	if err != nil {
		return models.Conflict{}, fmt.Errorf("storage: get conflict: %w", classify(err))
	}
	cs, err := scanConflicts(rows)
	if err != nil {
		return models.Conflict{}, err
	}
	if len(cs) == 0 {
		return models.Conflict{}, fmt.Errorf("storage: conflict %s: %w", id, ErrNotFound)
	}
	return cs[0], nil
}

// GetConflicts loads conflicts by id (for pull).
func (s *Store) GetConflicts(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]models.Conflict, error) {
	out := map[uuid.UUID]models.Conflict{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT `+conflictCols+` FROM conflicts WHERE id = ANY($1::uuid[])`, uuidStrings(ids))
	if err != nil {
		return nil, fmt.Errorf("storage: get conflicts: %w", classify(err))
	}
	cs, err := scanConflicts(rows)
	for _, c := range cs {
		out[c.ID] = c
	}
	return out, err
}

// ResolveConflict marks a conflict resolved by userID with resolution (the chosen value and why).
func (s *Store) ResolveConflict(ctx context.Context, id, userID uuid.UUID, resolution json.RawMessage) error {
	return s.exec(ctx, "resolve conflict", `UPDATE conflicts SET resolved_at = now(), resolved_by = $2, resolution = $3::jsonb
		WHERE id = $1`, id, userID, string(resolution))
}

// ScanUserConflicts returns one bootstrap page of the open conflicts a user is party to (their
// value was overwritten, or they overwrote one), ordered by id after after.
func (s *Store) ScanUserConflicts(ctx context.Context, userID, after uuid.UUID, limit int) ([]models.Conflict, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT `+conflictCols+` FROM conflicts
		WHERE resolved_at IS NULL AND (server_meta->>'user_id' = $1::text OR client_meta->>'user_id' = $1::text) AND id > $2
		ORDER BY id LIMIT $3`, userID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: scan conflicts: %w", classify(err))
	}
	return scanConflicts(rows)
}
