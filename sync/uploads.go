package sync

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"regexp"
	"strings"
	gosync "sync"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/google/uuid"
)

// UploadConfig holds the limits of photo uploads.
type UploadConfig struct {
	MaxSize      int64         // the largest photo an upload may announce (default 64 MiB)
	Expiry       time.Duration // an upload untouched this long expires (default 24 h)
	SegmentSize  int           // bytes held in memory per PATCH before they are stored (default 1 MiB)
	MaxReceiving int           // unfinished uploads per user (default 200)
}

// DefaultUploadConfig returns the production limits.
func DefaultUploadConfig() UploadConfig {
	return UploadConfig{MaxSize: models.MaxPhotoBytes, Expiry: 24 * time.Hour, SegmentSize: 1 << 20, MaxReceiving: 200}
}

// Uploads receives photo bytes (the tus protocol's state machine, without HTTP): bytes are stored
// as parts in the blob store as they arrive, the upload's offset and sha256 state move on in
// PostgreSQL, and the last byte turns the parts into one content-addressed photo object.
type Uploads struct {
	engine *Engine
	store  *storage.Store
	blob   blob.Store
	cfg    UploadConfig
	log    *slog.Logger
	pool   gosync.Pool
	wake   chan struct{} // nudges the thumbnail worker
}

// NewUploads builds the upload service.
func NewUploads(e *Engine, b blob.Store, cfg UploadConfig, log *slog.Logger) *Uploads {
	d := DefaultUploadConfig()
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = d.MaxSize
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = d.Expiry
	}
	if cfg.SegmentSize <= 0 {
		cfg.SegmentSize = d.SegmentSize
	}
	if cfg.MaxReceiving <= 0 {
		cfg.MaxReceiving = d.MaxReceiving
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u := &Uploads{engine: e, store: e.store, blob: b, cfg: cfg, log: log, wake: make(chan struct{}, 1)}
	u.pool.New = func() any { b := make([]byte, cfg.SegmentSize); return &b }
	return u
}

// Config returns the upload limits.
func (u *Uploads) Config() UploadConfig { return u.cfg }

// Errors of the upload service; the HTTP layer maps each to its tus status.
var (
	ErrUploadGone      = errors.New("sync: upload failed, expired or was terminated")   // 410
	ErrUploadComplete  = errors.New("sync: the upload is complete")                     // 409, takes no more bytes
	ErrChunkChecksum   = errors.New("sync: chunk checksum mismatch")                    // 460
	ErrFileChecksum    = errors.New("sync: the file's sha256 is not the one announced") // 460, upload failed
	ErrUploadTooLarge  = errors.New("sync: more bytes than the upload's length")        // 413
	ErrPhotoTaken      = errors.New("sync: the photo id belongs to someone else")       // 409
	ErrPhotoBytes      = errors.New("sync: the photo already has other bytes")          // 409
	ErrTooManyUploads  = errors.New("sync: too many unfinished uploads")                // 429
	ErrBodyIncomplete  = errors.New("sync: the request body ended early")               // 400 (bytes kept)
	ErrUnsupportedType = errors.New("sync: not a JPEG, PNG or HEIC image")              // 415, upload failed
)

// ErrOffsetMismatch means a PATCH did not start at the upload's offset (409).
type ErrOffsetMismatch struct{ Expected, Got int64 }

func (e *ErrOffsetMismatch) Error() string {
	return fmt.Sprintf("sync: upload is at offset %d, the request starts at %d", e.Expected, e.Got)
}

