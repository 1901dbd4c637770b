package device

import (
	"context"
	"encoding/json"
	"strings"
)

// Filter narrows Sites and Findings. Empty fields match everything.
type Filter struct {
	Kind   string // a site kind (project …) or a kind of work (project_visit …)
	Region string // a region's id, code or name: it and every region under it
	Status string // e.g. active, open, rectifying
	Text   string // a case-insensitive substring of the record's JSON (names, descriptions …)
	Limit  int    // 0: all
}

// Sites lists the pulled sites matching f, by name.
func (d *Device) Sites(ctx context.Context, f Filter) ([]Record, error) {
	return d.find(ctx, "site", f, "name")
}

// Findings lists the findings held (pulled or made here) matching f, by deadline.
func (d *Device) Findings(ctx context.Context, f Filter) ([]Record, error) {
	return d.find(ctx, "finding", f, "deadline")
}

// Visits lists the visits held matching f, by start time.
func (d *Device) Visits(ctx context.Context, f Filter) ([]Record, error) {
	return d.find(ctx, "visit", f, "started_at")
}

// Records lists every held record of one type, by id.
func (d *Device) Records(ctx context.Context, typ string) ([]Record, error) {
	return d.find(ctx, typ, Filter{}, "")
}

// Record returns one held record (nil when the phone has none).
func (d *Device) Record(ctx context.Context, typ, id string) (*Record, error) {
	return getRecord(ctx, d.db, typ, id)
}

func (d *Device) find(ctx context.Context, typ string, f Filter, orderField string) ([]Record, error) {
	q := `SELECT type, id, version, data, origin FROM records WHERE type = ?`
	args := []any{typ}
	if f.Kind != "" {
		q += ` AND (json_extract(data, '$.kind') = ? OR json_extract(data, '$.work_kind') = ?)`
		args = append(args, f.Kind, f.Kind)
	}
	if f.Status != "" {
		q += ` AND json_extract(data, '$.status') = ?`
		args = append(args, f.Status)
	}
	if f.Text != "" {
		q += ` AND instr(lower(data), lower(?)) > 0`
		args = append(args, f.Text)
	}
	if orderField != "" {
		q += ` ORDER BY json_extract(data, '$.` + orderField + `'), id`
	} else {
		q += ` ORDER BY id`
	}
	var regions map[string]bool
	if f.Region != "" {
		var err error
		if regions, err = d.regionsUnder(ctx, f.Region); err != nil {
			return nil, err
		}
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		var r Record
		var data, origin string
		if err := rows.Scan(&r.Type, &r.ID, &r.Version, &data, &origin); err != nil {
			return nil, err
		}
		r.Data, r.Local = json.RawMessage(data), origin == originLocal
		if regions != nil {
			var x struct {
				RegionID string `json:"region_id"`
			}
			_ = json.Unmarshal(r.Data, &x)
			if !regions[x.RegionID] {
				continue
			}
		}
		out = append(out, r)
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
	}
	return out, rows.Err()
}

// regionsUnder resolves a region by id, code or name (pulled regions) to it and its descendants.
func (d *Device) regionsUnder(ctx context.Context, key string) (map[string]bool, error) {
	regs, err := d.Records(ctx, "region")
	if err != nil {
		return nil, err
	}
	children := map[string][]string{}
	var roots []string
	for _, r := range regs {
		var x struct {
			ID, Code, Name string
			ParentID       *string `json:"parent_id"`
		}
		_ = json.Unmarshal(r.Data, &x)
		if x.ParentID != nil {
			children[*x.ParentID] = append(children[*x.ParentID], r.ID)
		}
		if r.ID == key || x.Code == key || strings.EqualFold(x.Name, key) {
			roots = append(roots, r.ID)
		}
	}
	out := map[string]bool{}
	for len(roots) > 0 {
		id := roots[len(roots)-1]
		roots = roots[:len(roots)-1]
		if !out[id] {
			out[id] = true
			roots = append(roots, children[id]...)
		}
	}
	out[key] = true // a bare id not pulled as a region still matches itself
	return out, nil
}

// Export is everything the phone holds, for `fieldctl export`.
type Export struct {
	Status     *Status             `json:"status"`
	Records    map[string][]Record `json:"records"`
	Queue      []QueuedMutation    `json:"queue"`
	Photos     []PendingPhoto      `json:"photos"`
	Rejections []Rejection         `json:"rejections"`
	Conflicts  []Conflict          `json:"conflicts"`
}

// Export gathers the local data: status, records by type, queue, photos, rejections, conflicts.
func (d *Device) Export(ctx context.Context) (*Export, error) {
	st, err := d.Status(ctx)
	if err != nil {
		return nil, err
	}
	e := &Export{Status: st, Records: map[string][]Record{}, Rejections: st.Rejections, Conflicts: st.Conflicts}
	for typ := range st.Records {
		if e.Records[typ], err = d.Records(ctx, typ); err != nil {
			return nil, err
		}
	}
	if e.Queue, err = d.Queue(ctx); err != nil {
		return nil, err
	}
	if e.Queue == nil {
		e.Queue = []QueuedMutation{}
	}
	if e.Photos, err = d.Photos(ctx); err != nil {
		return nil, err
	}
	if e.Photos == nil {
		e.Photos = []PendingPhoto{}
	}
	return e, nil
}
