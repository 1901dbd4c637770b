-- +goose Up
-- Indexes behind the visit and finding reports (GET /v1/reports/visits, /v1/reports/findings).
-- Visits and findings stay in records (one row per record, data jsonb); the reports read them
-- through expression indexes instead of a maintained copy, so no write path changes and nothing
-- can drift. Every index is partial: only live visits (or findings) are indexed, so the rest of
-- records (sites, photos, tracks, tombstones) costs nothing.

-- fieldsync_time reads an RFC 3339 time (as phones send started_at) as a timestamptz. A cast of
-- text to timestamptz is only STABLE (it depends on TimeZone for inputs without an offset), so it
-- cannot be indexed as is; RFC 3339 always carries an offset, which makes the result independent
-- of every setting, and anything else (which validation never lets in) reads as -infinity rather
-- than failing a write. Queries must use this function verbatim to match the indexes.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_time(t text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN t ~ '^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$'
                THEN t::timestamptz ELSE '-infinity'::timestamptz END
$$;
-- +goose StatementEnd

-- The visit list's order (started_at, id) and its keyset cursor; also the period filter.
CREATE INDEX records_visit_started_idx ON records (fieldsync_time(data->>'started_at'), id)
    WHERE type = 'visit' AND deleted_at IS NULL;
-- Filters that pick few visits out of many, each followed by the list's order.
CREATE INDEX records_visit_site_idx ON records ((data->>'site_id'), fieldsync_time(data->>'started_at'), id)
    WHERE type = 'visit' AND deleted_at IS NULL;
CREATE INDEX records_visit_inspector_idx ON records ((data->>'inspector_id'), fieldsync_time(data->>'started_at'), id)
    WHERE type = 'visit' AND deleted_at IS NULL;
-- Findings not yet closed, by visit: "visits with overdue findings" is a semi-join on these.
CREATE INDEX records_finding_open_idx ON records (parent_id, (data->>'deadline'))
    WHERE type = 'finding' AND deleted_at IS NULL AND status <> 'closed';
-- The finding list's order: open before closed, then by deadline (overdue first), then id.
CREATE INDEX records_finding_deadline_idx ON records ((status = 'closed'), (data->>'deadline'), id)
    WHERE type = 'finding' AND deleted_at IS NULL;

-- +goose Down
DROP INDEX records_finding_deadline_idx;
DROP INDEX records_finding_open_idx;
DROP INDEX records_visit_inspector_idx;
DROP INDEX records_visit_site_idx;
DROP INDEX records_visit_started_idx;
DROP FUNCTION fieldsync_time(text);
