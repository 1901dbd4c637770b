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

// DeviceLogin records a login from device d by userID: the device is created on first sight and
// its details refreshed otherwise. When the phone changes hands (another user logs in on it), the
// previous user's sessions on it end. It returns the device as stored and the previous owner
// (uuid.Nil when the device is new or unchanged); a revoked device stays revoked. Call inside InTx.
func (s *Store) DeviceLogin(ctx context.Context, d models.Device, userID uuid.UUID, ip string) (models.Device, uuid.UUID, error) {
	var prev []uuid.UUID
	if err := s.q(ctx).Raw(`SELECT user_id FROM devices WHERE id = ? FOR UPDATE`, d.ID).Scan(&prev).Error; err != nil {
		return models.Device{}, uuid.Nil, fmt.Errorf("storage: device login: %w", classify(err))
	}
	var row deviceRow
	err := s.q(ctx).Raw(`INSERT INTO devices (id, user_id, name, platform, app_version, last_ip) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, name = excluded.name, platform = excluded.platform,
			app_version = excluded.app_version, last_ip = excluded.last_ip, last_seen = now()
		RETURNING `+deviceCols, d.ID, userID, d.Name, d.Platform, d.AppVersion, ip).Scan(&row).Error
	if err != nil {
		return models.Device{}, uuid.Nil, fmt.Errorf("storage: device login: %w", classify(err))
	}
	previous := uuid.Nil
	if len(prev) == 1 && prev[0] != userID {
		previous = prev[0]
		if err := s.RevokeDeviceTokens(ctx, d.ID); err != nil {
			return models.Device{}, uuid.Nil, err
		}
	}
	return row.model(), previous, nil
}

// TouchDevice moves a device's last_seen forward, at most once a minute, so ordinary requests
// don't write on every call.
func (s *Store) TouchDevice(ctx context.Context, id, ip string) error {
	err := s.q(ctx).Exec(`UPDATE devices SET last_seen = now(), last_ip = ? WHERE id = ? AND last_seen < now() - interval '1 minute'`,
		ip, id).Error
	if err != nil {
		return fmt.Errorf("storage: touch device: %w", classify(err))
	}
	return nil
}

// GetDevice loads one device.
func (s *Store) GetDevice(ctx context.Context, id string) (models.Device, error) {
	var rows []deviceRow
	if err := s.q(ctx).Raw(`SELECT `+deviceCols+` FROM devices WHERE id = ?`, id).Scan(&rows).Error; err != nil {
		return models.Device{}, fmt.Errorf("storage: get device: %w", classify(err))
	}
	if len(rows) == 0 {
		return models.Device{}, fmt.Errorf("storage: device %q: %w", id, ErrNotFound)
	}
	return rows[0].model(), nil
}

// DeviceFilter narrows ListDevices. After is the last device id of the previous page.
type DeviceFilter struct {
	UserID  *uuid.UUID
	Revoked *bool
	After   string
	Limit   int
}

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
		conds, args = append(conds, "id > ?"), append(args, f.After)
	}
	args = append(args, f.Limit)
	var rows []deviceRow
	if err := s.q(ctx).Raw(`SELECT `+deviceCols+` FROM devices WHERE `+strings.Join(conds, " AND ")+` ORDER BY id LIMIT ?`,
		args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: list devices: %w", classify(err))
	}
	out := make([]models.Device, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// RevokeDevice marks a device revoked (a lost phone) and ends its sessions at once. Revoking a
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
