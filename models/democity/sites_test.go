package democity_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/google/uuid"
)

func TestSites(t *testing.T) {
	sites := democity.Sites()
	if !reflect.DeepEqual(sites, democity.Sites()) {
		t.Fatal("Sites is not deterministic")
	}
	levels := map[string]string{}
	for _, r := range democity.Regions() {
		levels[r.Code] = r.Level
	}
	counts := map[string]int{}
	keys := map[string]bool{}
	zones := map[string]bool{}
	for _, s := range sites {
		counts[s.Kind]++
		if keys[s.Key] {
			t.Fatalf("key %s twice", s.Key)
		}
		keys[s.Key] = true
		if s.DevelopmentZone != "" {
			zones[s.DevelopmentZone] = true
		}
		lvl, ok := levels[s.RegionCode]
		if !ok {
			t.Fatalf("%s: unknown region %s", s.Key, s.RegionCode)
		}
		ms := models.Site{ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte(s.Key)), Kind: models.SiteKind(s.Kind), Name: s.Name,
			Status: models.SiteActive, Stage: models.ProjectStage(s.Stage), DevelopmentZone: s.DevelopmentZone,
			ResponsibleLeader: s.ResponsibleLeader, LeadUnit: s.LeadUnit, PlannedStart: s.PlannedStart,
			PlannedFinish: s.PlannedFinish, Crop: s.Crop, ResponsiblePerson: s.ResponsiblePerson,
			LicenceNumber: s.LicenceNumber, Owner: s.Owner}
		ms.WorkKind = ms.Kind.WorkKind()
		if s.Kind != democity.SiteKindPatrolArea {
			ms.Location = &models.Point{Lat: s.Lat, Lon: s.Lon}
		} else {
			ms.Boundary = json.RawMessage(s.Boundary)
			if _, err := models.AreaFromGeoJSON(ms.Boundary); err != nil {
				t.Fatalf("%s: boundary %v", s.Key, err)
			}
		}
		if s.Kind == democity.SiteKindProject {
			ms.InvestmentWan = &s.InvestmentWan
		}
		if s.Kind == democity.SiteKindVillagePlot {
			ms.PlannedAreaMu = &s.PlannedAreaMu
		}
		var ve models.ValidationError
		ms.Validate(&ve)
		models.ValidateSiteRegion(&ve, "region_id", ms.Kind, &models.Region{Level: models.RegionLevel(lvl)})
		if err := ve.Err(); err != nil {
			t.Fatalf("%s (%s): %v", s.Key, s.Name, err)
		}
	}
	want := map[string]int{democity.SiteKindProject: 230, democity.SiteKindPatrolArea: 60, democity.SiteKindDealer: 100,
		democity.SiteKindVillagePlot: 150}
	if !reflect.DeepEqual(counts, want) {
		t.Fatalf("counts %v", counts)
	}
	if len(zones) != 7 {
		t.Fatalf("%d development zones used", len(zones))
	}
}
