package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// batchIDs returns the ids of a batch as one comma-separated text parameter (pgx encodes a
// 2,000-element []string parameter slowly, in milliseconds; the server splits one string in
// microseconds) and each id's index in the batch.
func batchIDs(rows []VisitReportRow) (string, map[uuid.UUID]int) {
	buf := make([]byte, 0, len(rows)*37)
	at := make(map[uuid.UUID]int, len(rows))
	for i := range rows {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, rows[i].ID.String()...)
		at[rows[i].ID] = i
	}
	return string(buf), at
}

// visitChildren fills the findings, overdue findings and photos (oldest first) of a batch of
// visits with one query for the whole batch: the children of every visit of the batch through
// records_parent_idx (one bitmap scan, heap pages read in order). today is today's date in China
// Standard Time: a finding not closed whose deadline is before it is overdue (models.DeadlineLight's
// rule).
func (s *Store) visitChildren(ctx context.Context, rows []VisitReportRow, today string) error {
	if len(rows) == 0 {
		return nil
	}
	ids, at := batchIDs(rows)
	children, err := s.raw(ctx).QueryContext(ctx, `SELECT parent_id, type, status, coalesce(data->>'deadline', ''), id
		FROM records
		WHERE parent_id = ANY(string_to_array($1, ',')::uuid[]) AND deleted_at IS NULL AND type IN ('finding', 'photo')
		ORDER BY created_at, id`, ids)
	if err != nil {
		return fmt.Errorf("storage: visit report children: %w", classify(err))
	}
	defer children.Close()
	for children.Next() {
		var parent, id uuid.UUID
		var typ, status, deadline string
		if err := children.Scan(&parent, &typ, &status, &deadline, &id); err != nil {
			return fmt.Errorf("storage: visit report children: %w", classify(err))
		}
		r := &rows[at[parent]]
		switch typ {
		case models.TypeFinding:
			r.Findings++
			if status != models.FindingClosed && deadline < today {
				r.Overdue++
			}
		case models.TypePhoto:
			r.PhotoIDs = append(r.PhotoIDs, id)
		}
	}
	if err := children.Err(); err != nil {
		return fmt.Errorf("storage: visit report children: %w", classify(err))
	}
	return nil
}

// visitLocations fills the location verdict of a batch of visits from visit_location (no row:
// no photos, Location stays "").
func (s *Store) visitLocations(ctx context.Context, rows []VisitReportRow) error {
	if len(rows) == 0 {
		return nil
	}
	ids, at := batchIDs(rows)
	levels, err := s.raw(ctx).QueryContext(ctx, `SELECT visit_id, level FROM visit_location
		WHERE visit_id = ANY(string_to_array($1, ',')::uuid[])`, ids)
	if err != nil {
		return fmt.Errorf("storage: visit report locations: %w", classify(err))
	}
	defer levels.Close()
	for levels.Next() {
		var id uuid.UUID
		var level sql.NullString
		if err := levels.Scan(&id, &level); err != nil {
			return fmt.Errorf("storage: visit report locations: %w", classify(err))
		}
		rows[at[id]].Location = level.String
	}
	if err := levels.Err(); err != nil {
		return fmt.Errorf("storage: visit report locations: %w", classify(err))
	}
	return nil
}
