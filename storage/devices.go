package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

type deviceRow struct {
	ID         string
	UserID     uuid.UUID
	Name       string
	Platform   string
	AppVersion string
	FirstSeen  time.Time
	LastSeen   time.Time
	RevokedAt  sql.NullTime
}

func (r deviceRow) model() models.Device {
	d := models.Device{ID: r.ID, UserID: r.UserID, Name: r.Name, Platform: r.Platform, AppVersion: r.AppVersion,
		FirstSeen: r.FirstSeen, LastSeen: r.LastSeen}
	if r.RevokedAt.Valid {
		t := r.RevokedAt.Time
		d.RevokedAt = &t
	}
	return d
}

const deviceCols = `id, user_id, name, platform, app_version, first_seen, last_seen, revoked_at`

// DeviceLogin records a login from device d by userID: the (device, user) row is created on first
// sight and its details refreshed otherwise. Other users' rows for the same phone are left alone.
// It reports revoked when the phone has been revoked for anyone (a lost phone stays locked
// whoever tries it). Call inside InTx.
func (s *Store) DeviceLogin(ctx context.Context, d models.Device, userID uuid.UUID, ip string) (dev models.Device, revoked bool, err error) {
	if err := s.q(ctx).Raw(`SELECT coalesce(bool_or(revoked_at IS NOT NULL), false) FROM devices WHERE id = ?`, d.ID).
		Scan(&revoked).Error; err != nil {
		return models.Device{}, false, fmt.Errorf("storage: device login: %w", classify(err))
	}
	if revoked {
		return models.Device{}, true, nil
	}
	var row deviceRow
	err = s.q(ctx).Raw(`INSERT INTO devices (id, user_id, name, platform, app_version, last_ip) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id, user_id) DO UPDATE SET name = excluded.name, platform = excluded.platform,
			app_version = excluded.app_version, last_ip = excluded.last_ip, last_seen = now()
		RETURNING `+deviceCols, d.ID, userID, d.Name, d.Platform, d.AppVersion, ip).Scan(&row).Error
	if err != nil {
		return models.Device{}, false, fmt.Errorf("storage: device login: %w", classify(err))
	}
	return row.model(), false, nil
}

// KnownDevice reports whether device id has logged in successfully as userID before and is not
// revoked. A nil userID (an unknown username) is never known, after the same query, so the
// answer takes as long either way.
func (s *Store) KnownDevice(ctx context.Context, id string, userID uuid.UUID) (bool, error) {
	var known bool
	err := s.q(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM devices WHERE id = ? AND user_id = ? AND revoked_at IS NULL)`,
		id, userID).Scan(&known).Error
	if err != nil {
		return false, fmt.Errorf("storage: known device: %w", classify(err))
	}
	return known, nil
}

// TouchDevice moves a device's last_seen forward, at most once a minute, so ordinary requests
// don't write on every call.
func (s *Store) TouchDevice(ctx context.Context, id string, userID uuid.UUID, ip string) error {
	err := s.q(ctx).Exec(`UPDATE devices SET last_seen = now(), last_ip = ?
		WHERE id = ? AND user_id = ? AND last_seen < now() - interval '1 minute'`, ip, id, userID).Error
	if err != nil {
		return fmt.Errorf("storage: touch device: %w", classify(err))
	}
	return nil
}

// GetDevice loads the most recently seen row of a phone.
func (s *Store) GetDevice(ctx context.Context, id string) (models.Device, error) {
	var rows []deviceRow
	if err := s.q(ctx).Raw(`SELECT `+deviceCols+` FROM devices WHERE id = ? ORDER BY last_seen DESC LIMIT 1`, id).Scan(&rows).Error; err != nil {
		return models.Device{}, fmt.Errorf("storage: get device: %w", classify(err))
	}
	if len(rows) == 0 {
		return models.Device{}, fmt.Errorf("storage: device %q: %w", id, ErrNotFound)
	}
	return rows[0].model(), nil
}

// DeviceFilter narrows ListDevices. After is DeviceCursor of the last row of the previous page.
type DeviceFilter struct {
	UserID  *uuid.UUID
	Revoked *bool
	After   string
	Limit   int
}

// DeviceCursor is the page key of a device row (rows are ordered by device id, then user id).
func DeviceCursor(d models.Device) string { return d.ID + " " + d.UserID.String() }

// ListDevices returns one page of devices ordered by id.
func (s *Store) ListDevices(ctx context.Context, f DeviceFilter) ([]models.Device, error) {
	conds, args := []string{"TRUE"}, []any{}
	if f.UserID != nil {
		conds, args = append(conds, "user_id = ?"), append(args, *f.UserID)
	}
	if f.Revoked != nil {
		conds = append(conds, map[bool]string{true: "revoked_at IS NOT NULL", false: "revoked_at IS NULL"}[*f.Revoked])
	}
	if f.After != "" {
		id, user, _ := strings.Cut(f.After, " ")
		uid, err := uuid.Parse(user)
		if err != nil {
			return nil, fmt.Errorf("storage: device cursor: %w", ErrNotFound)
		}
		conds, args = append(conds, "(id, user_id) > (?, ?)"), append(args, id, uid)
	}
	args = append(args, f.Limit)
	var rows []deviceRow
	if err := s.q(ctx).Raw(`SELECT `+deviceCols+` FROM devices WHERE `+strings.Join(conds, " AND ")+` ORDER BY id, user_id LIMIT ?`,
		args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: list devices: %w", classify(err))
	}
	out := make([]models.Device, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// RevokeDevice marks a phone revoked (a lost phone) for every user of it and ends its sessions at once. Revoking a
// revoked device changes nothing. Call inside InTx.
func (s *Store) RevokeDevice(ctx context.Context, id string) (models.Device, error) {
	res := s.q(ctx).Exec(`UPDATE devices SET revoked_at = coalesce(revoked_at, now()) WHERE id = ?`, id)
	if res.Error != nil {
		return models.Device{}, fmt.Errorf("storage: revoke device: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return models.Device{}, fmt.Errorf("storage: device %q: %w", id, ErrNotFound)
	}
	if err := s.RevokeDeviceTokens(ctx, id); err != nil {
		return models.Device{}, err
	}
	return s.GetDevice(ctx, id)
}
