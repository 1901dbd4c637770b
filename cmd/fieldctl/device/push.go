package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// pushMutation is one mutation as the push body carries it.
type pushMutation struct {
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	Args       json.RawMessage `json:"args"`
	ClientTime string          `json:"client_time"`
}

// pushResult is the server's result for one mutation.
type pushResult struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Entity *struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		Version int64  `json:"version"`
	} `json:"entity"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// maxGapRounds bounds how often one sync follows mutation-gap answers.
const maxGapRounds = 8

// push sends the queue in batches until it is empty. Every mutation keeps the id it was stored
// with, so a batch resent after a lost answer is answered from the server's stored results.
func (s *session) push(ctx context.Context) error {
	d := s.d
	total, _ := s.queueLen(ctx)
	for {
		batch, err := loadQueue(ctx, d.db, 0, s.opts.PushBatch)
		if err != nil || len(batch) == 0 {
			return err
		}
		body := map[string]any{"client_id": d.ClientID(), "protocol_version": d.opts.ProtocolVersion,
			"app_version": d.opts.AppVersion, "mutations": toPush(batch)}
		url, err := d.serverURL("/v1/sync/push")
		if err != nil {
			return err
		}
		req, err := jsonRequest(url, s.token, body)
		if err != nil {
			return err
		}
		if _, err := d.db.ExecContext(ctx, `UPDATE queue SET sent = 1 WHERE id BETWEEN ? AND ?`, batch[0].ID, batch[len(batch)-1].ID); err != nil {
			return err
		}
		s.report.Pushes++
		res, err := s.call(ctx, "push", req)
		if err != nil {
			return err
		}
		switch res.Status {
		case http.StatusOK:
			if err := s.pushed(ctx, batch, res.Body); err != nil {
				return err
			}
			s.progress(Progress{Phase: PhasePush, Done: int64(s.report.Pushed), Total: int64(total)})
			continue
		case http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUpgradeRequired:
		default:
			return parseProblem(res.Status, res.Body)
		}
		p := parseProblem(res.Status, res.Body)
		switch p.Slug {
		case "mutation-gap":
			if err := s.gap(ctx, batch[0].ID, p.ExpectedMutationID); err != nil {
				return err
			}
		case "too-many-mutations":
			if p.Limit < 1 || p.Limit >= s.opts.PushBatch {
				return p
			}
			s.opts.PushBatch = p.Limit
		case "protocol-too-old":
			msg := fmt.Sprintf("protocol %d refused; the server needs %d or newer", d.opts.ProtocolVersion, p.MinProtocolVersion)
			_ = setMeta(ctx, d.db, metaUpgrade, msg)
			return fmt.Errorf("%w (%s)", ErrUpgradeRequired, msg)
		default:
			return p
		}
	}
}

// gap handles 409 mutation-gap: the server expects id want. When want is above our first id, the
// server already has the mutations below it (their answer was lost): drop them and go on. When it
// is below, the mutations in between are gone from this phone; none of the queued ones was
// applied (all lie above the server's last id), so the queue moves down to start at want.
func (s *session) gap(ctx context.Context, first, want int64) error {
	s.report.Gaps++
	if want < 1 || s.report.Gaps > maxGapRounds {
		return fmt.Errorf("the server keeps answering mutation-gap (expects %d, queue starts at %d)", want, first)
	}
	s.notice("push: the server expects mutation %d, the queue starts at %d", want, first)
	return s.d.inTx(ctx, func(tx *sql.Tx) error {
		if want > first {
			return ackThrough(ctx, tx, want-1)
		}
		s.report.Renumbered = true
		return renumberFrom(ctx, tx, want)
	})
}

// pushed stores a push's answer: rejections, the versions written, and the acknowledgement.
func (s *session) pushed(ctx context.Context, batch []QueuedMutation, body []byte) error {
	var out struct {
		LastMutationID int64        `json:"last_mutation_id"`
		Results        []pushResult `json:"results"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("push: unreadable answer: %w", err)
	}
	names := map[int64]string{}
	for _, m := range batch {
		names[m.ID] = m.Name
	}
	stamp := s.d.stamp()
	err := s.d.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range out.Results {
			switch r.Status {
			case "applied", "conflict":
				if r.Status == "conflict" {
					s.report.Conflicts++
				} else {
					s.report.Applied++
				}
				if r.Entity != nil {
					if _, err := tx.ExecContext(ctx, `UPDATE records SET version = max(version, ?) WHERE type = ? AND id = ?`,
						r.Entity.Version, r.Entity.Type, r.Entity.ID); err != nil {
						return err
					}
				}
			case "rejected":
				s.report.Rejected++
				rj := Rejection{MutationID: r.ID, Name: names[r.ID], ReceivedAt: stamp}
				if r.Error != nil {
					rj.Code, rj.Field, rj.Message = r.Error.Code, r.Error.Field, r.Error.Message
				}
				if err := saveRejection(ctx, tx, rj); err != nil {
					return err
				}
			case "expired":
				// A replay of a mutation done (applied or rejected) longer ago than the server keeps
				// results: it was not applied again. It is done; the acknowledgement below drops it.
				s.report.Expired++
			}
		}
		if err := setMeta(ctx, tx, metaUpgrade, ""); err != nil {
			return err
		}
		return ackThrough(ctx, tx, out.LastMutationID)
	})
	if err != nil {
		return err
	}
	s.report.Pushed += len(out.Results)
	if out.LastMutationID < batch[0].ID {
		return fmt.Errorf("push: the server acknowledged up to %d, below the batch sent (%d…)", out.LastMutationID, batch[0].ID)
	}
	return nil
}

func saveRejection(ctx context.Context, tx *sql.Tx, r Rejection) error {
	if r.ReceivedAt == "" {
		r.ReceivedAt = time.Now().UTC().Format(time.RFC3339Nano)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO rejections(mutation_id, name, code, field, message, received_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(mutation_id) DO UPDATE SET name = excluded.name, code = excluded.code, field = excluded.field,
		message = excluded.message`, r.MutationID, r.Name, r.Code, r.Field, r.Message, r.ReceivedAt)
	return err
}

func toPush(q []QueuedMutation) []pushMutation {
	out := make([]pushMutation, len(q))
	for i, m := range q {
		out[i] = pushMutation{ID: m.ID, Name: m.Name, Args: m.Args, ClientTime: m.ClientTime}
	}
	return out
}

func (s *session) queueLen(ctx context.Context) (int, error) {
	var n int
	err := s.d.db.QueryRowContext(ctx, `SELECT count(*) FROM queue`).Scan(&n)
	return n, err
}
