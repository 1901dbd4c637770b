package sync

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	fastjson "github.com/goccy/go-json"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/photofile"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/google/uuid"
)

// finish turns a complete upload into a photo. It is safe to run again (after a failure, from
// HEAD, a repeated PATCH or the janitor): every step checks what is already there.
func (u *Uploads) finish(ctx context.Context, up storage.Upload) error {
	ctx, cancel := opContext(ctx)
	defer cancel()
	h, err := restoreHash(up.HashState)
	if err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if sum != up.SHA256 {
		if err := u.abandon(ctx, up, storage.UploadFailed, "sha256 mismatch: the bytes hash to "+sum); err != nil {
			return err
		}
		return ErrFileChecksum
	}
	parts, err := u.store.UploadParts(ctx, up.ID)
	if err != nil {
		return err
	}
	ra := newPartsReaderAt(ctx, u.blob, parts, up.Length)
	head := make([]byte, min(int64(photofile.SniffHeadBytes), up.Length))
	if _, err := ra.ReadAt(head, 0); err != nil {
		return err
	}
	ct := photofile.Sniff(head)
	if ct == "" {
		if err := u.abandon(ctx, up, storage.UploadFailed, "not a JPEG, PNG or HEIC image"); err != nil {
			return err
		}
		return ErrUnsupportedType
	}
	key := storage.PhotoKey(sum)
	if _, err := u.blob.Stat(ctx, key); errors.Is(err, blob.ErrNotFound) {
		r := &partsReader{ctx: ctx, store: u.blob, parts: parts}
		err := u.blob.Put(ctx, key, r, up.Length, ct)
		r.Close()
		if err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	b := models.PhotoBlob{SHA256: sum, Size: up.Length, ContentType: ct, Filename: up.Filename,
		Exif: photofile.ReadExif(ra, up.Length, ct), Thumbnail: models.ThumbPending, UploadedAt: time.Now().UTC(),
		UploadedBy: up.UserID}
	if ct == models.ContentHEIC {
		b.Thumbnail, b.ThumbnailError = models.ThumbUnavailable, "HEIC images cannot be decoded here; the original is kept"
	} else if st, e, err := u.store.ThumbnailState(ctx, sum); err == nil && st != models.ThumbPending {
		b.Thumbnail, b.ThumbnailError = st, e // the same bytes were uploaded before: reuse their thumbnail
	}
	err = u.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.LockPhoto(ctx, up.PhotoID); err != nil {
			return err
		}
		created, err := tx.InsertPhotoBlob(ctx, up.PhotoID, b, up.DeviceID)
		if err != nil {
			return err
		}
		if !created {
			have, err := tx.GetPhotoBlob(ctx, up.PhotoID)
			if err != nil {
				return err
			}
			if have.UploadedBy != up.UserID {
				return ErrPhotoTaken
			}
			if have.SHA256 != sum { // two uploads of one photo id with different bytes raced
				return ErrPhotoBytes
			}
		}
		if _, err := tx.FinishUpload(ctx, up.ID, storage.UploadDone, ""); err != nil {
			return err
		}
		if !created {
			return nil
		}
		actor := Actor{User: models.User{ID: up.UserID}, DeviceID: up.DeviceID}
		return u.engine.syncPhotoRecords(ctx, tx, actor, []uuid.UUID{up.PhotoID})
	})
	if err != nil {
		if errors.Is(err, ErrPhotoBytes) || errors.Is(err, ErrPhotoTaken) {
			if aerr := u.abandon(ctx, up, storage.UploadFailed, err.Error()); aerr != nil {
				return aerr
			}
		}
		return err
	}
	u.deleteParts(ctx, parts)
	if b.Thumbnail == models.ThumbPending {
		u.Wake()
	}
	return nil
}

// syncPhotoRecords copies what photo_blobs holds into the photo records (those attached), then
// recomputes their status and verdict and logs the changes. Call inside a transaction.
func (e *Engine) syncPhotoRecords(ctx context.Context, tx *storage.Store, a Actor, ids []uuid.UUID) error {
	w := newWork(ctx, tx, a, uuid.Nil, e.registry)
	refs := make([]Ref, len(ids))
	for i, id := range ids {
		refs[i] = Ref{models.TypePhoto, id}
	}
	if err := w.prefetch(refs); err != nil {
		return err
	}
	for _, id := range ids {
		rec, err := w.Record(models.TypePhoto, id)
		if err != nil {
			return err
		}
		if rec == nil || rec.DeletedAt != nil {
			continue // the photo waits for its attach
		}
		b, err := tx.GetPhotoBlob(ctx, id)
		if err != nil {
			return err
		}
		var pd models.PhotoData
		if err := json.Unmarshal(rec.Data, &pd); err != nil {
			return err
		}
		pd.Blob = &b
		pd.Status = photoStatus(&pd)
		cp := *rec
		cp.Version++
		cp.Data, _ = fastjson.Marshal(&pd)
		cp.Status, cp.UpdatedAt = pd.Status, w.now
		w.Put(&cp, nil)
	}
	if err := e.refreshPhotos(w); err != nil {
		return err
	}
	return w.commit()
}

// partsReaderAt reads an upload's bytes across its parts. The first 256 KiB (where EXIF and the
// image header live) are read once and kept.
type partsReaderAt struct {
	ctx    context.Context
	store  blob.Store
	parts  []storage.UploadPart
	length int64
	head   []byte
}

const headCache = 256 << 10

func newPartsReaderAt(ctx context.Context, s blob.Store, parts []storage.UploadPart, length int64) *partsReaderAt {
	return &partsReaderAt{ctx: ctx, store: s, parts: parts, length: length}
}

func (p *partsReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if p.head == nil {
		n := min(int64(headCache), p.length)
		p.head = make([]byte, n)
		if _, err := p.readAt(p.head, 0); err != nil {
			p.head = nil
			return 0, err
		}
	}
	if off+int64(len(b)) <= int64(len(p.head)) {
		return copy(b, p.head[off:]), nil
	}
	return p.readAt(b, off)
}

func (p *partsReaderAt) readAt(b []byte, off int64) (int, error) {
	if off >= p.length {
		return 0, io.EOF
	}
	n := 0
	for n < len(b) && off < p.length {
		i := sort.Search(len(p.parts), func(i int) bool { return p.parts[i].Offset+p.parts[i].Size > off })
		if i == len(p.parts) || p.parts[i].Offset > off {
			return n, fmt.Errorf("sync: upload parts do not cover offset %d", off)
		}
		part := p.parts[i]
		within := off - part.Offset
		want := min(int64(len(b)-n), part.Size-within)
		r, err := p.store.GetRange(p.ctx, part.Key, within, want)
		if err != nil {
			return n, err
		}
		k, err := io.ReadFull(r, b[n:n+int(want)])
		r.Close()
		n += k
		off += int64(k)
		if err != nil {
			return n, err
		}
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// partsReader streams an upload's parts in order, opening one at a time.
type partsReader struct {
	ctx   context.Context
	store blob.Store
	parts []storage.UploadPart
	cur   io.ReadCloser
}

func (p *partsReader) Read(b []byte) (int, error) {
	for {
		if p.cur == nil {
			if len(p.parts) == 0 {
				return 0, io.EOF
			}
			r, _, err := p.store.Get(p.ctx, p.parts[0].Key)
			if err != nil {
				return 0, err
			}
			p.cur, p.parts = r, p.parts[1:]
		}
		n, err := p.cur.Read(b)
		if err == io.EOF {
			p.cur.Close()
			p.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (p *partsReader) Close() {
	if p.cur != nil {
		p.cur.Close()
		p.cur = nil
	}
}
