package server

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// Report formats.
const (
	formatJSON    = "json"
	formatCSV     = "csv"
	formatXLSX    = "xlsx"
	formatGeoJSON = "geojson"
)

// errParam is a 400 naming the query parameter that is wrong (also as the "param" member).
func errParam(name, detail string) *Problem {
	p := errBadRequest(name + ": " + detail)
	p.Extra = map[string]any{"param": name}
	return p
}

// reportQuery reads a report's query string: every parameter must be one the report knows, and
// none may repeat or exceed 200 bytes, so a typo (has_finding=true) is a 400, never a silently
// unfiltered report.
type reportQuery struct {
	c    *fiber.Ctx
	vals map[string]string
}

func newReportQuery(c *fiber.Ctx, known ...string) (*reportQuery, error) {
	q := &reportQuery{c: c, vals: map[string]string{}}
	var bad []string
	var err error
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		key := string(k)
		switch {
		case err != nil:
		case !slices.Contains(known, key):
			bad = append(bad, key)
		case len(v) > 200:
			err = errParam(key, "is longer than 200 bytes.")
		default:
			if _, dup := q.vals[key]; dup {
				err = errParam(key, "is given more than once.")
			}
			q.vals[key] = string(v)
		}
	})
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		known = slices.Clone(known)
		sort.Strings(known)
		return nil, errParam(bad[0], "unknown parameter (this report takes "+strings.Join(known, ", ")+").")
	}
	return q, nil
}

func (q *reportQuery) get(name string) string { return q.vals[name] }

func (q *reportQuery) enum(name string, allowed ...string) (string, error) {
	v := q.get(name)
	if v == "" || slices.Contains(allowed, v) {
		return v, nil
	}
	return "", errParam(name, fmt.Sprintf("must be one of %s (got %q).", strings.Join(allowed, ", "), v))
}

func (q *reportQuery) boolean(name string) (*bool, error) {
	v := q.get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, errParam(name, fmt.Sprintf("must be true or false (got %q).", v))
	}
	return &b, nil
}

func (q *reportQuery) uuid(name string) (*uuid.UUID, error) {
	v := q.get(name)
	if v == "" {
		return nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return nil, errParam(name, fmt.Sprintf("must be a UUID (got %q).", v))
	}
	return &id, nil
}

func (q *reportQuery) kind(name string) (models.Kind, error) {
	names := make([]string, len(models.Kinds))
	for i, k := range models.Kinds {
		names[i] = string(k)
	}
	v, err := q.enum(name, names...)
	return models.Kind(v), err
}

// limit reads limit (1–upTo; default def).
func (q *reportQuery) limit(def, upTo int) (int, error) {
	v := q.get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > upTo {
		return 0, errParam("limit", fmt.Sprintf("must be an integer from 1 to %d.", upTo))
	}
	return n, nil
}

// maxExportRows caps an explicit limit on an export (an export without one has no cap).
const maxExportRows = 100_000_000

// cursor reads the opaque cursor into its key parts (separated by "|"), n of them.
func (q *reportQuery) cursor(n int) ([]string, error) {
	v := q.get("cursor")
	if v == "" {
		return nil, nil
	}
	bad := errParam("cursor", "is not one this server issued for this report.")
	raw, err := decodeCursor(v)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(raw, "|")
	if len(parts) != n {
		return nil, bad
	}
	return parts, nil
}

func decodeCursor(v string) (string, error) {
	if len(v) > 683 {
		return "", errors.New("cursor too long")
	}
	b, err := cursorEncoding.DecodeString(v)
	return string(b), err
}

// period reads from and to: an RFC 3339 time, or a date (YYYY-MM-DD) in China Standard Time. A
// date as "to" includes that whole day. The period is from ≤ t < to.
func (q *reportQuery) period() (from, to *time.Time, err error) {
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

// reportRegion reads region (an id or a code) and returns the path of the subtree to report on:
// the region's, when it lies inside the caller's scope; the scope's, when the region contains the
// scope (a county supervisor asking for the city gets their county). A region outside the scope
// is a 403; an unknown one a 400.
func (s *Server) reportRegion(q *reportQuery, scope models.Scope) (string, error) {
	v := q.get("region")
	if v == "" {
		return "", nil
	}
	var r models.Region
	var err error
	if id, perr := uuid.Parse(v); perr == nil {
		r, err = s.store.GetRegion(q.c.UserContext(), id)
	} else {
		r, err = s.store.GetRegionByCode(q.c.UserContext(), v)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return "", errParam("region", fmt.Sprintf("no region has id or code %q.", v))
	}
	if err != nil {
		return "", err
	}
	switch {
	case scope.CoversRegion(r.Path):
		return r.Path, nil
	case strings.HasPrefix(scope.RegionPath, r.Path):
		return scope.RegionPath, nil
	}
	p := errForbidden("region: " + r.Name + " is outside your scope.")
	p.Extra = map[string]any{"param": "region"}
	return "", p
}

// todayCST is today's date in China Standard Time (deadlines are dates there).
func todayCST(now time.Time) string { return now.In(models.ChinaStandardTime).Format(time.DateOnly) }
