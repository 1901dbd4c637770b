package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
)

// DemoCounts is what the database holds of the demo city and its field work.
type DemoCounts struct {
	Townships, Projects, PatrolAreas, Dealers, VillagePlots, Checklists int
	Visits, Findings, OverdueFindings, ClosedFindings, Tracks           int
}

// DemoCounts counts regions, live sites by kind, checklists, visits, findings (overdue as of now:
// not closed and the deadline day, China time, before today) and tracks.
func (s *Store) DemoCounts(ctx context.Context, now time.Time) (DemoCounts, error) {
	var c DemoCounts
	today := now.In(models.ChinaStandardTime).Format(time.DateOnly)
	err := s.raw(ctx).QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM regions WHERE level = 'township'),
		count(*) FILTER (WHERE type = 'site' AND data->>'kind' = 'project'),
		count(*) FILTER (WHERE type = 'site' AND data->>'kind' = 'patrol_area'),
		count(*) FILTER (WHERE type = 'site' AND data->>'kind' = 'dealer'),
		count(*) FILTER (WHERE type = 'site' AND data->>'kind' = 'village_plot'),
		count(*) FILTER (WHERE type = 'checklist'),
		count(*) FILTER (WHERE type = 'visit'),
		count(*) FILTER (WHERE type = 'finding'),
		count(*) FILTER (WHERE type = 'finding' AND status <> 'closed' AND data->>'deadline' < $1),
		count(*) FILTER (WHERE type = 'finding' AND status = 'closed'),
		count(*) FILTER (WHERE type = 'track')
		FROM records WHERE deleted_at IS NULL`, today).Scan(&c.Townships, &c.Projects, &c.PatrolAreas, &c.Dealers,
		&c.VillagePlots, &c.Checklists, &c.Visits, &c.Findings, &c.OverdueFindings, &c.ClosedFindings, &c.Tracks)
	if err != nil {
		return c, fmt.Errorf("storage: demo counts: %w", classify(err))
	}
	return c, nil
}
