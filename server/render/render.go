// Package render turns report data into what a supervisor reads or downloads: the JSON rows of
// the report lists, CSV and XLSX tables, GeoJSON feature collections and printable PDFs (the
// visit report and the monthly dispatch). It knows nothing about HTTP: handlers in server read
// the request, query storage, and hand the rows and an io.Writer to a renderer here.
package render

import (
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// PhotoURL is the path that serves a photo's bytes.
func PhotoURL(id uuid.UUID) string { return "/v1/photos/" + id.String() + "/content" }

// ThumbnailURL is the path that serves a photo's thumbnail.
func ThumbnailURL(id uuid.UUID) string { return "/v1/photos/" + id.String() + "/thumbnail" }

// strOrNil is nil for "", else a pointer to s.
func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// cstTime shows t in China Standard Time as RFC 3339; nil stays nil.
func cstTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.In(models.ChinaStandardTime).Format(time.RFC3339)
	return &s
}

func uuidText(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}
