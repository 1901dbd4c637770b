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

const recordCols = `type, id, kind, region_id, region_path, parent_id, status, version, data, field_meta,
	created_by, created_at, updated_at, deleted_at`

// recordColsNoMeta is recordCols for reads that only send records (pull): the per-field merge
// metadata is neither read nor decoded.
var recordColsNoMeta = strings.Replace(recordCols, "field_meta", "'{}'::jsonb", 1)

func scanRecords(rows *sql.Rows) ([]models.Record, error) {
	defer rows.Close()
	var out []models.Record
	for rows.Next() {
		var r models.Record
		var kind string
		var region, parent, createdBy uuid.NullUUID
		var data, meta []byte
		var deleted sql.NullTime
		if err := rows.Scan(&r.Type, &r.ID, &kind, &region, &r.RegionPath, &parent, &r.Status, &r.Version, &data, &meta,
			&createdBy, &r.CreatedAt, &r.UpdatedAt, &deleted); err != nil {
			return nil, fmt.Errorf("storage: scan record: %w", classify(err))
		}
		r.Kind = models.Kind(kind)
		r.RegionID, r.ParentID, r.CreatedBy = nullUUID(region), nullUUID(parent), nullUUID(createdBy)
		r.Data = data
		if err := json.Unmarshal(meta, &r.FieldMeta); err != nil {
			return nil, fmt.Errorf("storage: record field meta: %w", err)
		}
		if deleted.Valid {
			t := deleted.Time
			r.DeletedAt = &t
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: records: %w", classify(err))
	}
	return out, nil
}

func nullUUID(n uuid.NullUUID) *uuid.UUID {
	if !n.Valid {
		return nil
	}
	id := n.UUID
	return &id
}

func uuidStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func optString[T any](p *T, f func(T) string) string {
	if p == nil {
		return ""
	}
	return f(*p)
}

// LockRecords loads the records of one type with the given ids (tombstones included) and locks
// them until the transaction ends, so concurrent pushes to one record merge one after the other.
// Must be called inside InTx.
func (s *Store) LockRecords(ctx context.Context, typ string, ids []uuid.UUID) (map[uuid.UUID]models.Record, error) {
	return s.loadRecords(ctx, typ, ids, " FOR UPDATE")
}

// GetRecords loads records of one type by id without locking and without their merge metadata
// (pull).
func (s *Store) GetRecords(ctx context.Context, typ string, ids []uuid.UUID) (map[uuid.UUID]models.Record, error) {
	return s.loadRecords(ctx, typ, ids, "")
}

func (s *Store) loadRecords(ctx context.Context, typ string, ids []uuid.UUID, lock string) (map[uuid.UUID]models.Record, error) {
	cols := recordCols
	if lock == "" {
		cols = recordColsNoMeta
	}
	out := make(map[uuid.UUID]models.Record, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT `+cols+` FROM records WHERE type = $1 AND id = ANY($2::uuid[])`+lock,
		typ, uuidStrings(ids))
	if err != nil {
		return nil, fmt.Errorf("storage: load records: %w", classify(err))
	}
	recs, err := scanRecords(rows)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		out[r.ID] = r
	}
	return out, nil
}

// GetRecord loads one record (tombstones included).
func (s *Store) GetRecord(ctx context.Context, typ string, id uuid.UUID) (models.Record, error) {
	m, err := s.GetRecords(ctx, typ, []uuid.UUID{id})
	if err != nil {
		return models.Record{}, err
	}
	r, ok := m[id]
	if !ok {
		return models.Record{}, fmt.Errorf("storage: %s %s: %w", typ, id, ErrNotFound)
	}
	return r, nil
}

// SaveRecords writes records (insert or replace by type and id) in one statement. Records created
// in this transaction go with create set: then a row that appeared meanwhile (another install
// creating the same id at the same moment) is ErrConflict instead of being overwritten.
func (s *Store) SaveRecords(ctx context.Context, recs []models.Record, create bool) error {
	if len(recs) == 0 {
		return nil
	}
	n := len(recs)
	typ, id, kind, region, path, parent, status := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	version := make([]int64, n)
	data, meta, createdBy, deleted := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	idStr := func(u uuid.UUID) string { return u.String() }
	for i, r := range recs {
		m, err := json.Marshal(r.FieldMeta)
		if err != nil {
			return fmt.Errorf("storage: record field meta: %w", err)
		}
		typ[i], id[i], kind[i], path[i], status[i], version[i] = r.Type, r.ID.String(), string(r.Kind), r.RegionPath, r.Status, r.Version
		region[i], parent[i], createdBy[i] = optString(r.RegionID, idStr), optString(r.ParentID, idStr), optString(r.CreatedBy, idStr)
		data[i], meta[i] = string(r.Data), string(m)
		deleted[i] = optString(r.DeletedAt, func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) })
	}
	onConflict := ` ON CONFLICT (type, id) DO UPDATE SET kind = excluded.kind, region_id = excluded.region_id,
		region_path = excluded.region_path, parent_id = excluded.parent_id, status = excluded.status,
		version = excluded.version, data = excluded.data, field_meta = excluded.field_meta,
		updated_at = now(), deleted_at = excluded.deleted_at`
	if create {
		onConflict = ""
	}
	return s.exec(ctx, "save records", `INSERT INTO records AS r (type, id, kind, region_id, region_path, parent_id, status, version,
			data, field_meta, created_by, deleted_at)
		SELECT t, i::uuid, k, NULLIF(rg, '')::uuid, rp, NULLIF(p, '')::uuid, st, v, d::jsonb, fm::jsonb, NULLIF(cb, '')::uuid,
			NULLIF(del, '')::timestamptz
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
			$9::text[], $10::text[], $11::text[], $12::text[]) AS u(t, i, k, rg, rp, p, st, v, d, fm, cb, del)`+onConflict,
		typ, id, kind, region, path, parent, status, version, data, meta, createdBy, deleted)
}

// ScanRecords returns one bootstrap page of live records of a type inside scope, ordered by id
// after afterID (uuid.Nil = from the start). Kinds filter only records that have a kind.
func (s *Store) ScanRecords(ctx context.Context, typ string, scope models.Scope, afterID uuid.UUID, limit int) ([]models.Record, error) {
	kinds := kindStrings(scope.Kinds)
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT `+recordColsNoMeta+` FROM records
		WHERE type = $1 AND deleted_at IS NULL AND id > $2 AND region_path LIKE $3
		  AND (cardinality($4::text[]) = 0 OR kind = '' OR kind = ANY($4::text[]))
		ORDER BY id LIMIT $5`, typ, afterID, likePrefix(scope.RegionPath), kinds, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: scan records: %w", classify(err))
	}
	return scanRecords(rows)
}

// LockChildren returns the ids of the live records of a type whose parent is parentID, locked.
func (s *Store) LockChildren(ctx context.Context, typ string, parentID uuid.UUID) ([]uuid.UUID, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT id FROM records WHERE type = $1 AND parent_id = $2 AND deleted_at IS NULL
		FOR UPDATE`, typ, parentID)
	if err != nil {
		return nil, fmt.Errorf("storage: children: %w", classify(err))
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("storage: children: %w", classify(err))
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
