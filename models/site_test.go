package models

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func validSite(k SiteKind) Site {
	f := func(v float64) *float64 { return &v }
	s := Site{ID: uuid.New(), Kind: k, WorkKind: k.WorkKind(), Name: "测试", RegionID: uuid.New(), Status: SiteActive,
		Location: &Point{Lat: 42, Lon: 121}}
	switch k {
	case SiteProject:
		s.InvestmentWan, s.Stage, s.ResponsibleLeader, s.LeadUnit = f(0), "reserve", "王志强", "市发改委"
	case SiteVillagePlot:
		s.Crop, s.PlannedAreaMu = "大豆", f(12.5)
	case SitePatrolArea:
		s.Location = nil
		s.Boundary = json.RawMessage(`{"type":"MultiPolygon","coordinates":[[[[121,42],[121.1,42],[121.1,42.1],[121,42]]]]}`)
		s.ResponsiblePerson = "赵刚"
	case SiteDealer:
		s.LicenceNumber, s.Owner = "92211521MA0ABCDE1X", "刘春生"
	}
	return s
}

func errFields(ve *ValidationError) string {
	var fs []string
	for _, e := range ve.Errors {
		fs = append(fs, e.Field+":"+e.Code)
	}
	return strings.Join(fs, ",")
}

func TestSiteKindsServeOneWorkKind(t *testing.T) {
	seen := map[Kind]bool{}
	for _, k := range SiteKinds {
		w := k.WorkKind()
		if !w.Valid() || seen[w] || len(k.RegionLevels()) == 0 {
			t.Fatalf("%s serves %q", k, w)
		}
		seen[w] = true
	}
	if SiteKind("shop").WorkKind() != "" || SiteKind("shop").Valid() {
		t.Fatal("unknown site kind accepted")
	}
}

func TestSiteValidate(t *testing.T) {
	for _, k := range SiteKinds {
		s := validSite(k)
		var ve ValidationError
		s.Validate(&ve)
		if ve.Err() != nil {
			t.Fatalf("valid %s refused: %v", k, ve.Err())
		}
	}
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		kind SiteKind
		edit func(*Site)
		want string
	}{
		{SiteProject, func(s *Site) { s.InvestmentWan = f(-0.01) }, "investment_wan:out_of_range"},
		{SiteProject, func(s *Site) { s.PlannedStart, s.PlannedFinish = "2026-05-01", "2026-04-30" }, "planned_finish:invalid"},
		{SiteProject, func(s *Site) { s.PlannedStart = "01/05/2026" }, "planned_start:invalid"},
		{SiteProject, func(s *Site) { s.Location = nil }, "location:required"},
		{SiteVillagePlot, func(s *Site) { s.PlannedAreaMu = f(-3) }, "planned_area_mu:out_of_range"},
		{SiteVillagePlot, func(s *Site) { s.Owner = "x" }, "owner:invalid"},
		{SitePatrolArea, func(s *Site) { s.Boundary = json.RawMessage(`{"type":"Polygon","coordinates":[]}`) }, "boundary:invalid"},
		{SitePatrolArea, func(s *Site) { s.Location = &Point{Lat: 42, Lon: 200} }, "location.lon:out_of_range"},
		{SiteDealer, func(s *Site) { s.LicenceNumber = "abc" }, "licence_number:invalid"},
		{SiteDealer, func(s *Site) { s.Status = "gone" }, "status:invalid"},
		{SiteDealer, func(s *Site) { s.ID = uuid.Nil }, "id:required"},
	}
	for _, tc := range cases {
		s := validSite(tc.kind)
		tc.edit(&s)
		var ve ValidationError
		s.Validate(&ve)
		if got := errFields(&ve); got != tc.want {
			t.Errorf("%s: errors %q, want %q", tc.kind, got, tc.want)
		}
	}
}

func TestValidateSiteRegion(t *testing.T) {
	for _, tc := range []struct {
		kind  SiteKind
		level RegionLevel
		ok    bool
	}{
		{SiteProject, LevelCounty, true}, {SiteProject, LevelTownship, true}, {SiteProject, LevelVillage, false},
		{SiteVillagePlot, LevelVillage, true}, {SiteVillagePlot, LevelTownship, false},
		{SitePatrolArea, LevelTownship, true}, {SitePatrolArea, LevelCity, false},
		{SiteDealer, LevelTownship, true}, {SiteDealer, LevelCounty, false},
	} {
		var ve ValidationError
		ValidateSiteRegion(&ve, "region_id", tc.kind, &Region{Level: tc.level})
		if (ve.Err() == nil) != tc.ok {
			t.Errorf("%s in a %s: %v", tc.kind, tc.level, ve.Err())
		}
	}
	var ve ValidationError
	ValidateSiteRegion(&ve, "region_id", SiteDealer, nil)
	if errFields(&ve) != "region_id:required" {
		t.Fatal(errFields(&ve))
	}
}
