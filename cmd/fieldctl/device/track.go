package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
)

// Track limits (the server's): points per track.append and points per track.
const (
	TrackChunkPoints = 2000
	MaxTrackPoints   = 50000
	maxGPXBytes      = 64 << 20
)

// TrackPoint is one GPS fix.
type TrackPoint struct {
	T         time.Time `json:"t"`
	Lat       float64   `json:"lat"`
	Lon       float64   `json:"lon"`
	AccuracyM *float64  `json:"accuracy_m,omitempty"`
	CRS       string    `json:"crs,omitempty"`
}

// gpx is the part of GPX 1.0/1.1 a patrol track needs: track points (route points when there
// is no track), with time.
type gpx struct {
	Tracks []struct {
		Segments []struct {
			Points []gpxPoint `xml:"trkpt"`
		} `xml:"trkseg"`
	} `xml:"trk"`
	Routes []struct {
		Points []gpxPoint `xml:"rtept"`
	} `xml:"rte"`
}

type gpxPoint struct {
	Lat  float64  `xml:"lat,attr"`
	Lon  float64  `xml:"lon,attr"`
	Time string   `xml:"time"`
	HDOP *float64 `xml:"hdop"`
}

// ParseGPX reads the timed points of a GPX file, in file order. GPX positions are WGS-84; a
// point's accuracy is taken from hdop (× 5 m) when present.
func ParseGPX(r io.Reader) ([]TrackPoint, error) {
	var g gpx
	dec := xml.NewDecoder(io.LimitReader(r, maxGPXBytes))
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("not a GPX file: %w", err)
	}
	var raw []gpxPoint
	for _, t := range g.Tracks {
		for _, s := range t.Segments {
			raw = append(raw, s.Points...)
		}
	}
	if len(raw) == 0 {
		for _, rt := range g.Routes {
			raw = append(raw, rt.Points...)
		}
	}
	if len(raw) == 0 {
		return nil, errors.New("the GPX file has no track points")
	}
	if len(raw) > MaxTrackPoints {
		return nil, fmt.Errorf("the GPX file has %d points; a track keeps at most %d", len(raw), MaxTrackPoints)
	}
	out := make([]TrackPoint, 0, len(raw))
	for i, p := range raw {
		t, err := time.Parse(time.RFC3339, p.Time)
		if err != nil {
			return nil, fmt.Errorf("track point %d has no valid time (%q)", i+1, p.Time)
		}
		tp := TrackPoint{T: t.UTC(), Lat: p.Lat, Lon: p.Lon, CRS: "wgs84"}
		if p.HDOP != nil && *p.HDOP >= 0 {
			acc := *p.HDOP * 5
			tp.AccuracyM = &acc
		}
		out = append(out, tp)
	}
	return out, nil
}

// TrackImport says what ImportTrack queued.
type TrackImport struct {
	Points int `json:"points"`
	Chunks int `json:"chunks"`
}

// ImportTrack reads a GPX file and queues its points for a fire-patrol visit (see AppendTrack).
func (d *Device) ImportTrack(ctx context.Context, visitID uuid.UUID, r io.Reader) (TrackImport, error) {
	pts, err := ParseGPX(r)
	if err != nil {
		return TrackImport{}, err
	}
	return d.AppendTrack(ctx, visitID, pts)
}

// AppendTrack queues points as track.append mutations of at most TrackChunkPoints each, with
// this phone's next chunk numbers for the visit, all in one transaction.
func (d *Device) AppendTrack(ctx context.Context, visitID uuid.UUID, pts []TrackPoint) (TrackImport, error) {
	v, err := d.requireHeld(ctx, "visit", visitID)
	if err != nil {
		return TrackImport{}, err
	}
	var vd struct {
		Kind string `json:"kind"`
	}
	_ = json.Unmarshal(v.Data, &vd)
	if vd.Kind != "fire_patrol" {
		return TrackImport{}, fmt.Errorf("tracks belong to fire_patrol visits; this visit is %s", vd.Kind)
	}
	if len(pts) == 0 {
		return TrackImport{}, errors.New("no points")
	}
	var out TrackImport
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		var next int
		err := tx.QueryRowContext(ctx, `SELECT next_chunk FROM track_chunks WHERE visit_id = ?`, visitID.String()).Scan(&next)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		for i := 0; i < len(pts); i += TrackChunkPoints {
			chunk := pts[i:min(i+TrackChunkPoints, len(pts))]
			wire := make([]map[string]any, len(chunk))
			for j, p := range chunk {
				m := map[string]any{"t": p.T.UTC().Format(time.RFC3339Nano), "lat": p.Lat, "lon": p.Lon, "crs": p.CRS}
				if p.CRS == "" {
					m["crs"] = "wgs84"
				}
				if p.AccuracyM != nil {
					m["accuracy_m"] = *p.AccuracyM
				}
				wire[j] = m
			}
			args := map[string]any{"visit_id": visitID, "chunk": next, "points": wire}
			if _, err := d.enqueueTx(ctx, tx, "track.append", args); err != nil {
				return err
			}
			next++
			out.Chunks++
			out.Points += len(chunk)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO track_chunks(visit_id, next_chunk) VALUES (?, ?)
			ON CONFLICT(visit_id) DO UPDATE SET next_chunk = excluded.next_chunk`, visitID.String(), next)
		return err
	})
	return out, err
}
