package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

func TestGeoJSON(t *testing.T) {
	lat, lon, siteLat, siteLon := 41.5, 121.25, 42.0, 120.5
	patrol, other, atSite, nowhere := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	siteID := uuid.New()
	rows := []storage.VisitReportRow{
		{ID: other, Kind: models.KindProjectVisit, Lat: &lat, Lon: &lon},
		{ID: patrol, Kind: models.KindFirePatrol, Lat: &lat, Lon: &lon},
		{ID: atSite, Kind: models.KindPlantingCheck, SiteID: &siteID, Site: storage.ReportSite{Name: "地块", Lat: &siteLat, Lon: &siteLon}},
		{ID: nowhere, Kind: models.KindAgriInputCheck},
	}
	var asked []uuid.UUID
	tracks := func(ids []uuid.UUID, fn func(uuid.UUID, [][2]float64) error) error {
		asked = ids
		return fn(patrol, [][2]float64{{121, 41}, {121.5, 41.5}})
	}
	var buf bytes.Buffer
	g := NewGeoJSON(&buf)
	if err := g.Features(rows, tracks); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != patrol {
		t.Fatalf("tracks asked for %v, want the patrol only", asked)
	}
	var fc struct {
		Type     string
		Features []struct {
			ID       string
			Geometry *struct {
				Type        string
				Coordinates json.RawMessage
			}
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &fc); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.Bytes())
	}
	want := []struct {
		id     uuid.UUID
		typ    string
		coords string
		source any
	}{
		{other, "Point", "[121.25,41.5]", "position"},
		{patrol, "LineString", "[[121,41],[121.5,41.5]]", "track"},
		{atSite, "Point", "[120.5,42]", "site"},
		{nowhere, "", "", nil},
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != len(want) {
		t.Fatalf("%s with %d features", fc.Type, len(fc.Features))
	}
	for i, w := range want {
		f := fc.Features[i]
		if f.ID != w.id.String() || f.Properties["id"] != w.id.String() || f.Properties["geometry_source"] != w.source {
			t.Errorf("feature %d: id %s, properties %v", i, f.ID, f.Properties)
		}
		switch {
		case w.typ == "" && f.Geometry != nil:
			t.Errorf("feature %d: geometry %+v, want null", i, f.Geometry)
		case w.typ != "" && (f.Geometry == nil || f.Geometry.Type != w.typ || string(f.Geometry.Coordinates) != w.coords):
			t.Errorf("feature %d: geometry %+v, want %s %s", i, f.Geometry, w.typ, w.coords)
		}
	}
}

func TestGeoJSONStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	g := NewGeoJSON(&bytes.Buffer{})
	err := g.Features([]storage.VisitReportRow{{ID: uuid.New(), Kind: models.KindFirePatrol}},
		func([]uuid.UUID, func(uuid.UUID, [][2]float64) error) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want the tracks' error", err)
	}
}
