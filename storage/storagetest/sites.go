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
	regions := map[models.Kind]models.Region{models.KindProjectVisit: town, models.KindPlantingCheck: village,
		models.KindFirePatrol: town, models.KindAgriInputCheck: town}
	recs := make([]models.Record, 0, len(models.Kinds))
	for _, k := range models.Kinds {
		recs = append(recs, siteRecord(SiteIDs[k], k, regions[k]))
	}
	if err := st.SaveRecords(ctx, recs, true); err != nil && !errors.Is(err, storage.ErrConflict) {
		t.Fatal(err)
	}
}

// siteRecord is a test site of the site kind kind needs, in region.
func siteRecord(id uuid.UUID, kind models.Kind, region models.Region) models.Record {
	loc := map[string]any{"lat": 41.9, "lon": 121.6}
	var data map[string]any
	switch kind {
	case models.KindProjectVisit:
		data = map[string]any{"kind": "project", "name": "东升镇光伏产业园", "location": loc,
			"investment_wan": 52000, "stage": "under_construction", "responsible_leader": "王明", "lead_unit": "发改委"}
	case models.KindPlantingCheck:
		data = map[string]any{"kind": "village_plot", "name": "玉米示范田", "location": loc, "crop": "玉米", "planned_area_mu": 320}
	case models.KindFirePatrol:
		data = map[string]any{"kind": "patrol_area", "name": "东升镇 1 号包保片区", "location": nil, "responsible_person": "李强"}
	case models.KindAgriInputCheck:
		data = map[string]any{"kind": "dealer", "name": "东升农资经销部", "location": loc,
			"licence_number": "91211522MA0000001X", "owner": "赵刚"}
	}
	data["id"], data["region_id"], data["work_kind"], data["status"] = id, region.ID, kind, models.SiteActive
	raw, _ := json.Marshal(data)
	rid := region.ID
	return models.Record{Type: models.TypeSite, ID: id, Kind: kind, RegionID: &rid, RegionPath: region.Path,
		Status: models.SiteActive, Version: 1, Data: raw, FieldMeta: map[string]models.FieldMeta{},
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
}

// regionSiteNamespace makes the ids of the sites StoreRegionSites writes.
var regionSiteNamespace = uuid.MustParse("5e7e0000-0000-4000-8000-0000000000ff")

// SiteIn is the id of the test site of kind that StoreRegionSites places in the region with id
// regionID: a visit placed in that region may name it, as a visit's site must lie in its region.
func SiteIn(kind models.Kind, regionID uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(regionSiteNamespace, []byte(string(kind)+"/"+regionID.String()))
}

// StoreRegionSites writes, like StoreSites, one test site of every kind into each of regions (ids
// SiteIn), for tests that place visits outside the test township. Storing them twice is
// harmless. Report tests leave them out: the sites would count in their figures.
func StoreRegionSites(t testing.TB, st *storage.Store, regions ...models.Region) {
	t.Helper()
	recs := make([]models.Record, 0, len(regions)*len(models.Kinds))
	for _, r := range regions {
		for _, k := range models.Kinds {
			recs = append(recs, siteRecord(SiteIn(k, r.ID), k, r))
		}
	}
	if err := st.SaveRecords(context.Background(), recs, true); err != nil && !errors.Is(err, storage.ErrConflict) {
		t.Fatal(err)
	}
}
