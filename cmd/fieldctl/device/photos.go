package device

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
)

// MaxPhotoBytes is the largest photo the server accepts (64 MiB).
const MaxPhotoBytes = 64 << 20

// Photo upload states.
const (
	PhotoPending  = "pending"  // bytes not (completely) uploaded
	PhotoUploaded = "uploaded" // the server has every byte
	PhotoFailed   = "failed"   // refused for good (not an image, too large); see Error
)

// PhotoInput is a photo taken on a visit (and optionally of one of its findings).
type PhotoInput struct {
	VisitID    uuid.UUID
	FindingID  *uuid.UUID
	Path       string    // the image file; it is copied into the phone's home
	Position   *Position // where the phone says it was taken
	CapturedAt time.Time // zero: now
	Caption    string
}

// PendingPhoto is a photo and the state of its upload. UploadURL and Offset survive restarts:
// the next sync asks the server for its offset and goes on from there.
type PendingPhoto struct {
	PhotoID     string `json:"photo_id"`
	VisitID     string `json:"visit_id"`
	Path        string `json:"path"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	UploadURL   string `json:"upload_url,omitempty"`
	Offset      int64  `json:"offset"`
	State       string `json:"state"`
	Error       string `json:"error,omitempty"`
}

// AddPhoto copies a photo into the phone, hashes it, and queues photo.attach and its upload in
// one transaction. It returns the photo's id.
func (d *Device) AddPhoto(ctx context.Context, in PhotoInput) (uuid.UUID, error) {
	if _, err := d.requireHeld(ctx, "visit", in.VisitID); err != nil {
		return uuid.Nil, err
	}
	if in.FindingID != nil {
		if _, err := d.requireHeld(ctx, "finding", *in.FindingID); err != nil {
			return uuid.Nil, err
		}
	}
	src, err := os.Open(in.Path)
	if err != nil {
		return uuid.Nil, err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return uuid.Nil, err
	}
	if fi.Size() == 0 || fi.Size() > MaxPhotoBytes {
		return uuid.Nil, fmt.Errorf("%s: a photo has 1 byte to %d MiB, this one %d bytes", in.Path, MaxPhotoBytes>>20, fi.Size())
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(src, head)
	ctype := photoType(head[:n], in.Path)
	if ctype == "" {
		return uuid.Nil, fmt.Errorf("%s is not a JPEG, PNG or HEIC image", in.Path)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return uuid.Nil, err
	}
	id := uuid.New()
	dst := filepath.Join(d.home, "photos", id.String()+strings.ToLower(filepath.Ext(in.Path)))
	sum, size, err := copyHashed(dst, src)
	if err != nil {
		return uuid.Nil, err
	}
	if in.CapturedAt.IsZero() {
		in.CapturedAt = d.now()
	}
	args := map[string]any{"photo_id": id, "visit_id": in.VisitID, "finding_id": in.FindingID,
		"captured_at": in.CapturedAt.Format(time.RFC3339), "caption": in.Caption, "sha256": sum}
	if in.Position != nil {
		args["position"] = in.Position
	}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO photos(photo_id, visit_id, path, filename, content_type, sha256, size, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id.String(), in.VisitID.String(), dst, filepath.Base(in.Path), ctype, sum, size, d.stamp()); err != nil {
			return err
		}
		_, err := d.enqueueTx(ctx, tx, "photo.attach", args)
		return err
	})
	if err != nil {
		os.Remove(dst)
		return uuid.Nil, err
	}
	return id, nil
}

// photoType names an image's content type from its first bytes (HEIC by its name), "" for others.
func photoType(head []byte, name string) string {
	switch ct := http.DetectContentType(head); ct {
	case "image/jpeg", "image/png":
		return ct
	}
	ext := strings.ToLower(filepath.Ext(name))
	if (ext == ".heic" || ext == ".heif") && len(head) > 12 && string(head[4:8]) == "ftyp" {
		return "image/heic"
	}
	return ""
}

// copyHashed copies src to dst (through a temporary file) and returns the hex SHA-256 and size.
func copyHashed(dst string, src io.Reader) (string, int64, error) {
	tmp := dst + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(src, MaxPhotoBytes+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > MaxPhotoBytes {
		err = errors.New("the photo grew past the limit while being copied")
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// PendingPhotos lists the photos whose upload is not finished (pending) or failed.
func (d *Device) PendingPhotos(ctx context.Context) ([]PendingPhoto, error) {
	return loadPhotos(ctx, d.db, `state != 'uploaded'`)
}

// Photos lists every photo taken on this phone with its upload state.
func (d *Device) Photos(ctx context.Context) ([]PendingPhoto, error) {
	return loadPhotos(ctx, d.db, `1 = 1`)
}

func loadPhotos(ctx context.Context, q queryer, where string) ([]PendingPhoto, error) {
	rows, err := q.QueryContext(ctx, `SELECT photo_id, visit_id, path, filename, content_type, sha256, size, upload_url,
		upload_offset, state, error FROM photos WHERE `+where+` ORDER BY created_at, photo_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingPhoto
	for rows.Next() {
		var p PendingPhoto
		if err := rows.Scan(&p.PhotoID, &p.VisitID, &p.Path, &p.Filename, &p.ContentType, &p.SHA256, &p.Size,
			&p.UploadURL, &p.Offset, &p.State, &p.Error); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// savePhotoState stores an upload's URL, offset and state.
func (d *Device) savePhotoState(ctx context.Context, p *PendingPhoto) error {
	_, err := d.db.ExecContext(ctx, `UPDATE photos SET upload_url = ?, upload_offset = ?, state = ?, error = ? WHERE photo_id = ?`,
		p.UploadURL, p.Offset, p.State, p.Error, p.PhotoID)
	return err
}
