package storage

import (
	"context"
	"fmt"
	"time"
)

// ThrottleLocked returns how long the longest lock among keys still runs (0 when none is locked).
// Keys are e.g. "user:<name>" and "ip:<addr>"; the counters live in PostgreSQL so every API
// instance sees the same ones.
func (s *Store) ThrottleLocked(ctx context.Context, keys ...string) (time.Duration, error) {
	var secs float64
	err := s.q(ctx).Raw(`SELECT coalesce(max(extract(epoch FROM locked_until - now())), 0)::float8 FROM login_throttle
		WHERE key IN ? AND locked_until > now()`, keys).Scan(&secs).Error
	if err != nil {
		return 0, fmt.Errorf("storage: throttle: %w", classify(err))
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// ThrottleFail counts one failure against key within a fixed window; when the count reaches
// limit the key is locked for lockout. It returns the lock's remaining time (0 when not locked).
func (s *Store) ThrottleFail(ctx context.Context, key string, limit int, window, lockout time.Duration) (time.Duration, error) {
	var secs float64
	err := s.q(ctx).Raw(`INSERT INTO login_throttle AS t (key, failures, window_start) VALUES (?, 1, now())
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN t.window_start < now() - make_interval(secs => ?) THEN 1 ELSE t.failures + 1 END,
			window_start = CASE WHEN t.window_start < now() - make_interval(secs => ?) THEN now() ELSE t.window_start END
		RETURNING 0::float8`, key, window.Seconds(), window.Seconds()).Scan(&secs).Error
	if err != nil {
		return 0, fmt.Errorf("storage: throttle: %w", classify(err))
	}
	err = s.q(ctx).Raw(`UPDATE login_throttle SET locked_until = now() + make_interval(secs => ?)
		WHERE key = ? AND failures >= ? RETURNING extract(epoch FROM locked_until - now())::float8`,
		lockout.Seconds(), key, limit).Scan(&secs).Error
	if err != nil {
		return 0, fmt.Errorf("storage: throttle: %w", classify(err))
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// ThrottleReset forgets the failures of key (after a successful login).
func (s *Store) ThrottleReset(ctx context.Context, key string) error {
	if err := s.q(ctx).Exec(`DELETE FROM login_throttle WHERE key = ?`, key).Error; err != nil {
		return fmt.Errorf("storage: throttle reset: %w", classify(err))
	}
	return nil
}

// PruneThrottle forgets counters whose window and lock both ended before cutoff.
func (s *Store) PruneThrottle(ctx context.Context, cutoff time.Time) error {
	err := s.q(ctx).Exec(`DELETE FROM login_throttle WHERE window_start < ? AND (locked_until IS NULL OR locked_until < ?)`,
		cutoff, cutoff).Error
	if err != nil {
		return fmt.Errorf("storage: prune throttle: %w", classify(err))
	}
	return nil
}
