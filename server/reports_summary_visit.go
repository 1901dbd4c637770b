package server

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/server/render"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
)

// visitReport is GET /v1/reports/visits/{id}[?format=pdf|geojson]. A visit outside the caller's
// scope is a 404, like one that does not exist.
func (s *Server) visitReport(c *fiber.Ctx) error {
	q, err := readQuery(c, "format")
	if err != nil {
		return err
	}
	format := q.get("format")
	switch format {
	case "":
		format = formatJSON
	case formatJSON, "pdf", formatGeoJSON:
	default:
		return errParam("format", "must be json, pdf or geojson.")
	}
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.store.VisitDetail(c.UserContext(), id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !principal(c).Scope.Covers(d.Visit.RegionPath, d.Visit.Kind)) {
		return errNotFound("No visit " + id.String() + " in your scope.")
	}
	if err != nil {
		return err
	}
	rep, err := render.BuildVisitReport(d, time.Now())
	if err != nil {
		return err
	}
	if format == formatGeoJSON {
		return s.visitFeature(c, d, rep)
	}
	if format == "pdf" {
		doc, err := s.newPDF(false, "现场督查报告 "+rep.ID.String())
		if err != nil {
			return err
		}
		render.VisitPDF(c.UserContext(), doc, rep, s.openBlob)
		name := rep.KindLabel + "报告"
		if rep.Site != nil {
			name = rep.Site.Name + " " + name
		}
		return sendPDF(c, doc, name+" "+strings.SplitN(rep.StartedAt, "T", 2)[0]+".pdf")
	}
	return c.JSON(rep)
}

// openBlob opens a stored object for a PDF's photos (nil when the server has no photo store).
func (s *Server) openBlob(ctx context.Context, key string) (io.ReadCloser, error) {
	if s.blob == nil {
		return nil, errors.New("server: no photo store")
	}
	rc, _, err := s.blob.Get(ctx, key)
	return rc, err
}
