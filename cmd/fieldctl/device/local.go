package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
	"strings"
)

// Record origins: what the server sent, or what the phone made and has not seen back yet.
const (
	originServer = "server"
	originLocal  = "local"
)

// Record is one record the phone holds: pulled from the server, or made locally and not yet
// pulled back (Local; version 0 until the server's copy arrives).
type Record struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Version int64           `json:"version"`
	Local   bool            `json:"local"`
	Data    json.RawMessage `json:"data"`
}

func getRecord(ctx context.Context, q queryer, typ, id string) (*Record, error) {
	var r Record
	var data, origin string
	err := q.QueryRowContext(ctx, `SELECT type, id, version, data, origin FROM records WHERE type = ? AND id = ?`, typ, id).
		Scan(&r.Type, &r.ID, &r.Version, &data, &origin)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	r.Data, r.Local = json.RawMessage(data), origin == originLocal
	return &r, err
}

func putRecord(ctx context.Context, q queryer, r Record, origin, stamp string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO records(type, id, version, data, origin, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(type, id) DO UPDATE SET version = excluded.version, data = excluded.data,
		origin = excluded.origin, updated_at = excluded.updated_at`, r.Type, r.ID, r.Version, string(r.Data), origin, stamp)
	return err
}

// patchRecord sets top-level fields of a held record's data (a no-op when it is not held).
func patchRecord(ctx context.Context, tx *sql.Tx, typ, id string, stamp string, f func(m map[string]any)) error {
	r, err := getRecord(ctx, tx, typ, id)
	if err != nil || r == nil {
		return err
	}
	m := map[string]any{}
	if err := json.Unmarshal(r.Data, &m); err != nil {
		return err
	}
	f(m)
	r.Data, _ = json.Marshal(m)
	_, err = tx.ExecContext(ctx, `UPDATE records SET data = ?, updated_at = ? WHERE type = ? AND id = ?`, string(r.Data), stamp, typ, id)
	return err
}

// applyLocal shows a queued mutation's effect in the local records, as the phone's screens
// would; the server's copy replaces it when pulled, and reapplyQueue lays the still-queued
// mutations on top again. Applying twice gives the same result.
func applyLocal(ctx context.Context, tx *sql.Tx, m QueuedMutation, stamp string) error {
	var args map[string]any
	if err := json.Unmarshal(m.Args, &args); err != nil {
		return err
	}
	id, _ := args["id"].(string)
	switch m.Name {
	case "visit.create", "finding.create":
		typ := strings.TrimSuffix(m.Name, ".create")
		if r, err := getRecord(ctx, tx, typ, id); err != nil || r != nil {
			return err
		}
		data := map[string]any{}
		for k, v := range args {
			data[k] = v
		}
		if typ == "visit" {
			data["status"] = "draft"
		} else {
			data["status"] = "open"
		}
		raw, _ := json.Marshal(data)
		return putRecord(ctx, tx, Record{Type: typ, ID: id, Data: raw}, originLocal, stamp)
	case "visit.submit":
		return patchRecord(ctx, tx, "visit", id, stamp, func(d map[string]any) { d["status"] = "submitted" })
	case "visit.update", "finding.update":
		set, _ := args["set"].(map[string]any)
		return patchRecord(ctx, tx, strings.TrimSuffix(m.Name, ".update"), id, stamp, func(d map[string]any) {
			for k, v := range set {
				if key, ok := strings.CutPrefix(k, "answers."); ok {
					ans, _ := d["answers"].(map[string]any)
					if ans == nil {
						ans = map[string]any{}
					}
					ans[key] = v
					d["answers"] = ans
					continue
				}
				d[k] = v
			}
		})
	case "finding.start", "finding.rectify", "finding.recheck":
		return patchRecord(ctx, tx, "finding", id, stamp, func(d map[string]any) {
			switch m.Name {
			case "finding.start":
				d["status"] = "rectifying"
			case "finding.rectify":
				d["status"] = "awaiting_recheck"
			default:
				if passed, _ := args["passed"].(bool); passed {
					d["status"] = "closed"
				} else {
					d["status"] = "rectifying"
				}
			}
		})
	case "photo.attach":
		pid, _ := args["photo_id"].(string)
		if r, err := getRecord(ctx, tx, "photo", pid); err != nil || r != nil {
			return err
		}
		raw, _ := json.Marshal(map[string]any{"id": pid, "status": "pending_upload", "attach": args})
		return putRecord(ctx, tx, Record{Type: "photo", ID: pid, Data: raw}, originLocal, stamp)
	case "track.append":
		return appendLocalTrack(ctx, tx, args, stamp)
	}
	return nil
}

// appendLocalTrack merges a chunk's points into the local track record (by time, as the server does).
func appendLocalTrack(ctx context.Context, tx *sql.Tx, args map[string]any, stamp string) error {
	vid, _ := args["visit_id"].(string)
	pts, _ := args["points"].([]any)
	r, err := getRecord(ctx, tx, "track", vid)
	if err != nil {
		return err
	}
	data := map[string]any{"visit_id": vid, "points": []any{}}
	local := true
	if r != nil {
		if err := json.Unmarshal(r.Data, &data); err != nil {
			return err
		}
		local = r.Local
	}
	old, _ := data["points"].([]any)
	seen := map[string]bool{}
	merged := make([]any, 0, len(old)+len(pts))
	for _, p := range append(old, pts...) {
		pm, _ := p.(map[string]any)
		t, _ := pm["t"].(string)
		if seen[t] {
			continue
		}
		seen[t] = true
		merged = append(merged, p)
	}
	sort.SliceStable(merged, func(i, j int) bool {
		a, _ := merged[i].(map[string]any)["t"].(string)
		b, _ := merged[j].(map[string]any)["t"].(string)
		return a < b
	})
	data["points"] = merged
	raw, _ := json.Marshal(data)
	origin := originServer
	if local {
		origin = originLocal
	}
	version := int64(0)
	if r != nil {
		version = r.Version
	}
	return putRecord(ctx, tx, Record{Type: "track", ID: vid, Version: version, Data: raw}, origin, stamp)
}

// reapplyQueue lays every still-queued mutation on top of the records, in order.
func reapplyQueue(ctx context.Context, tx *sql.Tx, stamp string) error {
	q, err := loadQueue(ctx, tx, 0, -1)
	if err != nil {
		return err
	}
	for _, m := range q {
		if err := applyLocal(ctx, tx, m, stamp); err != nil {
			return err
		}
	}
	return nil
}
