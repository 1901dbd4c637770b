package sync

import (
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/google/uuid"
)

// TestLoadDemoPhotos: the demo inspector's photos are uploaded and attached as a phone would, their
// EXIF is read (GPS, time, camera), they get verdicts and thumbnails, and loading again changes nothing.
func TestLoadDemoPhotos(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	if _, err := e.store.LoadDemoSites(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.LoadDemoActivity(e.ctx, now); err != nil {
		t.Fatal(err)
	}
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	u := NewUploads(e.engine, local, DefaultUploadConfig(), nil)
	n, err := u.LoadDemoPhotos(e.ctx, now)
	if err != nil || n != demoPhotoVisits {
		t.Fatalf("LoadDemoPhotos = %d, %v", n, err)
	}
	for {
		did, err := u.ThumbnailOnce(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !did {
			break
		}
	}
	var ids []uuid.UUID
	rows, err := e.store.SQL().Query(`SELECT id FROM records WHERE type = 'photo'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != demoPhotoVisits {
		t.Fatalf("%d photo records", len(ids))
	}
	levels := map[models.VerdictLevel]int{}
	admin := e.actor("supervisor", "laptop")
	for _, id := range ids {
		pd, err := e.engine.Photo(e.ctx, admin, id)
		if err != nil {
			t.Fatal(err)
		}
		if pd.Blob == nil || pd.Blob.Exif == nil || pd.Blob.Exif.Lat == nil || pd.Blob.Exif.TakenAt == nil ||
			pd.Blob.Exif.Make != "fieldsync" || len(pd.Blob.Exif.Errors) != 0 || pd.Blob.Thumbnail != models.ThumbReady {
			t.Fatalf("photo %s: %+v", id, pd.Blob)
		}
		levels[pd.Verdict.Level]++
	}
	if levels[models.VerdictFail] == 0 || levels[models.VerdictFail] == len(ids) {
		t.Errorf("verdicts %v: want some photos off the site and most on it", levels)
	}
	again, err := u.LoadDemoPhotos(e.ctx, now)
	var count int
	e.store.SQL().QueryRow(`SELECT count(*) FROM records WHERE type = 'photo'`).Scan(&count)
	if err != nil || again != n || count != n {
		t.Fatalf("loading again: %d, %v, %d photos", again, err, count)
	}
}
