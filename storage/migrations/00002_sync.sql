-- +goose Up
-- The sync engine: every synced record, the change log phones pull from, the clients that push,
-- their stored mutation results, and conflicts.

-- records holds the current state of every synced record (visits, findings; later sites,
-- checklists, photos, tracks), one row per (type, id). Deleted records stay as tombstones until
-- the retention window has passed.
CREATE TABLE records (
    type         text NOT NULL,
    id           uuid NOT NULL,
    kind         text NOT NULL DEFAULT '',
    region_id    uuid REFERENCES regions (id),
    region_path  text NOT NULL DEFAULT '',
    parent_id    uuid,               -- e.g. a finding's visit
    status       text NOT NULL DEFAULT '',
    version      bigint NOT NULL,
    data         jsonb NOT NULL,
    field_meta   jsonb NOT NULL DEFAULT '{}',  -- per field: version, user, device, time of the last change
    created_by   uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    PRIMARY KEY (type, id)
);
CREATE INDEX records_scope_idx ON records (type, region_path text_pattern_ops) WHERE deleted_at IS NULL;
CREATE INDEX records_parent_idx ON records (parent_id) WHERE parent_id IS NOT NULL;

-- change_log: one row per write to a synced record. seq is assigned while holding the change-log
-- writer lock (an advisory transaction lock taken just before the rows are written and held to
-- commit), so seq order is commit order and a pull never skips a committed change.
CREATE SEQUENCE change_seq;
CREATE TABLE change_log (
    seq              bigint PRIMARY KEY,
    record_type      text NOT NULL,
    record_id        text NOT NULL,
    op               text NOT NULL CHECK (op IN ('put', 'remove')),
    version          bigint NOT NULL,
    kind             text NOT NULL DEFAULT '',
    region_path      text NOT NULL DEFAULT '',   -- where the record is after this change
    old_region_path  text,                       -- where it was before, when it moved
    audience_user    uuid,                       -- only this user's phones (conflicts)
    audience_client  uuid,                       -- only this app install (rejections)
    at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_log_at_idx ON change_log (at);

-- sync_clients: one row per app install (client_id), bound to the user that first pushed.
CREATE TABLE sync_clients (
    client_id         uuid PRIMARY KEY,
    user_id           uuid NOT NULL REFERENCES users (id),
    device_id         text NOT NULL,
    last_mutation_id  bigint NOT NULL DEFAULT 0,
    app_version       text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    last_pull_at      timestamptz
);
CREATE INDEX sync_clients_user_idx ON sync_clients (user_id);

-- sync_mutations: the stored result of every mutation, returned unchanged on replay.
CREATE TABLE sync_mutations (
    client_id    uuid NOT NULL REFERENCES sync_clients (client_id),
    mutation_id  bigint NOT NULL,
    name         text NOT NULL,
    result       jsonb NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, mutation_id)
);

-- sync_pushes: per push, the last mutation it applied and the change-log seq its effects end at;
-- a pull page reports a mutation only once it has delivered up to that seq.
CREATE TABLE sync_pushes (
    client_id         uuid NOT NULL REFERENCES sync_clients (client_id),
    last_mutation_id  bigint NOT NULL,
    seq               bigint NOT NULL,
    PRIMARY KEY (client_id, last_mutation_id)
);

CREATE TABLE conflicts (
    id            uuid PRIMARY KEY,
    record_type   text NOT NULL,
    record_id     uuid NOT NULL,
    field         text NOT NULL,
    region_path   text NOT NULL DEFAULT '',
    kind          text NOT NULL DEFAULT '',
    base_version  bigint NOT NULL,
    kept          text NOT NULL CHECK (kept IN ('client', 'server')),
    server_value  jsonb,
    server_meta   jsonb NOT NULL,   -- {version, user_id, device_id, at}
    client_value  jsonb,
    client_meta   jsonb NOT NULL,   -- {user_id, device_id, client_id, mutation_id, client_time, at}
    created_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at   timestamptz,
    resolved_by   uuid REFERENCES users (id),
    resolution    jsonb
);
CREATE INDEX conflicts_open_idx ON conflicts (created_at) WHERE resolved_at IS NULL;
CREATE INDEX conflicts_record_idx ON conflicts (record_type, record_id);

-- sync_state: the seq below which the change log has been pruned; older cursors get a reset.
CREATE TABLE sync_state (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pruned_through     bigint NOT NULL DEFAULT 0
);
INSERT INTO sync_state DEFAULT VALUES;

-- +goose Down
DROP TABLE sync_state;
DROP TABLE conflicts;
DROP TABLE sync_pushes;
DROP TABLE sync_mutations;
DROP TABLE sync_clients;
DROP TABLE change_log;
DROP SEQUENCE change_seq;
DROP TABLE records;
