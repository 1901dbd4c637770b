package sync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"time"

	"github.com/fieldsync/fieldsync/models/photofile"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// opTimeout bounds each store call a PATCH makes. A PATCH itself may take as long as the phone
// needs to send its body, so these calls do not share the request's deadline.
const opTimeout = 30 * time.Second

func opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
}

// Patch appends a request body to an upload that is at offset (tus PATCH) and returns the new
// offset. contentLength is the body's declared size (-1 when unknown). checksum, when not nil,
// is the sha256 the whole body must have (tus checksum extension): the bytes are then kept only
// if it matches. Without one, every segment is kept as soon as it is stored, so a connection
// cut midway loses nothing received and the phone resumes from the last stored byte.
//
// The last byte finishes the upload: the whole file's sha256 is checked (ErrFileChecksum fails
// the upload), the parts become one content-addressed object, EXIF is read, and the photo record
// (when the attach arrived first) is completed.
func (u *Uploads) Patch(ctx context.Context, a Actor, id uuid.UUID, offset, contentLength int64, body io.Reader,
	checksum []byte) (int64, error) {
	up, err := u.store.GetUpload(ctx, id)
	if err != nil {
		return 0, err
	}
	if up.UserID != a.User.ID || up.DeviceID != a.DeviceID {
		return 0, storage.ErrNotFound
	}
	if err := u.live(up); err != nil {
		return 0, err
	}
	if up.State == storage.UploadDone {
		return up.Offset, ErrUploadComplete // whatever the offset: a finished upload is never written again
	}
	if offset != up.Offset {
		return up.Offset, &ErrOffsetMismatch{Expected: up.Offset, Got: offset}
	}
	if up.Offset == up.Length {
		return up.Offset, u.finish(ctx, up)
	}
	remaining := up.Length - up.Offset
	if contentLength > remaining {
		return up.Offset, ErrUploadTooLarge
	}
	h, err := restoreHash(up.HashState)
	if err != nil {
		return up.Offset, err
	}
	var chunk hash.Hash
	if checksum != nil {
		chunk = sha256.New()
	}
	bufp := u.pool.Get().(*[]byte)
	defer u.pool.Put(bufp)
	buf := *bufp

	lr := &io.LimitedReader{R: body, N: remaining}
	pos := up.Offset
	var pending []storage.UploadPart
	discard := func() { u.deleteParts(context.WithoutCancel(ctx), pending) }
	var cut error
	for {
		n, rerr := readSegment(lr, buf)
		if n > 0 {
			seg := buf[:n]
			if pos == 0 && photofile.Sniff(seg) == "" {
				discard()
				oc, cancel := opContext(ctx)
				defer cancel()
				if err := u.abandon(oc, up, storage.UploadFailed, "not a JPEG, PNG or HEIC image"); err != nil {
					return up.Offset, err
				}
				return up.Offset, ErrUnsupportedType
			}
			part, err := u.storeSegment(ctx, id, pos, seg)
			if err != nil {
				discard()
				return pos, err
			}
			h.Write(seg)
			if chunk != nil {
				chunk.Write(seg)
				pending = append(pending, part)
			} else if err := u.commit(ctx, id, pos, []storage.UploadPart{part}, h); err != nil {
				return pos, err
			}
			pos += int64(n)
		}
		if rerr != nil {
			if rerr != io.EOF {
				cut = rerr
			}
			break
		}
	}
	if cut == nil && lr.N == 0 {
		// The upload is full: anything more in the body is beyond its length.
		var probe [1]byte
		if k, _ := body.Read(probe[:]); k > 0 {
			cut = ErrUploadTooLarge
		}
	}
	if cut == nil && contentLength >= 0 && pos-up.Offset != contentLength {
		cut = ErrBodyIncomplete
	}
	if chunk != nil {
		switch {
		case cut != nil:
			discard()
			return up.Offset, bodyError(cut)
		case !bytes.Equal(chunk.Sum(nil), checksum):
			discard()
			return up.Offset, ErrChunkChecksum
		}
		if err := u.commit(ctx, id, up.Offset, pending, h); err != nil {
			discard()
			return up.Offset, err
		}
	}
	if cut != nil {
		return pos, bodyError(cut)
	}
	if pos == up.Length {
		up.Offset, up.HashState = pos, marshalHash(h)
		return pos, u.finish(ctx, up)
	}
	return pos, nil
}

func bodyError(err error) error {
	if errors.Is(err, ErrUploadTooLarge) {
		return err
	}
	return errors.Join(ErrBodyIncomplete, err)
}

// storeSegment writes one run of bytes as a part object.
func (u *Uploads) storeSegment(ctx context.Context, id uuid.UUID, pos int64, seg []byte) (storage.UploadPart, error) {
	oc, cancel := opContext(ctx)
	defer cancel()
	key := partKey(id, pos)
	if err := u.blob.Put(oc, key, bytes.NewReader(seg), int64(len(seg)), "application/octet-stream"); err != nil {
		return storage.UploadPart{}, err
	}
	return storage.UploadPart{Offset: pos, Size: int64(len(seg)), Key: key}, nil
}

// commit moves the upload from offset from past parts; when another request moved it first, the
// parts are deleted and the caller hears the offset it should have used.
func (u *Uploads) commit(ctx context.Context, id uuid.UUID, from int64, parts []storage.UploadPart, h hash.Hash) error {
	oc, cancel := opContext(ctx)
	defer cancel()
	ok, err := u.store.CommitUploadParts(oc, id, from, parts, marshalHash(h), time.Now().Add(u.cfg.Expiry).UTC())
	if err != nil {
		u.deleteParts(oc, parts)
		return err
	}
	if !ok {
		u.deleteParts(oc, parts)
		now, err := u.store.GetUpload(oc, id)
		if err != nil {
			return err
		}
		if err := u.live(now); err != nil {
			return err
		}
		return &ErrOffsetMismatch{Expected: now.Offset, Got: from}
	}
	return nil
}
