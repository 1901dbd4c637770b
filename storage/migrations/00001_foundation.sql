-- +goose Up
-- The people, places and devices of the domain, the tokens they log in with, login throttling
-- and the append-only audit log.

CREATE TABLE regions (
    id          uuid PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[0-9A-Za-z_-]{1,32}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    level       text NOT NULL CHECK (level IN ('city', 'county', 'township', 'village')),
    parent_id   uuid REFERENCES regions (id),
    -- materialised path of ids from the root down to this region: '/<root>/<…>/<id>/'
    path        text NOT NULL UNIQUE,
    centre_lat  double precision CHECK (centre_lat BETWEEN -90 AND 90),
    centre_lon  double precision CHECK (centre_lon BETWEEN -180 AND 180),
    boundary    jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((parent_id IS NULL) = (level = 'city')),
    CHECK ((centre_lat IS NULL) = (centre_lon IS NULL))
);
CREATE INDEX regions_parent_idx ON regions (parent_id);
CREATE INDEX regions_path_idx ON regions (path text_pattern_ops);

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    username       text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('inspector', 'township_officer', 'department', 'supervisor', 'admin')),
    region_id      uuid REFERENCES regions (id),
    kinds          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(kinds) = 'array'),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_idx ON users (username);
CREATE INDEX users_region_idx ON users (region_id);

-- One row per phone and user: a shared township phone has a row for each person who logs in
-- on it, so one user's login never touches another's sessions. Revoking a lost phone revokes
-- every row with its id.
CREATE TABLE devices (
    id           text NOT NULL CHECK (id ~ '^[A-Za-z0-9._:-]{1,128}$'),
    user_id      uuid NOT NULL REFERENCES users (id),
    name         text NOT NULL DEFAULT '',
    platform     text NOT NULL DEFAULT '',
    app_version  text NOT NULL DEFAULT '',
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    last_ip      text NOT NULL DEFAULT '',
    revoked_at   timestamptz,
    PRIMARY KEY (id, user_id)
);
CREATE INDEX devices_user_idx ON devices (user_id);

-- Opaque bearer tokens: only the SHA-256 of the token is stored.
CREATE TABLE tokens (
    id          uuid PRIMARY KEY,
    hash        bytea NOT NULL UNIQUE,
    user_id     uuid NOT NULL REFERENCES users (id),
    device_id   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    FOREIGN KEY (device_id, user_id) REFERENCES devices (id, user_id)
);
CREATE INDEX tokens_user_idx ON tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX tokens_device_idx ON tokens (device_id) WHERE revoked_at IS NULL;

-- Failed-login counters per username and per client IP, shared by every API instance.
CREATE TABLE login_throttle (
    key           text PRIMARY KEY,
    failures      integer NOT NULL,
    window_start  timestamptz NOT NULL,
    locked_until  timestamptz
);

CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      uuid,
    device_id    text,
    ip           text NOT NULL DEFAULT '',
    action       text NOT NULL,
    target_type  text NOT NULL DEFAULT '',
    target_id    text NOT NULL DEFAULT '',
    details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE login_throttle;
DROP TABLE tokens;
DROP TABLE devices;
DROP TABLE users;
DROP TABLE regions;
