package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// CreateToken stores the SHA-256 hash of a new bearer token for user on device.
func (s *Store) CreateToken(ctx context.Context, hash []byte, userID uuid.UUID, deviceID string, expires time.Time) (uuid.UUID, error) {
	id := uuid.New()
	err := s.q(ctx).Exec(`INSERT INTO tokens (id, hash, user_id, device_id, expires_at) VALUES (?, ?, ?, ?, ?)`,
		id, hash, userID, deviceID, expires).Error
	if err != nil {
		return uuid.Nil, fmt.Errorf("storage: create token: %w", classify(err))
	}
	return id, nil
}

type principalRow struct {
	TokenID  uuid.UUID
	DeviceID string
	User     scopedUserRow `gorm:"embedded"`
}

// Authenticate resolves a token hash to its principal in one query. A token that is unknown,
// expired or revoked, whose user is disabled or whose device is revoked, is ErrNotFound: all of
// these end a session at once.
func (s *Store) Authenticate(ctx context.Context, hash []byte) (models.Principal, error) {
	var rows []principalRow
	err := s.q(ctx).Raw(`SELECT t.id AS token_id, t.device_id, `+scopedUserCols+`
		FROM tokens t
		JOIN users u ON u.id = t.user_id
		JOIN devices d ON d.id = t.device_id AND d.user_id = t.user_id
		LEFT JOIN regions r ON r.id = u.region_id
		WHERE t.hash = ? AND t.revoked_at IS NULL AND t.expires_at > now()
		  AND u.active AND d.revoked_at IS NULL`, hash).Scan(&rows).Error
	if err != nil {
		return models.Principal{}, fmt.Errorf("storage: authenticate: %w", classify(err))
	}
	if len(rows) == 0 {
		return models.Principal{}, fmt.Errorf("storage: token: %w", ErrNotFound)
	}
	r := rows[0]
	u := r.User.model()
	return models.Principal{User: u.User, DeviceID: r.DeviceID, TokenID: r.TokenID,
		Scope: models.Scope{RegionID: u.RegionID, RegionPath: u.RegionPath, Kinds: u.Kinds}}, nil
}

// RevokeToken ends one session.
func (s *Store) RevokeToken(ctx context.Context, id uuid.UUID) error {
	err := s.q(ctx).Exec(`UPDATE tokens SET revoked_at = now() WHERE id = ? AND revoked_at IS NULL`, id).Error
	if err != nil {
		return fmt.Errorf("storage: revoke token: %w", classify(err))
	}
	return nil
}

// RevokeUserTokens ends every session of a user.
func (s *Store) RevokeUserTokens(ctx context.Context, userID uuid.UUID) error {
	err := s.q(ctx).Exec(`UPDATE tokens SET revoked_at = now() WHERE user_id = ? AND revoked_at IS NULL`, userID).Error
	if err != nil {
		return fmt.Errorf("storage: revoke user tokens: %w", classify(err))
	}
	return nil
}

// RevokeDeviceTokens ends every session on a device.
func (s *Store) RevokeDeviceTokens(ctx context.Context, deviceID string) error {
	err := s.q(ctx).Exec(`UPDATE tokens SET revoked_at = now() WHERE device_id = ? AND revoked_at IS NULL`, deviceID).Error
	if err != nil {
		return fmt.Errorf("storage: revoke device tokens: %w", classify(err))
	}
	return nil
}

// RevokeDeviceSessions ends every session of userID on device (a new login on the device replaces
// them: one session per device and user) and returns how many it ended. Call inside InTx after
// DeviceLogin, whose row lock on the device orders concurrent logins of it.
func (s *Store) RevokeDeviceSessions(ctx context.Context, userID uuid.UUID, deviceID string) (int64, error) {
	res := s.q(ctx).Exec(`UPDATE tokens SET revoked_at = now() WHERE user_id = ? AND device_id = ? AND revoked_at IS NULL`,
		userID, deviceID)
	if res.Error != nil {
		return 0, fmt.Errorf("storage: revoke device sessions: %w", classify(res.Error))
	}
	return res.RowsAffected, nil
}

// PruneTokens deletes tokens that expired or were revoked before cutoff.
func (s *Store) PruneTokens(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.q(ctx).Exec(`DELETE FROM tokens WHERE expires_at < ? OR revoked_at < ?`, cutoff, cutoff)
	if res.Error != nil {
		return 0, fmt.Errorf("storage: prune tokens: %w", classify(res.Error))
	}
	return res.RowsAffected, nil
}
