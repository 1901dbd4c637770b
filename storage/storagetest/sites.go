package storagetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// SiteIDs are the test sites StoreSites writes, one per kind of field work: a project, a village
// plot, a patrol area and a dealer, in or under the demo township 211522105 (东升镇).
var SiteIDs = map[models.Kind]uuid.UUID{
	models.KindProjectVisit:   uuid.MustParse("5e7e0000-0000-4000-8000-000000000001"),
	models.KindPlantingCheck:  uuid.MustParse("5e7e0000-0000-4000-8000-000000000002"),
	models.KindFirePatrol:     uuid.MustParse("5e7e0000-0000-4000-8000-000000000003"),
	models.KindAgriInputCheck: uuid.MustParse("5e7e0000-0000-4000-8000-000000000004"),
}

// StoreSites writes the test sites straight into the records table (no change log: phones do not
// pull them unless a test logs them). Storing them twice is harmless. The patrol area has no
// boundary, so a track on it has no coverage.
func StoreSites(t testing.TB, st *storage.Store) {
	t.Helper()
	ctx := context.Background()
	town, err := st.GetRegionByCode(ctx, "211522105")
	if err != nil {
		t.Fatal(err)
	}
	village, err := st.GetRegionByCode(ctx, "211522105201")
	if err != nil {
		t.Fatal(err)
	}
	loc := map[string]any{"lat": 41.9, "lon": 121.6}
	sites := []struct {
		kind   models.Kind
		region models.Region
		data   map[string]any
	}{
		{models.KindProjectVisit, town, map[string]any{"kind": "project", "name": "东升镇光伏产业园", "location": loc,
			"investment_wan": 52000, "stage": "under_construction", "responsible_leader": "王明", "lead_unit": "发改委"}},
		{models.KindPlantingCheck, village, map[string]any{"kind": "village_plot", "name": "玉米示范田", "location": loc,
			"crop": "玉米", "planned_area_mu": 320}},
		{models.KindFirePatrol, town, map[string]any{"kind": "patrol_area", "name": "东升镇 1 号包保片区", "location": nil,
			"responsible_person": "李强"}},
		{models.KindAgriInputCheck, town, map[string]any{"kind": "dealer", "name": "东升农资经销部", "location": loc,
			"licence_number": "91211522MA0000001X", "owner": "赵刚"}},
	}
	recs := make([]models.Record, 0, len(sites))
	for _, s := range sites {
		id := SiteIDs[s.kind]
		s.data["id"], s.data["region_id"], s.data["work_kind"], s.data["status"] = id, s.region.ID, s.kind, models.SiteActive
		data, _ := json.Marshal(s.data)
		rid := s.region.ID
		recs = append(recs, models.Record{Type: models.TypeSite, ID: id, Kind: s.kind, RegionID: &rid,
			RegionPath: s.region.Path, Status: models.SiteActive, Version: 1, Data: data,
			FieldMeta: map[string]models.FieldMeta{}, CreatedAt: time.Now(), UpdatedAt: time.Now()})
	}
	if err := st.SaveRecords(ctx, recs, true); err != nil && !errors.Is(err, storage.ErrConflict) {
		t.Fatal(err)
	}
}
