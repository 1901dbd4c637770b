-- +goose Up

-- uploads: one tus upload. The bytes received so far live in the blob store as parts
-- (upload_parts); the sha256 state after upload_offset bytes is kept, so the whole-file hash is
-- checked at the last byte without reading anything back, and any instance can take the next PATCH.
CREATE TABLE uploads (
    id            uuid PRIMARY KEY,
    photo_id      uuid NOT NULL,
    user_id       uuid NOT NULL REFERENCES users (id),
    device_id     text NOT NULL,
    length        bigint NOT NULL CHECK (length > 0),
    upload_offset bigint NOT NULL DEFAULT 0 CHECK (upload_offset >= 0 AND upload_offset <= length),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),  -- announced by the phone
    hash_state    bytea,                                           -- sha256 state after upload_offset bytes
    filename      text NOT NULL DEFAULT '',
    content_type  text NOT NULL DEFAULT '',                        -- announced
    metadata      text NOT NULL DEFAULT '',                        -- Upload-Metadata as sent
    state         text NOT NULL DEFAULT 'receiving' CHECK (state IN ('receiving', 'done', 'failed', 'terminated')),
    failure       text NOT NULL DEFAULT '',
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uploads_photo_idx ON uploads (photo_id);
CREATE INDEX uploads_expiry_idx ON uploads (expires_at) WHERE state = 'receiving';

CREATE TABLE upload_parts (
    upload_id   uuid NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    part_offset bigint NOT NULL,
    size        bigint NOT NULL CHECK (size > 0),
    key         text NOT NULL,
    PRIMARY KEY (upload_id, part_offset)
);

-- photo_blobs: what a finished upload delivered for a photo id. The object is keyed by content
-- (photos/<sha256[0:2]>/<sha256>), so the same bytes under two photo ids are stored once.
CREATE TABLE photo_blobs (
    photo_id       uuid PRIMARY KEY,
    sha256         text NOT NULL,
    size           bigint NOT NULL,
    content_type   text NOT NULL,
    filename       text NOT NULL DEFAULT '',
    exif           jsonb,
    thumb_state    text NOT NULL DEFAULT 'pending' CHECK (thumb_state IN ('pending', 'ready', 'unavailable')),
    thumb_error    text NOT NULL DEFAULT '',
    uploaded_by    uuid NOT NULL REFERENCES users (id),
    uploaded_device text NOT NULL,
    uploaded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX photo_blobs_sha_idx ON photo_blobs (sha256);
CREATE INDEX photo_blobs_thumb_idx ON photo_blobs (uploaded_at) WHERE thumb_state = 'pending';

-- visit_location: the location verdict of a visit rolled up over its photos, kept in step with
-- the photo records (reports filter on it). A visit without photos has no row.
CREATE TABLE visit_location (
    visit_id   uuid PRIMARY KEY,
    level      text NOT NULL CHECK (level IN ('ok', 'warn', 'fail', 'pending')),
    reasons    jsonb NOT NULL DEFAULT '[]',
    photos     int NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visit_location_level_idx ON visit_location (level);

-- +goose Down
DROP TABLE visit_location;
DROP TABLE photo_blobs;
DROP TABLE upload_parts;
DROP TABLE uploads;
