package sync

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/photofile"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/blob"
)

// Wake nudges the thumbnail worker (a finished upload has a thumbnail to make).
func (u *Uploads) Wake() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// RunThumbnails makes thumbnails until ctx ends: whenever woken, and every interval in case a
// wake-up went to another instance or a try failed. Jobs live in PostgreSQL (photo_blobs with a
// pending thumbnail), so a restart loses none and several instances share them.
func (u *Uploads) RunThumbnails(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			did, err := u.ThumbnailOnce(ctx)
			if err != nil {
				u.log.Warn("thumbnail", "error", err)
				break
			}
			if !did {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-u.wake:
		case <-t.C:
		}
	}
}

// ThumbnailOnce makes one pending thumbnail; false when none is pending. A photo that cannot be
// decoded gets the state "unavailable" with the reason; a store that is down leaves the job
// pending for the next try.
func (u *Uploads) ThumbnailOnce(ctx context.Context) (bool, error) {
	did := false
	err := u.store.InTx(ctx, func(tx *storage.Store) error {
		job, err := tx.ClaimThumbJob(ctx)
		if err != nil || job == nil {
			return err
		}
		did = true
		state, why := models.ThumbReady, ""
		r, _, err := u.blob.Get(ctx, storage.PhotoKey(job.SHA256))
		if err != nil {
			return err
		}
		thumb, err := photofile.Thumbnail(r, job.ContentType, job.Orientation)
		r.Close()
		switch {
		case errors.Is(err, blob.ErrUnavailable):
			return err
		case err != nil:
			state, why = models.ThumbUnavailable, err.Error()
		default:
			if err := u.blob.Put(ctx, storage.ThumbnailKey(job.SHA256), bytes.NewReader(thumb), int64(len(thumb)),
				models.ContentJPEG); err != nil {
				return err
			}
		}
		if err := tx.SetThumbnail(ctx, job.SHA256, state, why); err != nil {
			return err
		}
		return u.engine.syncPhotoRecords(ctx, tx, Actor{}, job.PhotoIDs)
	})
	return did, err
}

// JanitorReport says what one janitor pass did.
type JanitorReport struct {
	Expired, Finished, Pruned, Swept int
}

// Janitor expires abandoned uploads (deleting their parts), finishes uploads whose finishing
// step failed, forgets finished uploads after keep, and deletes part objects nobody refers to.
func (u *Uploads) Janitor(ctx context.Context, now time.Time, keep time.Duration) (JanitorReport, error) {
	var rep JanitorReport
	expired, err := u.store.ExpiredUploads(ctx, now, 500)
	if err != nil {
		return rep, err
	}
	for _, up := range expired {
		if err := u.abandon(ctx, up, storage.UploadFailed, "expired"); err != nil {
			return rep, err
		}
		rep.Expired++
	}
	stuck, err := u.store.StuckUploads(ctx, now.Add(-time.Minute), 100)
	if err != nil {
		return rep, err
	}
	for _, up := range stuck {
		if err := u.finish(ctx, up); err != nil && !errors.Is(err, ErrFileChecksum) && !errors.Is(err, ErrUnsupportedType) &&
			!errors.Is(err, ErrPhotoBytes) && !errors.Is(err, ErrPhotoTaken) {
			return rep, err
		}
		rep.Finished++
	}
	n, err := u.store.PruneFinishedUploads(ctx, now.Add(-keep))
	if err != nil {
		return rep, err
	}
	rep.Pruned = int(n)
	rep.Swept, err = u.sweep(ctx, now.Add(-time.Hour))
	return rep, err
}

// sweep deletes part objects older than before that no upload refers to (left by a PATCH whose
// commit failed, or by a crash between storing a part and recording it).
func (u *Uploads) sweep(ctx context.Context, before time.Time) (int, error) {
	swept, after := 0, ""
	for {
		infos, err := u.blob.List(ctx, "uploads/", after, 1000)
		if err != nil || len(infos) == 0 {
			return swept, err
		}
		keys := make([]string, len(infos))
		for i, in := range infos {
			keys[i] = in.Key
		}
		known, err := u.store.KnownPartKeys(ctx, keys)
		if err != nil {
			return swept, err
		}
		for _, in := range infos {
			if !known[in.Key] && in.Modified.Before(before) {
				if err := u.blob.Delete(ctx, in.Key); err != nil {
					return swept, err
				}
				swept++
			}
		}
		after = infos[len(infos)-1].Key
	}
}
