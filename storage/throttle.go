package storage

import (
	"context"
	"fmt"
	"time"
)

// ThrottleRule says how failed logins counted against one kind of key slow its next attempt.
// The first Free failures within Window cost nothing; the n-th failure after them makes the key
// wait 2^n seconds (2 s, 4 s, 8 s …), never more than MaxDelay. Counting restarts with the first
// failure after the window has ended; a wait already imposed runs to its end.
type ThrottleRule struct {
	Free     int
	Window   time.Duration
	MaxDelay time.Duration
}

// Delay is the wait the failures-th failure within the window imposes (0 within Free).
func (r ThrottleRule) Delay(failures int) time.Duration {
	over := failures - r.Free
	if over <= 0 {
		return 0
	}
	if over >= 30 { // 2^30 s is decades: past any sensible MaxDelay, and 1<<over stays in range
		return r.MaxDelay
	}
	return min(time.Duration(1<<over)*time.Second, r.MaxDelay)
}

// ThrottleWait returns how long the longest wait among keys still runs (0 when none waits). The
// counters live in PostgreSQL, so every API instance sees the same ones and a restart forgets
// nothing.
func (s *Store) ThrottleWait(ctx context.Context, keys ...string) (time.Duration, error) {
	var secs float64
	err := s.q(ctx).Raw(`SELECT coalesce(max(extract(epoch FROM blocked_until - now())), 0)::float8 FROM login_failures
		WHERE key IN ? AND blocked_until > now()`, keys).Scan(&secs).Error
	if err != nil {
		return 0, fmt.Errorf("storage: throttle: %w", classify(err))
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// ThrottleFail counts one failure against key under rule. It returns the number of failures in
// the current window (1 for the first one after a quiet window) and how long the key must now
// wait (0 when it need not).
func (s *Store) ThrottleFail(ctx context.Context, key string, rule ThrottleRule) (failures int, wait time.Duration, err error) {
	var row struct {
		Failures int
		Secs     float64
	}
	err = s.q(ctx).Raw(`INSERT INTO login_failures AS t (key, failures, window_ends)
		VALUES (?, 1, now() + make_interval(secs => ?))
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN t.window_ends <= now() THEN 1 ELSE t.failures + 1 END,
			window_ends = CASE WHEN t.window_ends <= now() THEN excluded.window_ends ELSE t.window_ends END
		RETURNING failures, greatest(coalesce(extract(epoch FROM blocked_until - now()), 0), 0)::float8 AS secs`,
		key, rule.Window.Seconds()).Scan(&row).Error
	if err != nil {
		return 0, 0, fmt.Errorf("storage: throttle: %w", classify(err))
	}
	d := rule.Delay(row.Failures)
	if d == 0 {
		return row.Failures, time.Duration(row.Secs * float64(time.Second)), nil
	}
	err = s.q(ctx).Raw(`UPDATE login_failures
		SET blocked_until = greatest(blocked_until, now() + make_interval(secs => ?))
		WHERE key = ? RETURNING extract(epoch FROM blocked_until - now())::float8`, d.Seconds(), key).Scan(&row.Secs).Error
	if err != nil {
		return 0, 0, fmt.Errorf("storage: throttle: %w", classify(err))
	}
	return row.Failures, time.Duration(row.Secs * float64(time.Second)), nil
}

// ThrottleReset forgets the failures of keys (after a successful login).
func (s *Store) ThrottleReset(ctx context.Context, keys ...string) error {
	if err := s.q(ctx).Exec(`DELETE FROM login_failures WHERE key IN ?`, keys).Error; err != nil {
		return fmt.Errorf("storage: throttle reset: %w", classify(err))
	}
	return nil
}

// PruneThrottle forgets counters whose window and wait both ended before cutoff.
func (s *Store) PruneThrottle(ctx context.Context, cutoff time.Time) error {
	err := s.q(ctx).Exec(`DELETE FROM login_failures WHERE window_ends < ? AND (blocked_until IS NULL OR blocked_until < ?)`,
		cutoff, cutoff).Error
	if err != nil {
		return fmt.Errorf("storage: prune throttle: %w", classify(err))
	}
	return nil
}
