package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// exportTimeout bounds one streamed export (the request deadline ends when the handler returns,
// before the body is written).
const exportTimeout = 30 * time.Minute

var visitColumns = []reportColumn{
	{"走访编号", "Visit ID", colText, 38},
	{"工作类型", "Kind", colText, 18},
	{"状态", "Status", colText, 10},
	{"现场编号", "Site ID", colText, 38},
	{"现场名称", "Site", colText, 30},
	{"县(市)区", "County", colText, 12},
	{"乡镇", "Township", colText, 12},
	{"检查人编号", "Inspector ID", colText, 38},
	{"检查人", "Inspector", colText, 10},
	{"走访时间", "Started at", colTime, 20},
	{"结束时间", "Ended at", colTime, 20},
	{"问题数", "Findings", colInt, 8},
	{"逾期问题数", "Overdue findings", colInt, 8},
	{"位置核验", "Location check", colText, 10},
	{"照片数", "Photos", colInt, 8},
	{"照片链接", "Photo links", colText, 60},
	{"缩略图链接", "Thumbnail links", colText, 60},
}

func uuidText(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

func visitCells(r *storage.VisitReportRow, cells []reportCell) {
	links := func(f func(uuid.UUID) string) string {
		parts := make([]string, len(r.PhotoIDs))
		for i, id := range r.PhotoIDs {
			parts[i] = f(id)
		}
		return strings.Join(parts, " ")
	}
	site := ""
	if r.SiteID != nil {
		site = r.Site.Name
	}
	cells[0], cells[1], cells[2] = textCell(r.ID.String()), textCell(string(r.Kind)), textCell(r.Status)
	cells[3], cells[4], cells[5], cells[6] = textCell(uuidText(r.SiteID)), textCell(site), textCell(r.County), textCell(r.Township)
	cells[7], cells[8] = textCell(uuidText(r.InspectorID)), textCell(r.Inspector)
	cells[9], cells[10] = timeCell(r.StartedAt), timeCell(r.EndedAt)
	cells[11], cells[12], cells[13] = intCell(r.Findings), intCell(r.Overdue), textCell(r.Location)
	cells[14], cells[15], cells[16] = intCell(len(r.PhotoIDs)), textCell(links(photoURL)), textCell(links(thumbnailURL))
}

// exportVisits streams the visit report as CSV, XLSX or GeoJSON: one query opened before the
// response starts (so a failing query is still a problem+json), read in batches while the body is
// written (c.Context().SetBodyStreamWriter), so memory stays flat.
func (s *Server) exportVisits(c *fiber.Ctx, f storage.VisitReportFilter, format string) error {
	ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
	exp, err := s.store.ExportVisits(ctx, f)
	if err != nil {
		cancel()
		return err
	}
	s.streamExport(c, "visits", format, func(w io.Writer) error {
		defer exp.Close() // after cancel: a batch read ahead stops at once
		defer cancel()
		var emit func([]storage.VisitReportRow) error
		var finish func() error
		if format == formatGeoJSON {
			g := newGeoJSONWriter(w)
			emit, finish = func(b []storage.VisitReportRow) error { return g.features(ctx, s.store, b) }, g.close
		} else {
			tw, err := newTable(format, w, "Visits", visitColumns)
			if err != nil {
				return err
			}
			cells := make([]reportCell, len(visitColumns))
			emit = func(b []storage.VisitReportRow) error {
				for i := range b {
					visitCells(&b[i], cells)
					if err := tw.row(cells); err != nil {
						return err
					}
				}
				return nil
			}
			finish = tw.close
		}
		for {
			batch, err := exp.Next(ctx)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				return finish()
			}
			if err := emit(batch); err != nil {
				return err
			}
		}
	})
	return nil
}

// streamExport sets the export's headers and streams its body with write. An error once the body
// has started cannot change the status any more: it is logged and the body ends short (CSV and
// GeoJSON then lack their last lines, an XLSX is not a valid zip), which the client notices.
func (s *Server) streamExport(c *fiber.Ctx, what, format string, write func(w io.Writer) error) {
	ctype, ext := mimeCSV, "csv"
	switch format {
	case formatXLSX:
		ctype, ext = mimeXLSX, "xlsx"
	case formatGeoJSON:
		ctype, ext = mimeGeoJSON, "geojson"
	}
	name := what + "-" + time.Now().In(models.ChinaStandardTime).Format("20060102-150405") + "." + ext
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	reqID, _ := c.Locals(localRequestID).(string)
	// The server's write timeout is one deadline for the whole response; a long export pushes it
	// forward as it makes progress, so only a client that stops reading for that long is cut off.
	dw := &deadlineWriter{conn: c.Context().Conn(), timeout: c.App().Config().WriteTimeout}
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		dw.w = bw
		err := write(dw)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			s.log.Error("export ended early", "request_id", reqID, "export", what, "format", format, "error", err.Error())
		}
	})
}

// deadlineWriter moves the connection's write deadline timeout past now (at most once a second)
// before each write.
type deadlineWriter struct {
	w       io.Writer
	conn    net.Conn
	timeout time.Duration
	next    time.Time
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if d.conn != nil && d.timeout > 0 {
		if now := time.Now(); now.After(d.next) {
			if err := d.conn.SetWriteDeadline(now.Add(d.timeout)); err != nil {
				return 0, err
			}
			d.next = now.Add(time.Second)
		}
	}
	return d.w.Write(p)
}

// geoJSONWriter writes an RFC 7946 FeatureCollection, one Feature per visit: the patrol track as
// a LineString for fire patrols that have one, else a Point at the position the visit recorded,
// else at its site, else a null geometry. Coordinates are [lon, lat] in WGS-84.
type geoJSONWriter struct {
	w     io.Writer
	n     int
	buf   []byte
	err   error
	props []byte
}

func newGeoJSONWriter(w io.Writer) *geoJSONWriter {
	g := &geoJSONWriter{w: w}
	_, g.err = io.WriteString(w, `{"type":"FeatureCollection","features":[`)
	return g
}

func (g *geoJSONWriter) features(ctx context.Context, st *storage.Store, rows []storage.VisitReportRow) error {
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
	err := st.TrackLines(ctx, patrols, func(id uuid.UUID, line [][2]float64) error {
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

func (g *geoJSONWriter) feature(r *storage.VisitReportRow, line [][2]float64) error {
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
	props, err := json.Marshal(geoProperties{newVisitReportItem(r), strOrNil(source)})
	if err != nil {
		return err
	}
	b = append(append(append(b, `,"properties":`...), props...), '}')
	g.buf = b
	_, err = g.w.Write(b)
	return err
}

// geoProperties are a feature's properties: the JSON row plus where its geometry came from
// (track, position, site, or null).
type geoProperties struct {
	visitReportItem
	GeometrySource *string `json:"geometry_source"`
}

func (g *geoJSONWriter) close() error {
	if g.err != nil {
		return g.err
	}
	_, err := io.WriteString(g.w, "]}\n")
	return err
}
