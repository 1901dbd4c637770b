-- +goose Up
-- 00004 gained indexes and planner statistics after databases had already applied it, so those
-- databases lack them while fresh ones have them. This migration gives every database the objects
-- 00004 makes today; on a fresh database it changes nothing. Released migrations never change:
-- a fix is a new file like this one.
CREATE INDEX IF NOT EXISTS records_visit_county_idx
    ON records (split_part(region_path, '/', 3), fieldsync_time(data->>'started_at'), id)
    WHERE type = 'visit' AND deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS records_visit_township_idx
    ON records (split_part(region_path, '/', 4), fieldsync_time(data->>'started_at'), id)
    WHERE type = 'visit' AND deleted_at IS NULL;
CREATE STATISTICS IF NOT EXISTS records_county_stats ON (split_part(region_path, '/', 3)) FROM records;
CREATE STATISTICS IF NOT EXISTS records_township_stats ON (split_part(region_path, '/', 4)) FROM records;
CREATE STATISTICS IF NOT EXISTS records_site_stats ON (data->>'site_id') FROM records;
CREATE STATISTICS IF NOT EXISTS records_inspector_stats ON (data->>'inspector_id') FROM records;
CREATE STATISTICS IF NOT EXISTS records_deadline_stats ON (data->>'deadline') FROM records;

-- +goose Down
-- Nothing: these objects belong to 00004, whose Down drops them.
SELECT 1;
