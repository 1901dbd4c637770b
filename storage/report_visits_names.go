package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// reportNames resolves the ids a report row carries (regions, users, sites) to names. Report
// queries return ids only, so the hot query touches one table; the names come from these three
// small tables, each id fetched once per report however many rows name it. Memory grows with the
// number of distinct places, people and sites, never with the number of rows.
type reportNames struct {
	regions map[uuid.UUID]string
	users   map[uuid.UUID]string
	sites   map[uuid.UUID]ReportSite
}

// ReportSite is the site of a report row: its name and, when it has one, its location (WGS-84).
type ReportSite struct {
	Name     string
	Lat, Lon *float64
}

func newReportNames() *reportNames {
	return &reportNames{regions: map[uuid.UUID]string{}, users: map[uuid.UUID]string{}, sites: map[uuid.UUID]ReportSite{}}
}

// regionPathIDs returns the county and township ids of a materialised region path
// ("/<city>/<county>/<township>/<village>/"); nil where the path stops above that level.
func regionPathIDs(path string) (county, township *uuid.UUID) {
	parts := strings.Split(path, "/")
	at := func(i int) *uuid.UUID {
		if i >= len(parts) {
			return nil
		}
		id, err := uuid.Parse(parts[i])
		if err != nil {
			return nil
		}
		return &id
	}
	return at(2), at(3)
}

// want collects the ids of one batch that are not known yet.
type nameWants struct {
	regions, users, sites []uuid.UUID
	seen                  map[uuid.UUID]bool
}

func (n *reportNames) wants() *nameWants { return &nameWants{seen: map[uuid.UUID]bool{}} }

func (w *nameWants) add(list *[]uuid.UUID, known bool, id *uuid.UUID) {
	if id == nil || known || w.seen[*id] {
		return
	}
	w.seen[*id] = true
	*list = append(*list, *id)
}

func (n *reportNames) region(w *nameWants, id *uuid.UUID) {
	if id != nil {
		_, ok := n.regions[*id]
		w.add(&w.regions, ok, id)
	}
}

func (n *reportNames) user(w *nameWants, id *uuid.UUID) {
	if id != nil {
		_, ok := n.users[*id]
		w.add(&w.users, ok, id)
	}
}

func (n *reportNames) site(w *nameWants, id *uuid.UUID) {
	if id != nil {
		_, ok := n.sites[*id]
		w.add(&w.sites, ok, id)
	}
}

// load fetches what w wants. Ids that do not exist map to "" so they are not asked again.
func (n *reportNames) load(ctx context.Context, s *Store, w *nameWants) error {
	pairs := func(what, query string, ids []uuid.UUID, into map[uuid.UUID]string) error {
		if len(ids) == 0 {
			return nil
		}
		for _, id := range ids {
			into[id] = ""
		}
		rows, err := s.raw(ctx).QueryContext(ctx, query, uuidStrings(ids))
		if err != nil {
			return fmt.Errorf("storage: report %s: %w", what, classify(err))
		}
		defer rows.Close()
		for rows.Next() {
			var id uuid.UUID
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				return fmt.Errorf("storage: report %s: %w", what, classify(err))
			}
			into[id] = name
		}
		return rows.Err()
	}
	if err := pairs("regions", `SELECT id, name FROM regions WHERE id = ANY($1::uuid[])`, w.regions, n.regions); err != nil {
		return err
	}
	if err := pairs("users", `SELECT id, name FROM users WHERE id = ANY($1::uuid[])`, w.users, n.users); err != nil {
		return err
	}
	if len(w.sites) == 0 {
		return nil
	}
	for _, id := range w.sites {
		n.sites[id] = ReportSite{}
	}
	// Archived sites (tombstones) included: a visit to a site archived since still names it.
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT id, coalesce(data->>'name', ''),
			(data->'location'->>'lat')::float8, (data->'location'->>'lon')::float8
		FROM records WHERE type = 'site' AND id = ANY($1::uuid[])`, uuidStrings(w.sites))
	if err != nil {
		return fmt.Errorf("storage: report sites: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var site ReportSite
		var lat, lon sql.NullFloat64
		if err := rows.Scan(&id, &site.Name, &lat, &lon); err != nil {
			return fmt.Errorf("storage: report sites: %w", classify(err))
		}
		if lat.Valid && lon.Valid {
			site.Lat, site.Lon = &lat.Float64, &lon.Float64
		}
		n.sites[id] = site
	}
	return rows.Err()
}

// sqlArgs numbers the parameters of a query built from optional filters.
type sqlArgs []any

func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// resolve asks each of n rows for the ids it names (want), loads those not known yet in one query
// per kind, then lets each row take its names (fill).
func (n *reportNames) resolve(ctx context.Context, s *Store, rows int, want func(i int, w *nameWants), fill func(i int)) error {
	w := n.wants()
	for i := range rows {
		want(i, w)
	}
	if err := n.load(ctx, s, w); err != nil {
		return err
	}
	for i := range rows {
		fill(i)
	}
	return nil
}

func (n *reportNames) regionName(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return n.regions[*id]
}

func (n *reportNames) userName(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return n.users[*id]
}

func (n *reportNames) siteOf(id *uuid.UUID) ReportSite {
	if id == nil {
		return ReportSite{}
	}
	return n.sites[*id]
}
