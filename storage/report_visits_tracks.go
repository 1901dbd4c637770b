package storage

import (
	"context"
	"fmt"

	fastjson "github.com/goccy/go-json"
	"github.com/google/uuid"
)

// TrackLines calls fn with the track of each visit in ids that has one (a live record of type
// "track" with at least two points), as [lon, lat] pairs in WGS-84, in the order of ids. Rows are
// read one at a time, so memory holds one track however many are asked for.
func (s *Store) TrackLines(ctx context.Context, ids []uuid.UUID, fn func(id uuid.UUID, line [][2]float64) error) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := s.raw(ctx).QueryContext(ctx, `SELECT t.id, t.data->'points'
		FROM unnest($1::uuid[]) WITH ORDINALITY AS v(id, n)
		JOIN records t ON t.type = 'track' AND t.id = v.id AND t.deleted_at IS NULL
		WHERE jsonb_typeof(t.data->'points') = 'array' AND jsonb_array_length(t.data->'points') >= 2
		ORDER BY v.n`, uuidStrings(ids))
	if err != nil {
		return fmt.Errorf("storage: track lines: %w", classify(err))
	}
	defer rows.Close()
	var line [][2]float64
	var pts []struct {
		Lat float64 `json:"lat"`
		Lon float64 `json:"lon"`
	}
	for rows.Next() {
		var id uuid.UUID
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return fmt.Errorf("storage: track lines: %w", classify(err))
		}
		pts = pts[:0]
		if err := fastjson.Unmarshal(raw, &pts); err != nil {
			return fmt.Errorf("storage: track %s: %w", id, err)
		}
		line = line[:0]
		for _, p := range pts {
			line = append(line, [2]float64{p.Lon, p.Lat})
		}
		if err := fn(id, line); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: track lines: %w", classify(err))
	}
	return nil
}
