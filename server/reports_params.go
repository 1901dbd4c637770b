package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// Report formats.
const (
	formatJSON    = "json"
	formatCSV     = "csv"
	formatXLSX    = "xlsx"
	formatGeoJSON = "geojson"
)

func (q *query) kind(name string) (models.Kind, error) {
	names := make([]string, len(models.Kinds))
	for i, k := range models.Kinds {
		names[i] = string(k)
	}
	v, err := q.enum(name, names...)
	return models.Kind(v), err
}

// maxExportRows caps an explicit limit on an export (an export without one has no cap).
const maxExportRows = 100_000_000

// cursorKey splits the key of a report's verified cursor, if any, into its parts (separated by
// "|"), n of them.
func cursorKey(p *pager, n int) ([]string, error) {
	if p.after == "" {
		return nil, nil
	}
	parts := strings.Split(p.after, "|")
	if len(parts) != n {
		return nil, errBadCursor()
	}
	return parts, nil
}

// period reads from and to: an RFC 3339 time, or a date (YYYY-MM-DD) in China Standard Time. A
// date as "to" includes that whole day. The period is from ≤ t < to.
func (q *query) period() (from, to *time.Time, err error) {
	read := func(name string, end bool) (*time.Time, error) {
		v := q.get(name)
		if v == "" {
			return nil, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return &t, nil
		}
		d, err := time.ParseInLocation(time.DateOnly, v, models.ChinaStandardTime)
		if err != nil {
			return nil, errParam(name, fmt.Sprintf("must be an RFC 3339 time or a date YYYY-MM-DD (got %q).", v))
		}
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return &d, nil
	}
	if from, err = read("from", false); err != nil {
		return nil, nil, err
	}
	if to, err = read("to", true); err != nil {
		return nil, nil, err
	}
	if from != nil && to != nil && !from.Before(*to) {
		return nil, nil, errParam("to", "must be after from.")
	}
	return from, to, nil
}

// regionParam resolves ?region= (a region id or code) against the caller's scope: a region inside
// the scope is itself; one that contains the scope stands for the scope's own region (a county
// supervisor asking for the city gets their county); one outside it is a 403; an unknown one a
// 400. ok is false when the parameter is absent.
func (s *Server) regionParam(q *query, scope models.Scope) (r models.Region, ok bool, err error) {
	v := q.get("region")
	if v == "" {
		return r, false, nil
	}
	ctx := q.c.UserContext()
	if id, perr := uuid.Parse(v); perr == nil {
		r, err = s.store.GetRegion(ctx, id)
	} else {
		r, err = s.store.GetRegionByCode(ctx, v)
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return r, false, errParam("region", fmt.Sprintf("no region has id or code %q.", v))
	case err != nil:
		return r, false, err
	case scope.CoversRegion(r.Path):
		return r, true, nil
	case scope.RegionID != nil && strings.HasPrefix(scope.RegionPath, r.Path):
		r, err = s.store.GetRegion(ctx, *scope.RegionID)
		return r, err == nil, err
	}
	p := errForbidden("region: " + r.Name + " is outside your scope.")
	p.Extra = map[string]any{"param": "region"}
	return r, false, p
}

// reportRegion is the path of the subtree a report covers by ?region= ("" when absent: the
// caller's whole scope); see regionParam.
func (s *Server) reportRegion(q *query, scope models.Scope) (string, error) {
	r, ok, err := s.regionParam(q, scope)
	if !ok || err != nil {
		return "", err
	}
	return r.Path, nil
}

// todayCST is today's date in China Standard Time (deadlines are dates there).
func todayCST(now time.Time) string { return now.In(models.ChinaStandardTime).Format(time.DateOnly) }