// NewUpload is a tus creation request, its metadata decoded.
type NewUpload struct {
	Length      int64
	PhotoID     uuid.UUID
	SHA256      string
	Filename    string
	ContentType string
	RawMetadata string
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate checks a creation request's fields.
func (n *NewUpload) Validate(maxSize int64) error {
	var ve models.ValidationError
	if n.Length <= 0 {
		ve.Add("Upload-Length", "required", "an upload announces its length in bytes (Upload-Defer-Length is not supported)")
	} else if n.Length > maxSize {
		ve.Add("Upload-Length", "out_of_range", "a photo may be at most %d bytes", maxSize)
	}
	if n.PhotoID == uuid.Nil {
		ve.Add("Upload-Metadata.photo_id", "required", "the metadata must name the photo_id (a UUID made on the phone)")
	}
	n.SHA256 = strings.ToLower(n.SHA256)
	if !sha256RE.MatchString(n.SHA256) {
		ve.Add("Upload-Metadata.sha256", "invalid", "the metadata must carry the file's sha256 as 64 hex digits")
	}
	ve.CheckText("Upload-Metadata.filename", n.Filename, false, 255)
	n.Filename = models.SanitizeFilename(n.Filename) // stored and later shown in Content-Disposition
	ve.CheckText("Upload-Metadata.content_type", n.ContentType, false, 100)
	if len(n.RawMetadata) > 4096 {
		ve.Add("Upload-Metadata", "too_long", "upload metadata must be at most 4096 bytes")
	}
	return ve.Err()
}

// Create starts an upload for a photo. The photo id must be free or the caller's own, and must
// not already hold other bytes.
func (u *Uploads) Create(ctx context.Context, a Actor, n NewUpload) (storage.Upload, error) {
	if err := n.Validate(u.cfg.MaxSize); err != nil {
		return storage.Upload{}, err
	}
	if a.User.Role == models.RoleAdmin {
		return storage.Upload{}, ErrPhotoTaken
	}
	if b, err := u.store.GetPhotoBlob(ctx, n.PhotoID); err == nil {
		if b.UploadedBy != a.User.ID {
			return storage.Upload{}, ErrPhotoTaken
		}
		if b.SHA256 != n.SHA256 {
			return storage.Upload{}, ErrPhotoBytes
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return storage.Upload{}, err
	}
	if rec, err := u.store.GetRecord(ctx, models.TypePhoto, n.PhotoID); err == nil {
		if rec.CreatedBy != nil && *rec.CreatedBy != a.User.ID {
			return storage.Upload{}, ErrPhotoTaken
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return storage.Upload{}, err
	}
	if k, err := u.store.CountReceivingUploads(ctx, a.User.ID); err != nil {
		return storage.Upload{}, err
	} else if k >= u.cfg.MaxReceiving {
		return storage.Upload{}, ErrTooManyUploads
	}
	state, _ := sha256.New().(encoding.BinaryMarshaler).MarshalBinary()
	up := storage.Upload{ID: uuid.New(), PhotoID: n.PhotoID, UserID: a.User.ID, DeviceID: a.DeviceID, Length: n.Length,
		SHA256: n.SHA256, HashState: state, Filename: n.Filename, ContentType: n.ContentType, Metadata: n.RawMetadata,
		State: storage.UploadReceiving, ExpiresAt: time.Now().Add(u.cfg.Expiry).UTC()}
	if err := u.store.CreateUpload(ctx, up); err != nil {
		return storage.Upload{}, err
	}
	up.CreatedAt, up.UpdatedAt = time.Now().UTC(), time.Now().UTC()
	return up, nil
}

// Get returns the caller's upload (an upload belongs to the device that created it; anyone
// else gets storage.ErrNotFound). An upload whose last byte arrived but was not yet finished
// (the finishing step failed, e.g. the blob store was down) is finished now.
func (u *Uploads) Get(ctx context.Context, a Actor, id uuid.UUID) (storage.Upload, error) {
	up, err := u.store.GetUpload(ctx, id)
	if err != nil {
		return up, err
	}
	if up.UserID != a.User.ID || up.DeviceID != a.DeviceID {
		return storage.Upload{}, storage.ErrNotFound
	}
	if up.State == storage.UploadReceiving && up.Offset == up.Length {
		if err := u.finish(ctx, up); err != nil {
			return up, err
		}
		return u.store.GetUpload(ctx, id)
	}
	return up, nil
}

// live checks that an upload may still take bytes.
func (u *Uploads) live(up storage.Upload) error {
	switch {
	case up.State == storage.UploadFailed || up.State == storage.UploadTerminated:
		return ErrUploadGone
	case up.State == storage.UploadReceiving && time.Now().After(up.ExpiresAt):
		return ErrUploadGone
	}
	return nil
}

// Terminate ends an upload and deletes the bytes it received (tus termination). A finished
// upload's photo stays.
func (u *Uploads) Terminate(ctx context.Context, a Actor, id uuid.UUID) error {
	up, err := u.store.GetUpload(ctx, id)
	if err != nil {
		return err
	}
	if up.UserID != a.User.ID || up.DeviceID != a.DeviceID {
		return storage.ErrNotFound
	}
	if up.State != storage.UploadReceiving {
		return ErrUploadGone
	}
	return u.abandon(ctx, up, storage.UploadTerminated, "terminated by the client")
}

// abandon ends an upload in state and deletes its parts' objects.
func (u *Uploads) abandon(ctx context.Context, up storage.Upload, state, why string) error {
	parts, err := u.store.UploadParts(ctx, up.ID)
	if err != nil {
		return err
	}
	if _, err := u.store.FinishUpload(ctx, up.ID, state, why); err != nil {
		return err
	}
	u.deleteParts(ctx, parts)
	return nil
}

func (u *Uploads) deleteParts(ctx context.Context, parts []storage.UploadPart) {
	for _, p := range parts {
		if err := u.blob.Delete(ctx, p.Key); err != nil {
			// The janitor's sweep removes part objects nobody refers to.
			u.log.Warn("delete upload part", "key", p.Key, "error", err)
		}
	}
}

func partKey(id uuid.UUID, offset int64) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("uploads/%s/%020d-%s", id, offset, hex.EncodeToString(r[:]))
}

// restoreHash rebuilds the sha256 state saved after an upload's offset.
func restoreHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("sync: upload hash state: %w", err)
	}
	return h, nil
}

func marshalHash(h hash.Hash) []byte {
	b, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
	return b
}

// readSegment fills buf from r as far as it can; err is nil when buf is full, io.EOF at the
// body's end, or the read error that cut it short.
func readSegment(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
