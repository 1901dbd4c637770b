package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"time"
)

// QueuedMutation is one mutation waiting in the phone's queue. Its id is assigned and stored
// before it is ever sent, so a push replayed after a crash or a lost answer carries the same id
// and the server applies it once.
type QueuedMutation struct {
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	Args       json.RawMessage `json:"args"`
	ClientTime string          `json:"client_time"`
	Sent       bool            `json:"sent"` // sent at least once (the answer may have been lost)
}

// Enqueue stores a mutation with the next id of this client and applies its effect to the local
// records, in one transaction; it returns the id. The typed methods (NewVisit, AddPhoto …) call
// it; use it directly for mutations they do not cover.
func (d *Device) Enqueue(ctx context.Context, name string, args any) (int64, error) {
	var id int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = d.enqueueTx(ctx, tx, name, args)
		return err
	})
	return id, err
}

func (d *Device) enqueueTx(ctx context.Context, tx *sql.Tx, name string, args any) (int64, error) {
	raw, err := json.Marshal(args)
	if err != nil {
		return 0, err
	}
	next, err := getMetaInt(ctx, tx, metaNextID)
	if err != nil {
		return 0, err
	}
	acked, err := getMetaInt(ctx, tx, metaLastAcked)
	if err != nil {
		return 0, err
	}
	id := max(next, acked+1, 1)
	now := d.now().Format(time.RFC3339Nano)
	if _, err := tx.ExecContext(ctx, `INSERT INTO queue(id, name, args, client_time, created_at) VALUES (?, ?, ?, ?, ?)`,
		id, name, string(raw), now, now); err != nil {
		return 0, err
	}
	if err := setMeta(ctx, tx, metaNextID, strconv.FormatInt(id+1, 10)); err != nil {
		return 0, err
	}
	return id, applyLocal(ctx, tx, QueuedMutation{ID: id, Name: name, Args: raw, ClientTime: now}, d.stamp())
}

// Queue lists the mutations not yet acknowledged by the server, oldest first.
func (d *Device) Queue(ctx context.Context) ([]QueuedMutation, error) {
	return loadQueue(ctx, d.db, 0, -1)
}

// loadQueue reads up to limit (-1: all) queued mutations with id ≥ from.
func loadQueue(ctx context.Context, q queryer, from int64, limit int) ([]QueuedMutation, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, args, client_time, sent FROM queue WHERE id >= ? ORDER BY id LIMIT ?`, from, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueuedMutation
	for rows.Next() {
		var m QueuedMutation
		var args string
		if err := rows.Scan(&m.ID, &m.Name, &args, &m.ClientTime, &m.Sent); err != nil {
			return nil, err
		}
		m.Args = json.RawMessage(args)
		out = append(out, m)
	}
	return out, rows.Err()
}

// ackThrough drops every queued mutation up to id (the server is done with them) and
// remembers id as the client's last mutation id.
func ackThrough(ctx context.Context, tx *sql.Tx, id int64) error {
	if id <= 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM queue WHERE id <= ?`, id); err != nil {
		return err
	}
	cur, err := getMetaInt(ctx, tx, metaLastAcked)
	if err != nil || id <= cur {
		return err
	}
	if err := setMeta(ctx, tx, metaLastAcked, strconv.FormatInt(id, 10)); err != nil {
		return err
	}
	next, err := getMetaInt(ctx, tx, metaNextID)
	if err != nil || next > id {
		return err
	}
	return setMeta(ctx, tx, metaNextID, strconv.FormatInt(id+1, 10))
}

// renumberFrom moves the queue so its first mutation gets id first (the server expects it after
// a gap no queued mutation can fill; none of the queued ones was applied, as all lie above the
// server's last id).
func renumberFrom(ctx context.Context, tx *sql.Tx, first int64) error {
	var minID sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT min(id) FROM queue`).Scan(&minID); err != nil || !minID.Valid {
		return err
	}
	shift := first - minID.Int64
	if shift == 0 {
		return nil
	}
	// Two steps through negative ids keep the primary key unique whatever the direction.
	if _, err := tx.ExecContext(ctx, `UPDATE queue SET id = -(id + ?)`, shift); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE queue SET id = -id`); err != nil {
		return err
	}
	var maxID int64
	if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM queue`).Scan(&maxID); err != nil {
		return err
	}
	if err := setMeta(ctx, tx, metaLastAcked, strconv.FormatInt(first-1, 10)); err != nil {
		return err
	}
	return setMeta(ctx, tx, metaNextID, strconv.FormatInt(maxID+1, 10))
}
