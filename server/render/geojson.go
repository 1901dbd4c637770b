package render

import (
	"encoding/json"
	"io"
	"strconv"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// GeoJSON writes an RFC 7946 FeatureCollection, one Feature per visit: the patrol track as a
// LineString for fire patrols that have one, else a Point at the position the visit recorded,
// else at its site, else a null geometry. Coordinates are [lon, lat] in WGS-84. Properties are
// the visit's JSON row plus geometry_source (track, position, site, or null).
type GeoJSON struct {
	w   io.Writer
	n   int
	buf []byte
	err error
}

// TrackLines calls fn with the track of each of the fire patrols ids that has one, in the order
// of ids (storage.Store.TrackLines bound to a context).
type TrackLines func(ids []uuid.UUID, fn func(id uuid.UUID, line [][2]float64) error) error

// NewGeoJSON starts a FeatureCollection on w.
func NewGeoJSON(w io.Writer) *GeoJSON {
	g := &GeoJSON{w: w}
	_, g.err = io.WriteString(w, `{"type":"FeatureCollection","features":[`)
	return g
}

// Features writes one feature per row, with the tracks of its fire patrols read by tracks.
func (g *GeoJSON) Features(rows []storage.VisitReportRow, tracks TrackLines) error {
	if g.err != nil {
		return g.err
	}
	var patrols []uuid.UUID
	for i := range rows {
		if rows[i].Kind == models.KindFirePatrol {
			patrols = append(patrols, rows[i].ID)
		}
	}
	next := 0
	// Tracks come one at a time in the rows' order; the rows before each are written first.
	err := tracks(patrols, func(id uuid.UUID, line [][2]float64) error {
		for ; next < len(rows); next++ {
			if rows[next].ID == id {
				err := g.feature(&rows[next], line)
				next++
				return err
			}
			if err := g.feature(&rows[next], nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for ; next < len(rows); next++ {
		if err := g.feature(&rows[next], nil); err != nil {
			return err
		}
	}
	return nil
}

func appendCoord(b []byte, lon, lat float64) []byte {
	b = append(b, '[')
	b = strconv.AppendFloat(b, lon, 'f', -1, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, lat, 'f', -1, 64)
	return append(b, ']')
}

func (g *GeoJSON) feature(r *storage.VisitReportRow, line [][2]float64) error {
	b := g.buf[:0]
	if g.n > 0 {
		b = append(b, ',')
	}
	g.n++
	b = append(b, `{"type":"Feature","id":"`...)
	b = append(b, r.ID.String()...)
	b = append(b, `","geometry":`...)
	source := ""
	switch {
	case len(line) >= 2:
		source = "track"
		b = append(b, `{"type":"LineString","coordinates":[`...)
		for i, p := range line {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCoord(b, p[0], p[1])
		}
		b = append(b, "]}"...)
	case r.Lat != nil && r.Lon != nil:
		source = "position"
		b = append(append(append(b, `{"type":"Point","coordinates":`...), appendCoord(nil, *r.Lon, *r.Lat)...), '}')
	case r.SiteID != nil && r.Site.Lat != nil && r.Site.Lon != nil:
		source = "site"
		b = append(append(append(b, `{"type":"Point","coordinates":`...), appendCoord(nil, *r.Site.Lon, *r.Site.Lat)...), '}')
	default:
		b = append(b, "null"...)
	}
	props, err := json.Marshal(geoProperties{NewVisitItem(r), strOrNil(source)})
	if err != nil {
		return err
	}
	b = append(append(append(b, `,"properties":`...), props...), '}')
	g.buf = b
	_, err = g.w.Write(b)
	return err
}

// geoProperties are a feature's properties: the JSON row plus where its geometry came from.
type geoProperties struct {
	VisitItem
	GeometrySource *string `json:"geometry_source"`
}

// Close ends the collection.
func (g *GeoJSON) Close() error {
	if g.err != nil {
		return g.err
	}
	_, err := io.WriteString(g.w, "]}\n")
	return err
}
