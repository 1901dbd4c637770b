package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"
)

// resultsPruneLock is the advisory lock key held while push results are pruned: of several
// servers sharing a database, one prunes at a time.
const resultsPruneLock = 7236103

// PruneReport says what PruneResults did.
type PruneReport struct {
	Results int64 // stored push results deleted (sync_mutations)
	Pushes  int64 // push markers deleted (sync_pushes)
	Skipped bool  // another server held the lock and is pruning; nothing was done
}

// PruneResults deletes what exactly-once no longer needs, in batches of at most batch rows, each
// its own short statement (no long transaction, no lock a push waits on for long):
//
//   - the stored results of mutations applied before cutoff (sync_mutations); a later replay of
//     such a mutation is answered "expired" by the engine, never applied again, because each
//     client's last_mutation_id (sync_clients) is never pruned;
//   - push markers (sync_pushes) that no pull can need: a pull's cursor is never below the
//     change log's pruned_through (older cursors are reset), so of a client's markers at or below
//     it only the one with the highest mutation id still decides an answer.
//
// It holds a PostgreSQL session advisory lock while it runs; when another server holds it,
// PruneResults returns at once with Skipped set.
func (s *Store) PruneResults(ctx context.Context, cutoff time.Time, batch int) (PruneReport, error) {
	var rep PruneReport
	if batch < 1 {
		return rep, fmt.Errorf("storage: prune results: batch must be at least 1")
	}
	c, err := s.SQL().Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("storage: prune results: %w", classify(err))
	}
	defer c.Close()
	var locked bool
	if err := c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, resultsPruneLock).Scan(&locked); err != nil {
		return rep, fmt.Errorf("storage: prune results lock: %w", classify(err))
	}
	if !locked {
		rep.Skipped = true
		return rep, nil
	}
	defer unlockSession(c, resultsPruneLock)

	rep.Results, err = deleteInBatches(ctx, c, batch, `DELETE FROM sync_mutations WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM sync_mutations WHERE applied_at < $1 LIMIT $2))`, cutoff)
	if err != nil {
		return rep, fmt.Errorf("storage: prune results: %w", err)
	}
	var through int64
	if err := c.QueryRowContext(ctx, `SELECT pruned_through FROM sync_state`).Scan(&through); err != nil {
		return rep, fmt.Errorf("storage: prune results: %w", classify(err))
	}
	rep.Pushes, err = deleteInBatches(ctx, c, batch, `DELETE FROM sync_pushes WHERE ctid = ANY(ARRAY(
		SELECT p.ctid FROM sync_pushes p WHERE p.seq <= $1 AND EXISTS (SELECT 1 FROM sync_pushes q
			WHERE q.client_id = p.client_id AND q.seq <= $1 AND q.last_mutation_id > p.last_mutation_id)
		LIMIT $2))`, through)
	if err != nil {
		return rep, fmt.Errorf("storage: prune push markers: %w", err)
	}
	return rep, nil
}

// deleteInBatches runs a DELETE that takes (arg, batch) until it deletes fewer than batch rows,
// and returns how many it deleted in all.
func deleteInBatches(ctx context.Context, c *sql.Conn, batch int, query string, arg any) (int64, error) {
	var total int64
	for {
		res, err := c.ExecContext(ctx, query, arg, batch)
		if err != nil {
			return total, classify(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, classify(err)
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}

// unlockSession releases a session advisory lock before the connection goes back to the pool; a
// connection that cannot release it is closed instead, which releases it too.
func unlockSession(c *sql.Conn, key int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ok bool
	if err := c.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&ok); err != nil || !ok {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
	}
}
