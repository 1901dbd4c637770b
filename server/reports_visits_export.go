package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/server/render"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// exportVisits streams the visit report as CSV, XLSX or GeoJSON: one query opened before the
// response starts (so a failing query is still a problem+json), read in batches while the body is
// written (c.Context().SetBodyStreamWriter), so memory stays flat.
func (s *Server) exportVisits(c *fiber.Ctx, f storage.VisitReportFilter, format string) error {
	ctx, cancel := exportContext(c)
	exp, err := s.store.ExportVisits(ctx, f)
	if err != nil {
		cancel(nil)
		return err
	}
	s.streamExport(c, "visits", format, cancel, func(w io.Writer) error {
		defer exp.Close() // after cancel: a batch read ahead stops at once
		defer cancel(nil)
		var emit func([]storage.VisitReportRow) error
		var finish func() error
		if format == formatGeoJSON {
			g := render.NewGeoJSON(w)
			tracks := func(ids []uuid.UUID, fn func(uuid.UUID, [][2]float64) error) error {
				return s.store.TrackLines(ctx, ids, fn)
			}
			emit, finish = func(b []storage.VisitReportRow) error { return g.Features(b, tracks) }, g.Close
		} else {
			tw, err := newTable(format, w, "Visits", render.VisitColumns)
			if err != nil {
				return err
			}
			cells := make([]render.Cell, len(render.VisitColumns))
			emit = func(b []storage.VisitReportRow) error {
				for i := range b {
					render.VisitCells(&b[i], cells)
					if err := tw.Row(cells); err != nil {
						return err
					}
				}
				return nil
			}
			finish = tw.Close
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
// GeoJSON then lack their last lines, an XLSX is not a valid zip), which the client notices. While
// the body streams, a client that goes away cancels the export (cancel, with errClientGone) even
// when write is waiting on PostgreSQL rather than writing.
func (s *Server) streamExport(c *fiber.Ctx, what, format string, cancel context.CancelCauseFunc, write func(w io.Writer) error) {
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
	conn := c.Context().Conn()
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		var gone atomic.Bool
		stop := watchPeer(conn, func() { gone.Store(true); cancel(errClientGone) })
		defer stop()
		dw.w = bw
		err := write(dw)
		if err == nil {
			err = bw.Flush()
		}
		switch {
		case err != nil && gone.Load():
			s.log.Info("export cancelled: the client went away", "request_id", reqID, "export", what, "format", format)
		case err != nil:
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

// Content types of the exports.
const (
	mimeCSV     = "text/csv; charset=utf-8"
	mimeXLSX    = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mimeGeoJSON = "application/geo+json"
)

// newTable starts the table of an export in format (csv or xlsx).
func newTable(format string, w io.Writer, sheet string, cols []render.Column) (render.Table, error) {
	if format == formatXLSX {
		return render.NewXLSX(w, sheet, cols)
	}
	return render.NewCSV(w, cols)
}
