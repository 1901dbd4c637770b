package device

import (
	"context"
	"encoding/json"
)

// Rejection is a queued mutation the server refused for good (delivered by push and by pull).
type Rejection struct {
	MutationID int64  `json:"mutation_id"`
	Name       string `json:"name"`
	Code       string `json:"code"`
	Field      string `json:"field,omitempty"`
	Message    string `json:"message"`
	ReceivedAt string `json:"received_at"`
}

// Conflict is a conflict record the server sent: two people changed one field offline.
type Conflict struct {
	ID       string          `json:"id"`
	Version  int64           `json:"version"` // 1 open, 2 resolved
	Resolved bool            `json:"resolved"`
	Data     json.RawMessage `json:"data"`
}

// Status is what `fieldctl status` shows.
type Status struct {
	Server          string         `json:"server"`
	Username        string         `json:"username"`
	LoggedIn        bool           `json:"logged_in"`
	DeviceID        string         `json:"device_id"`
	ClientID        string         `json:"client_id"`
	Queue           int            `json:"queue"`            // mutations not yet acknowledged
	LastMutationID  int64          `json:"last_mutation_id"` // the server's last acknowledged id
	NextMutationID  int64          `json:"next_mutation_id"`
	PendingPhotos   int            `json:"pending_photos"`
	FailedPhotos    int            `json:"failed_photos"`
	LastSync        string         `json:"last_sync,omitempty"`
	LastError       string         `json:"last_error,omitempty"`
	UpgradeRequired string         `json:"upgrade_required,omitempty"`
	Cursor          string         `json:"cursor,omitempty"`
	Records         map[string]int `json:"records"` // held records by type
	Rejections      []Rejection    `json:"rejections"`
	Conflicts       []Conflict     `json:"conflicts"`
}

// Status reports the queue, uploads, last sync, cursor, rejections and conflicts.
func (d *Device) Status(ctx context.Context) (*Status, error) {
	s := &Status{Records: map[string]int{}, Rejections: []Rejection{}, Conflicts: []Conflict{}, LoggedIn: d.LoggedIn()}
	for key, dst := range map[string]*string{metaServer: &s.Server, metaUsername: &s.Username, metaDeviceID: &s.DeviceID,
		metaClientID: &s.ClientID, metaLastSync: &s.LastSync, metaLastError: &s.LastError, metaUpgrade: &s.UpgradeRequired,
		metaCursor: &s.Cursor} {
		v, err := getMeta(ctx, d.db, key)
		if err != nil {
			return nil, err
		}
		*dst = v
	}
	var err error
	if s.LastMutationID, err = getMetaInt(ctx, d.db, metaLastAcked); err != nil {
		return nil, err
	}
	if s.NextMutationID, err = getMetaInt(ctx, d.db, metaNextID); err != nil {
		return nil, err
	}
	s.NextMutationID = max(s.NextMutationID, s.LastMutationID+1)
	row := d.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM queue),
		(SELECT count(*) FROM photos WHERE state = 'pending'), (SELECT count(*) FROM photos WHERE state = 'failed')`)
	if err := row.Scan(&s.Queue, &s.PendingPhotos, &s.FailedPhotos); err != nil {
		return nil, err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT type, count(*) FROM records GROUP BY type`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t string
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			rows.Close()
			return nil, err
		}
		s.Records[t] = n
	}
	rows.Close()
	if s.Rejections, err = d.Rejections(ctx); err != nil {
		return nil, err
	}
	if s.Conflicts, err = d.Conflicts(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Rejections lists the rejected mutations of this install, oldest first.
func (d *Device) Rejections(ctx context.Context) ([]Rejection, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT mutation_id, name, code, field, message, received_at FROM rejections ORDER BY mutation_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Rejection{}
	for rows.Next() {
		var r Rejection
		if err := rows.Scan(&r.MutationID, &r.Name, &r.Code, &r.Field, &r.Message, &r.ReceivedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Conflicts lists the conflicts the server reported to this user.
func (d *Device) Conflicts(ctx context.Context) ([]Conflict, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, version, data FROM conflicts ORDER BY received_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Conflict{}
	for rows.Next() {
		var c Conflict
		var data string
		if err := rows.Scan(&c.ID, &c.Version, &data); err != nil {
			return nil, err
		}
		c.Data, c.Resolved = json.RawMessage(data), c.Version >= 2
		out = append(out, c)
	}
	return out, rows.Err()
}
