package demo_test

import (
	"context"

	fsync "github.com/fieldsync/fieldsync/sync"
	"github.com/fieldsync/fieldsync/sync/demo"
	"github.com/fieldsync/fieldsync/sync/synctest"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/google/uuid"
)

// TestLoadDemoPhotos: the demo inspector's photos are uploaded and attached as a phone would, their
// EXIF is read (GPS, time, camera), they get verdicts and thumbnails, and loading again changes nothing.
func TestLoadDemoPhotos(t *testing.T) {
	st, _ := synctest.NewDemoStore(t)
	e := synctest.Engine(st)
	ctx := context.Background()
	now := time.Now()
	if _, err := demo.LoadSites(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.LoadActivity(ctx, e, now); err != nil {
		t.Fatal(err)
	}
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	u := fsync.NewUploads(e, local, fsync.DefaultUploadConfig(), nil)
	n, err := demo.LoadPhotos(ctx, e, u, st, now)
	if err != nil || n != demo.PhotoVisits {
		t.Fatalf("LoadPhotos = %d, %v", n, err)
	}
	for {
		did, err := u.ThumbnailOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !did {
			break
		}
	}
	var ids []uuid.UUID
	rows, err := st.SQL().Query(`SELECT id FROM records WHERE type = 'photo'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != demo.PhotoVisits {
		t.Fatalf("%d photo records", len(ids))
	}
	levels := map[models.VerdictLevel]int{}
	admin, err := e.ActorFor(ctx, "supervisor", "laptop")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		pd, err := e.Photo(ctx, admin, id)
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
	again, err := demo.LoadPhotos(ctx, e, u, st, now)
	var count int
	st.SQL().QueryRow(`SELECT count(*) FROM records WHERE type = 'photo'`).Scan(&count)
	if err != nil || again != n || count != n {
		t.Fatalf("loading again: %d, %v, %d photos", again, err, count)
	}
}
