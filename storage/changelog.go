package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// changeLogLock is the advisory lock key that serialises change-log writers.
const changeLogLock = 7236102

// AppendChanges writes changes to the change log. It first takes the change-log writer lock (a
// transaction-level advisory lock, held until commit), then numbers the rows from change_seq:
// every writer commits before the next one numbers its rows, so seq order is commit order and a
// reader that sees seq n sees every committed seq below n. Call it inside InTx, as the last write
// of the transaction, so the lock is held for as short a time as possible.
//
// It returns the highest seq it assigned (0 when there was nothing to write).
func (s *Store) AppendChanges(ctx context.Context, changes []models.Change) (int64, error) {
	if len(changes) == 0 {
		return 0, nil
	}
	if !s.inTx() {
		return 0, fmt.Errorf("storage: AppendChanges must run inside a transaction")
	}
	if err := s.exec(ctx, "change-log lock", `SELECT pg_advisory_xact_lock($1)`, changeLogLock); err != nil {
		return 0, err
	}
	n := len(changes)
	typ, id, op, kind, path, oldPath, user, client := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]*string, n), make([]string, n), make([]string, n)
	version := make([]int64, n)
	idStr := func(u uuid.UUID) string { return u.String() }
	for i, c := range changes {
		typ[i], id[i], op[i], kind[i], path[i], version[i] = c.RecordType, c.RecordID, c.Op, string(c.Kind), c.RegionPath, c.Version
		oldPath[i] = c.OldRegionPath
		user[i], client[i] = optString(c.AudienceUser, idStr), optString(c.AudienceClient, idStr)
	}
	var maxSeq int64
	err := s.raw(ctx).QueryRowContext(ctx, `WITH ins AS (INSERT INTO change_log (seq, record_type, record_id, op, version, kind,
			region_path, old_region_path, audience_user, audience_client)
		SELECT nextval('change_seq'), t, i, o, v, k, rp, orp, NULLIF(au, '')::uuid, NULLIF(ac, '')::uuid
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
			WITH ORDINALITY AS u(t, i, o, v, k, rp, orp, au, ac, n)
		ORDER BY n RETURNING seq)
		SELECT coalesce(max(seq), 0) FROM ins`, typ, id, op, version, kind, path, oldPath, user, client).Scan(&maxSeq)
	if err != nil {
		return 0, fmt.Errorf("storage: append changes: %w", classify(err))
	}
	return maxSeq, nil
}

// ChangeFilter selects the change-log rows a phone may see: rows addressed to its client or user,
// and unaddressed rows whose region (before or after the change) lies in the scope.
type ChangeFilter struct {
	After    int64
	Limit    int
	Scope    models.Scope
	UserID   uuid.UUID
	ClientID uuid.UUID
}

// Changes returns up to f.Limit change-log rows after f.After in seq order, plus the highest seq
// in the log (read in the same snapshot when called inside a repeatable-read transaction).
func (s *Store) Changes(ctx context.Context, f ChangeFilter) ([]models.Change, int64, error) {
	maxSeq, err := s.ChangeHead(ctx)
	if err != nil {
		return nil, 0, err
	}
	prefix := likePrefix(f.Scope.RegionPath)
	kinds := kindStrings(f.Scope.Kinds)
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT seq, record_type, record_id, op, version, kind, region_path,
			old_region_path, audience_user, audience_client
		FROM change_log
		WHERE seq > $1 AND (
			audience_client = $2 OR audience_user = $3 OR (record_type = 'user' AND record_id = $3::text) OR
			(record_type = 'checklist' AND (cardinality($6::text[]) = 0 OR kind = ANY($6::text[]))) OR
			(audience_client IS NULL AND audience_user IS NULL AND (region_path LIKE $4 OR old_region_path LIKE $4)
			 AND (cardinality($6::text[]) = 0 OR kind = '' OR kind = ANY($6::text[]))))
		ORDER BY seq LIMIT $5`, f.After, f.ClientID, f.UserID, prefix, f.Limit, kinds)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: changes: %w", classify(err))
	}
	defer rows.Close()
	var out []models.Change
	for rows.Next() {
		var c models.Change
		var kind string
		var old sql.NullString
		var user, client uuid.NullUUID
		if err := rows.Scan(&c.Seq, &c.RecordType, &c.RecordID, &c.Op, &c.Version, &kind, &c.RegionPath, &old, &user, &client); err != nil {
			return nil, 0, fmt.Errorf("storage: scan change: %w", classify(err))
		}
		c.Kind = models.Kind(kind)
		if old.Valid {
			c.OldRegionPath = &old.String
		}
		c.AudienceUser, c.AudienceClient = nullUUID(user), nullUUID(client)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("storage: changes: %w", classify(err))
	}
	return out, maxSeq, nil
}

// ChangeHead returns the highest seq in the change log (0 when empty).
func (s *Store) ChangeHead(ctx context.Context) (int64, error) {
	var head int64
	if err := s.raw(ctx).QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM change_log`).Scan(&head); err != nil {
		return 0, fmt.Errorf("storage: change log head: %w", classify(err))
	}
	return head, nil
}

// PrunedThrough returns the seq up to which the change log has been pruned: a cursor below it
// may have missed tombstones and must be reset.
func (s *Store) PrunedThrough(ctx context.Context) (int64, error) {
	var n int64
	if err := s.raw(ctx).QueryRowContext(ctx, `SELECT pruned_through FROM sync_state`).Scan(&n); err != nil {
		return 0, fmt.Errorf("storage: sync state: %w", classify(err))
	}
	return n, nil
}

// PruneChanges deletes change-log rows and tombstones older than cutoff and records how far the
// log was pruned. Returns the number of change rows deleted.
func (s *Store) PruneChanges(ctx context.Context, cutoff time.Time) (int64, error) {
	var deleted int64
	err := s.InTx(ctx, func(tx *Store) error {
		var through sql.NullInt64
		if err := tx.raw(ctx).QueryRowContext(ctx, `WITH d AS (DELETE FROM change_log WHERE at < $1 RETURNING seq)
			SELECT count(*), max(seq) FROM d`, cutoff).Scan(&deleted, &through); err != nil {
			return fmt.Errorf("storage: prune changes: %w", classify(err))
		}
		if !through.Valid {
			return nil
		}
		// Archived sites stay: visits of years past still name them.
		if err := tx.exec(ctx, "prune tombstones", `DELETE FROM records WHERE deleted_at < $1
			AND NOT (type = 'site' AND status = 'archived')`, cutoff); err != nil {
			return err
		}
		return tx.exec(ctx, "sync state", `UPDATE sync_state SET pruned_through = greatest(pruned_through, $1)`, through.Int64)
	})
	return deleted, err
}
