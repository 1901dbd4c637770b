package sync

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// Photo returns a photo's metadata as the actor may see it: an attached photo to everyone whose
// scope covers its visit; a photo uploaded but not yet attached only to its uploader. Anything
// else is storage.ErrNotFound, so ids outside a scope reveal nothing.
func (e *Engine) Photo(ctx context.Context, a Actor, id uuid.UUID) (models.PhotoData, error) {
	rec, err := e.store.GetRecord(ctx, models.TypePhoto, id)
	switch {
	case err == nil && rec.DeletedAt == nil:
		if !a.Scope.Covers(rec.RegionPath, rec.Kind) {
			return models.PhotoData{}, storage.ErrNotFound
		}
		var pd models.PhotoData
		if err := json.Unmarshal(rec.Data, &pd); err != nil {
			return pd, err
		}
		return pd, nil
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return models.PhotoData{}, err
	}
	b, err := e.store.GetPhotoBlob(ctx, id)
	if err != nil {
		return models.PhotoData{}, err
	}
	if b.UploadedBy != a.User.ID {
		return models.PhotoData{}, storage.ErrNotFound
	}
	return models.PhotoData{ID: id, Status: models.PhotoUploaded, Blob: &b,
		Verdict: models.Verdict{Level: models.VerdictPending, Reasons: []models.VerdictReason{}}}, nil
}
