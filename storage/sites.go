package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// SiteFilter narrows ListSites.
type SiteFilter struct {
	WorkKind   models.Kind // "" = every kind
	RegionPath string      // "" = whole city; else the subtree under this path
	Status     string      // "" = active and archived
	Query      string      // substring of the name, case-insensitive
	After      uuid.UUID   // keyset: ids after this one (uuid.Nil = from the start)
	Limit      int
}

// ListSites returns one admin page of site records, archived ones (tombstones) included unless
// filtered out, ordered by id.
func (s *Store) ListSites(ctx context.Context, f SiteFilter) ([]models.Record, error) {
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT `+recordColsNoMeta+` FROM records
		WHERE type = 'site' AND id > $1 AND region_path LIKE $2
		  AND ($3 = '' OR kind = $3) AND ($4 = '' OR status = $4)
		  AND ($5 = '' OR data->>'name' ILIKE '%' || $5 || '%')
		ORDER BY id LIMIT $6`,
		f.After, likePrefix(f.RegionPath), string(f.WorkKind), f.Status, strings.TrimSuffix(likePrefix(f.Query), "%"), f.Limit)
	if err != nil {
		return nil, fmt.Errorf("storage: list sites: %w", classify(err))
	}
	return scanRecords(rows)
}
