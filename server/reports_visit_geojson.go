package server

import (
	"encoding/json"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// visitFeature is GET /v1/reports/visits/{id}?format=geojson: the visit as one RFC 7946 Feature,
// placed as the visit list's GeoJSON places it (its patrol track as a LineString, else a Point at
// its recorded position or its site, else no geometry), with the report's headline as properties.
func (s *Server) visitFeature(c *fiber.Ctx, d *storage.VisitDetail, rep *render.VisitReport) error {
	var geometry any
	source := ""
	err := s.store.TrackLines(c.UserContext(), []uuid.UUID{rep.ID}, func(_ uuid.UUID, line [][2]float64) error {
		geometry, source = map[string]any{"type": "LineString", "coordinates": line}, "track"
		return nil
	})
	if err != nil {
		return err
	}
	if geometry == nil && rep.Position != nil {
		geometry, source = point(rep.Position.Lon, rep.Position.Lat), "position"
	}
	if geometry == nil && d.Site != nil {
		var sd struct {
			Location *models.Point `json:"location"`
		}
		if json.Unmarshal(d.Site.Data, &sd) == nil && sd.Location != nil {
			geometry, source = point(sd.Location.Lon, sd.Location.Lat), "site"
		}
	}
	props := map[string]any{"kind": rep.Kind, "status": rep.Status, "started_at": rep.StartedAt,
		"site_name": nil, "inspector_name": rep.Inspector.Name, "location": nil, "geometry_source": nil}
	if source != "" {
		props["geometry_source"] = source
	}
	if rep.Site != nil {
		props["site_name"] = rep.Site.Name
	}
	if rep.Location != nil {
		props["location"] = rep.Location.Level
	}
	body, err := json.Marshal(map[string]any{"type": "Feature", "id": rep.ID, "geometry": geometry, "properties": props})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, mimeGeoJSON)
	return c.Send(body)
}

func point(lon, lat float64) map[string]any {
	return map[string]any{"type": "Point", "coordinates": [2]float64{lon, lat}}
}
