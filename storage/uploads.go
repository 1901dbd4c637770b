package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Upload states.
const (
	UploadReceiving  = "receiving"
	UploadDone       = "done"
	UploadFailed     = "failed"
	UploadTerminated = "terminated"
)

// Upload is one tus upload as PostgreSQL keeps it: who sends it, how far it got, and the sha256
// state after Offset bytes. The bytes themselves are parts in the blob store.
type Upload struct {
	ID          uuid.UUID
	PhotoID     uuid.UUID
	UserID      uuid.UUID
	DeviceID    string
	Length      int64
	Offset      int64
	SHA256      string
	HashState   []byte
	Filename    string
	ContentType string
	Metadata    string
	State       string
	Failure     string
	ExpiresAt   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// UploadPart is one stored run of an upload's bytes.
type UploadPart struct {
	Offset int64
	Size   int64
	Key    string
}

const uploadCols = `id, photo_id, user_id, device_id, length, upload_offset, sha256, hash_state, filename, content_type,
	metadata, state, failure, expires_at, created_at, updated_at`

func scanUpload(row interface{ Scan(...any) error }) (Upload, error) {
	var u Upload
	err := row.Scan(&u.ID, &u.PhotoID, &u.UserID, &u.DeviceID, &u.Length, &u.Offset, &u.SHA256, &u.HashState, &u.Filename,
		&u.ContentType, &u.Metadata, &u.State, &u.Failure, &u.ExpiresAt, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return Upload{}, fmt.Errorf("storage: upload: %w", classify(err))
	}
	return u, nil
}

// CreateUpload stores a new upload at offset 0.
func (s *Store) CreateUpload(ctx context.Context, u Upload) error {
	return s.exec(ctx, "create upload", `INSERT INTO uploads (id, photo_id, user_id, device_id, length, sha256, hash_state,
			filename, content_type, metadata, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		u.ID, u.PhotoID, u.UserID, u.DeviceID, u.Length, u.SHA256, u.HashState, u.Filename, u.ContentType, u.Metadata, u.ExpiresAt)
}

// GetUpload reads an upload; ErrNotFound when there is none.
func (s *Store) GetUpload(ctx context.Context, id uuid.UUID) (Upload, error) {
	return scanUpload(s.raw(ctx).QueryRowContext(ctx, `SELECT `+uploadCols+` FROM uploads WHERE id = $1`, id))
}

// CountReceivingUploads counts a user's unfinished, unexpired uploads.
func (s *Store) CountReceivingUploads(ctx context.Context, userID uuid.UUID) (int, error) {
	var n int
	err := s.raw(ctx).QueryRowContext(ctx, `SELECT count(*) FROM uploads WHERE user_id = $1 AND state = 'receiving'
		AND expires_at > now()`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage: count uploads: %w", classify(err))
	}
	return n, nil
}

// CommitUploadParts records parts already written to the blob store and moves the upload from
// offset from to from+their size, with the sha256 state after them, in one statement. It succeeds
// only if the upload is still receiving at offset from: false means another request moved it
// first (the caller deletes its parts and answers 409).
func (s *Store) CommitUploadParts(ctx context.Context, id uuid.UUID, from int64, parts []UploadPart, hashState []byte,
	expires time.Time) (bool, error) {
	var n int64
	offsets, sizes, keys := make([]int64, len(parts)), make([]int64, len(parts)), make([]string, len(parts))
	for i, p := range parts {
		n += p.Size
		offsets[i], sizes[i], keys[i] = p.Offset, p.Size, p.Key
	}
	var inserted int
	err := s.raw(ctx).QueryRowContext(ctx, `WITH moved AS (
			UPDATE uploads SET upload_offset = upload_offset + $3, hash_state = $4, expires_at = $5, updated_at = now()
			WHERE id = $1 AND upload_offset = $2 AND state = 'receiving' AND upload_offset + $3 <= length
			RETURNING id),
		ins AS (
			INSERT INTO upload_parts (upload_id, part_offset, size, key)
			SELECT moved.id, p.o, p.s, p.k FROM moved, unnest($6::bigint[], $7::bigint[], $8::text[]) AS p(o, s, k)
			RETURNING 1)
		SELECT count(*) FROM ins`, id, from, n, hashState, expires, offsets, sizes, keys).Scan(&inserted)
	if err != nil {
		return false, fmt.Errorf("storage: commit upload parts: %w", classify(err))
	}
	return inserted == len(parts) && len(parts) > 0, nil
}

// UploadParts lists an upload's parts in offset order.
func (s *Store) UploadParts(ctx context.Context, id uuid.UUID) ([]UploadPart, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT part_offset, size, key FROM upload_parts WHERE upload_id = $1
		ORDER BY part_offset`, id)
	if err != nil {
		return nil, fmt.Errorf("storage: upload parts: %w", classify(err))
	}
	defer rows.Close()
	var out []UploadPart
	for rows.Next() {
		var p UploadPart
		if err := rows.Scan(&p.Offset, &p.Size, &p.Key); err != nil {
			return nil, fmt.Errorf("storage: upload parts: %w", classify(err))
		}
		out = append(out, p)
	}
	return out, classify(rows.Err())
}

// FinishUpload moves a receiving upload to done, failed or terminated and forgets its parts
// (the caller deletes their objects). It returns false when the upload was not receiving.
func (s *Store) FinishUpload(ctx context.Context, id uuid.UUID, state, failure string) (bool, error) {
	var ok bool
	err := s.InTx(ctx, func(tx *Store) error {
		res, err := tx.raw(ctx).ExecContext(ctx, `UPDATE uploads SET state = $2, failure = $3, hash_state = NULL, updated_at = now()
			WHERE id = $1 AND state = 'receiving'`, id, state, failure)
		if err != nil {
			return classify(err)
		}
		rows, _ := res.RowsAffected()
		ok = rows == 1
		if ok {
			return tx.exec(ctx, "forget upload parts", `DELETE FROM upload_parts WHERE upload_id = $1`, id)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("storage: finish upload: %w", err)
	}
	return ok, nil
}

// ExpiredUploads lists receiving uploads whose expiry passed, oldest first.
func (s *Store) ExpiredUploads(ctx context.Context, now time.Time, limit int) ([]Upload, error) {
	return s.queryUploads(ctx, "expired uploads", `SELECT `+uploadCols+` FROM uploads WHERE state = 'receiving'
		AND expires_at < $1 ORDER BY expires_at LIMIT $2`, now, limit)
}

func (s *Store) queryUploads(ctx context.Context, what, query string, args ...any) ([]Upload, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, classify(err))
	}
	defer rows.Close()
	var out []Upload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, classify(rows.Err())
}

// PruneFinishedUploads deletes the rows of uploads finished (done, failed, terminated) before
// cutoff; their HEAD then answers 404.
func (s *Store) PruneFinishedUploads(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.raw(ctx).ExecContext(ctx, `DELETE FROM uploads WHERE state <> 'receiving' AND updated_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("storage: prune uploads: %w", classify(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// KnownPartKeys reports which of keys are parts of a receiving upload (the janitor deletes
// part objects nobody refers to).
func (s *Store) KnownPartKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT key FROM upload_parts WHERE key = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("storage: known part keys: %w", classify(err))
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, classify(err)
		}
		out[k] = true
	}
	return out, classify(rows.Err())
}

// StuckUploads lists receiving uploads that hold every byte but were not finished (the finishing
// step failed, e.g. the blob store was down) and have not moved since before.
func (s *Store) StuckUploads(ctx context.Context, before time.Time, limit int) ([]Upload, error) {
	return s.queryUploads(ctx, "stuck uploads", `SELECT `+uploadCols+` FROM uploads WHERE state = 'receiving'
		AND upload_offset = length AND updated_at < $1 ORDER BY updated_at LIMIT $2`, before, limit)
}
