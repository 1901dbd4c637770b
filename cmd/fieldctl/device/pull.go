package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// change is one entry of a pull page.
type change struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Op      string          `json:"op"`
	Version int64           `json:"version"`
	Data    json.RawMessage `json:"data"`
}

type pullPage struct {
	Cursor         string   `json:"cursor"`
	HasMore        bool     `json:"has_more"`
	Reset          bool     `json:"reset"`
	LastMutationID int64    `json:"last_mutation_id"`
	Changes        []change `json:"changes"`
}

// maxRestarts bounds the bootstraps one pull starts over after a refused cursor.
const maxRestarts = 2

// pull fetches pages until has_more is false. Each page, its cursor and the acknowledgement it
// carries commit in one local transaction, so a pull cut anywhere resumes from the last page
// stored. A reset (or a cursor the server no longer knows) drops the pulled records and
// re-bootstraps; the queue and the photos waiting to upload are kept and laid on top again.
func (s *session) pull(ctx context.Context) error {
	d := s.d
	url, err := d.serverURL("/v1/sync/pull")
	if err != nil {
		return err
	}
	cursor, err := getMeta(ctx, d.db, metaCursor)
	if err != nil {
		return err
	}
	restarts := 0
	for {
		var cur *string
		if cursor != "" {
			cur = &cursor
		}
		req, err := jsonRequest(url, s.token, map[string]any{"client_id": d.ClientID(), "cursor": cur, "limit": s.opts.PullLimit})
		if err != nil {
			return err
		}
		res, err := s.call(ctx, "pull", req)
		if err != nil {
			return err
		}
		if res.Status == http.StatusBadRequest && cursor != "" && restarts < maxRestarts {
			// The server did not issue this cursor (another server, a restored database): start over.
			restarts++
			s.notice("pull: the server refused the stored cursor; downloading everything again")
			cursor = ""
			if err := d.inTx(ctx, func(tx *sql.Tx) error { return dropPulled(ctx, tx, d.stamp()) }); err != nil {
				return err
			}
			s.report.Resets++
			continue
		}
		if res.Status != http.StatusOK {
			return parseProblem(res.Status, res.Body)
		}
		var page pullPage
		if err := json.Unmarshal(res.Body, &page); err != nil {
			return fmt.Errorf("pull: unreadable answer: %w", err)
		}
		if page.Reset {
			s.report.Resets++
			s.notice("pull: the server asked for a reset; replacing the pulled data (queued work is kept)")
		}
		if err := d.inTx(ctx, func(tx *sql.Tx) error { return s.applyPage(ctx, tx, &page) }); err != nil {
			return err
		}
		s.report.Pages++
		s.report.Changes += len(page.Changes)
		s.progress(Progress{Phase: PhasePull, Done: int64(s.report.Changes), Total: -1})
		cursor = page.Cursor
		if !page.HasMore {
			return nil
		}
	}
}

// applyPage stores one page in tx.
func (s *session) applyPage(ctx context.Context, tx *sql.Tx, page *pullPage) error {
	stamp := s.d.stamp()
	if page.Reset {
		if err := dropPulled(ctx, tx, stamp); err != nil {
			return err
		}
	}
	for _, c := range page.Changes {
		if err := applyChange(ctx, tx, c, stamp); err != nil {
			return fmt.Errorf("pull: %s %s: %w", c.Type, c.ID, err)
		}
	}
	if err := setMeta(ctx, tx, metaCursor, page.Cursor); err != nil {
		return err
	}
	if err := ackThrough(ctx, tx, page.LastMutationID); err != nil {
		return err
	}
	return reapplyQueue(ctx, tx, stamp)
}

// dropPulled forgets every pulled record, conflict and rejection and the cursor, then lays the
// queue on top again: what the phone made and has not synced stays visible.
func dropPulled(ctx context.Context, tx *sql.Tx, stamp string) error {
	for _, q := range []string{`DELETE FROM records`, `DELETE FROM conflicts`, `DELETE FROM rejections`,
		`DELETE FROM meta WHERE key = 'cursor'`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return reapplyQueue(ctx, tx, stamp)
}

func applyChange(ctx context.Context, tx *sql.Tx, c change, stamp string) error {
	remove := c.Op == "remove"
	switch c.Type {
	case "rejection":
		mid, err := strconv.ParseInt(c.ID, 10, 64)
		if err != nil {
			return err
		}
		if remove {
			_, err := tx.ExecContext(ctx, `DELETE FROM rejections WHERE mutation_id = ?`, mid)
			return err
		}
		var r struct {
			Name  string `json:"name"`
			Error *struct {
				Code, Message, Field string
			} `json:"error"`
		}
		if err := json.Unmarshal(c.Data, &r); err != nil {
			return err
		}
		rj := Rejection{MutationID: mid, Name: r.Name, ReceivedAt: stamp}
		if r.Error != nil {
			rj.Code, rj.Message, rj.Field = r.Error.Code, r.Error.Message, r.Error.Field
		}
		return saveRejection(ctx, tx, rj)
	case "conflict":
		if remove {
			_, err := tx.ExecContext(ctx, `DELETE FROM conflicts WHERE id = ?`, c.ID)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO conflicts(id, version, data, received_at) VALUES (?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET version = excluded.version, data = excluded.data`, c.ID, c.Version, string(c.Data), stamp)
		return err
	}
	if remove {
		_, err := tx.ExecContext(ctx, `DELETE FROM records WHERE type = ? AND id = ?`, c.Type, c.ID)
		return err
	}
	if len(c.Data) == 0 {
		return fmt.Errorf("a put without data")
	}
	return putRecord(ctx, tx, Record{Type: c.Type, ID: c.ID, Version: c.Version, Data: c.Data}, originServer, stamp)
}
