package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// PhotoKey is the object key of a photo's bytes: content-addressed, so the same bytes are stored once.
func PhotoKey(sha256 string) string { return "photos/" + sha256[:2] + "/" + sha256 }

// ThumbnailKey is the object key of a photo's thumbnail.
func ThumbnailKey(sha256 string) string { return "thumbs/" + sha256[:2] + "/" + sha256 + ".jpg" }

const photoBlobCols = `photo_id, sha256, size, content_type, filename, exif, thumb_state, thumb_error, uploaded_by, uploaded_at`

func scanPhotoBlob(row interface{ Scan(...any) error }) (uuid.UUID, models.PhotoBlob, error) {
	var id uuid.UUID
	var b models.PhotoBlob
	var exif []byte
	if err := row.Scan(&id, &b.SHA256, &b.Size, &b.ContentType, &b.Filename, &exif, &b.Thumbnail, &b.ThumbnailError,
		&b.UploadedBy, &b.UploadedAt); err != nil {
		return uuid.Nil, b, fmt.Errorf("storage: photo blob: %w", classify(err))
	}
	if len(exif) > 0 {
		b.Exif = &models.PhotoExif{}
		_ = json.Unmarshal(exif, b.Exif)
	}
	b.UploadedAt = b.UploadedAt.UTC()
	return id, b, nil
}

// GetPhotoBlob reads what the upload of a photo delivered; ErrNotFound before it finished.
func (s *Store) GetPhotoBlob(ctx context.Context, photoID uuid.UUID) (models.PhotoBlob, error) {
	_, b, err := scanPhotoBlob(s.raw(ctx).QueryRowContext(ctx, `SELECT `+photoBlobCols+` FROM photo_blobs WHERE photo_id = $1`, photoID))
	return b, err
}

// InsertPhotoBlob records a finished upload. created is false when the photo already had its
// bytes (the caller compares hashes).
func (s *Store) InsertPhotoBlob(ctx context.Context, photoID uuid.UUID, b models.PhotoBlob, device string) (bool, error) {
	exif, _ := json.Marshal(b.Exif)
	res, err := s.raw(ctx).ExecContext(ctx, `INSERT INTO photo_blobs (photo_id, sha256, size, content_type, filename, exif,
			thumb_state, thumb_error, uploaded_by, uploaded_device, uploaded_at)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11) ON CONFLICT (photo_id) DO NOTHING`,
		photoID, b.SHA256, b.Size, b.ContentType, b.Filename, string(exif), b.Thumbnail, b.ThumbnailError, b.UploadedBy,
		device, b.UploadedAt)
	if err != nil {
		return false, fmt.Errorf("storage: insert photo blob: %w", classify(err))
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ThumbnailState returns the thumbnail state another photo with the same bytes already has, so a
// duplicate upload reuses its thumbnail; ErrNotFound when these bytes are new.
func (s *Store) ThumbnailState(ctx context.Context, sha256 string) (state, errText string, err error) {
	err = s.raw(ctx).QueryRowContext(ctx, `SELECT thumb_state, thumb_error FROM photo_blobs WHERE sha256 = $1
		ORDER BY (thumb_state = 'pending') LIMIT 1`, sha256).Scan(&state, &errText)
	if err != nil {
		return "", "", fmt.Errorf("storage: thumbnail state: %w", classify(err))
	}
	return state, errText, nil
}

// ThumbJob is a photo's bytes waiting for their thumbnail.
type ThumbJob struct {
	SHA256      string
	ContentType string
	Orientation int
	PhotoIDs    []uuid.UUID
}

// ClaimThumbJob locks one sha256 whose thumbnail is pending (skipping those another worker holds)
// and returns it with every photo sharing those bytes. Call inside a transaction; nil when none.
func (s *Store) ClaimThumbJob(ctx context.Context) (*ThumbJob, error) {
	var j ThumbJob
	var exif []byte
	err := s.raw(ctx).QueryRowContext(ctx, `SELECT sha256, content_type, exif FROM photo_blobs WHERE thumb_state = 'pending'
		ORDER BY uploaded_at LIMIT 1 FOR UPDATE SKIP LOCKED`).Scan(&j.SHA256, &j.ContentType, &exif)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: claim thumbnail: %w", classify(err))
	}
	var e models.PhotoExif
	if json.Unmarshal(exif, &e) == nil {
		j.Orientation = e.Orientation
	}
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT photo_id FROM photo_blobs WHERE sha256 = $1 FOR UPDATE`, j.SHA256)
	if err != nil {
		return nil, fmt.Errorf("storage: claim thumbnail: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, classify(err)
		}
		j.PhotoIDs = append(j.PhotoIDs, id)
	}
	return &j, classify(rows.Err())
}

// SetThumbnail records the thumbnail outcome for every photo with these bytes.
func (s *Store) SetThumbnail(ctx context.Context, sha256, state, errText string) error {
	return s.exec(ctx, "set thumbnail", `UPDATE photo_blobs SET thumb_state = $2, thumb_error = $3 WHERE sha256 = $1`,
		sha256, state, errText)
}

// PhotoIDsOfVisits lists the live photo records attached to the visits.
func (s *Store) PhotoIDsOfVisits(ctx context.Context, visitIDs []uuid.UUID) ([]uuid.UUID, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT id FROM records WHERE type = 'photo' AND parent_id = ANY($1)
		AND deleted_at IS NULL ORDER BY id`, uuidStrings(visitIDs))
	if err != nil {
		return nil, fmt.Errorf("storage: photos of visits: %w", classify(err))
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, classify(err)
		}
		out = append(out, id)
	}
	return out, classify(rows.Err())
}

// SetVisitLocation stores a visit's rolled-up location verdict; photos = 0 removes it.
func (s *Store) SetVisitLocation(ctx context.Context, visitID uuid.UUID, v models.Verdict, photos int) error {
	if photos == 0 {
		return s.exec(ctx, "clear visit location", `DELETE FROM visit_location WHERE visit_id = $1`, visitID)
	}
	reasons, _ := json.Marshal(v.Reasons)
	return s.exec(ctx, "set visit location", `INSERT INTO visit_location (visit_id, level, reasons, photos, updated_at)
		VALUES ($1, $2, $3::jsonb, $4, now())
		ON CONFLICT (visit_id) DO UPDATE SET level = EXCLUDED.level, reasons = EXCLUDED.reasons, photos = EXCLUDED.photos,
			updated_at = now()`, visitID, string(v.Level), string(reasons), photos)
}

// GetVisitLocation reads a visit's rolled-up verdict; ErrNotFound for a visit without photos.
func (s *Store) GetVisitLocation(ctx context.Context, visitID uuid.UUID) (models.Verdict, int, error) {
	var v models.Verdict
	var level string
	var reasons []byte
	var n int
	err := s.raw(ctx).QueryRowContext(ctx, `SELECT level, reasons, photos FROM visit_location WHERE visit_id = $1`, visitID).
		Scan(&level, &reasons, &n)
	if err != nil {
		return v, 0, fmt.Errorf("storage: visit location: %w", classify(err))
	}
	v.Level = models.VerdictLevel(level)
	_ = json.Unmarshal(reasons, &v.Reasons)
	return v, n, nil
}

// LockPhoto serialises the two halves of a photo (the attach and the end of its upload) for the
// rest of the transaction, so whichever commits second sees the other.
func (s *Store) LockPhoto(ctx context.Context, photoID uuid.UUID) error {
	return s.exec(ctx, "lock photo", `SELECT pg_advisory_xact_lock(7236103, hashtext($1::text))`, photoID)
}
