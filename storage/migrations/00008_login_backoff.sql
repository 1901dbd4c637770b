-- +goose Up
-- Failed logins slow down the next attempt instead of locking an account: one counter per key
-- (a username and client address, a username and known device, a username, a client address),
-- each with its own window, and the time until which the key's next attempt must wait. The old
-- fixed-lockout counters are transient, so they are dropped rather than converted.
DROP TABLE login_throttle;

CREATE TABLE login_failures (
    key            text PRIMARY KEY CHECK (length(key) <= 512),
    failures       integer NOT NULL CHECK (failures > 0),
    -- counting restarts at the first failure after this
    window_ends    timestamptz NOT NULL,
    -- the key's next attempt waits until then (NULL: no wait)
    blocked_until  timestamptz
);
CREATE INDEX login_failures_window_idx ON login_failures (window_ends);

-- One session per device and user: a new login on a device ends the device's earlier sessions
-- (server/auth.go). Databases from before keep only the newest live token of each device.
UPDATE tokens t SET revoked_at = now()
WHERE t.revoked_at IS NULL
  AND EXISTS (SELECT 1 FROM tokens n
              WHERE n.user_id = t.user_id AND n.device_id = t.device_id AND n.revoked_at IS NULL
                AND (n.created_at, n.id) > (t.created_at, t.id));
CREATE UNIQUE INDEX tokens_one_per_device_idx ON tokens (user_id, device_id) WHERE revoked_at IS NULL;

-- +goose Down
DROP INDEX tokens_one_per_device_idx;
DROP TABLE login_failures;
CREATE TABLE login_throttle (
    key           text PRIMARY KEY,
    failures      integer NOT NULL,
    window_start  timestamptz NOT NULL,
    locked_until  timestamptz
);
