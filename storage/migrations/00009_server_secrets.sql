-- +goose Up
-- Server secrets: random keys that every server process sharing this database uses, made on first
-- use and kept across restarts. Today one: the key that signs list cursors (server/cursor). A
-- row is never updated; deleting one makes a new key on next use (outstanding cursors then fail
-- with 400 bad-cursor, and clients start their list again).
CREATE TABLE server_secrets (
    name       text PRIMARY KEY CHECK (name <> ''),
    secret     bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE server_secrets;
