-- +goose Up
-- Report facts for the summary and the monthly dispatch (README "Reports: summary, dispatch and
-- printable visit reports"). Visits and findings live in records as jsonb; aggregating a year of
-- them means reading ~1.5 KB of JSON per visit (and whole patrol tracks for their stats). These two
-- narrow tables hold, per submitted visit and per finding, only the typed columns the reports count,
-- kept in step with records by statement-level triggers in the same transaction as every write
-- (sync push, admin API, CLI, demo load): nothing in the sync engine knows about them.
--
-- Codes (smallint keeps a row near 100 bytes):
--   kind      1 project_visit, 2 planting_check, 3 fire_patrol, 4 agri_input_check
--   works     answers.works_status: 1 not_started, 2 started, 3 resumed, 4 suspended, NULL unanswered
--   blockers  answers.blockers as bits: 1 land, 2 funding, 4 power, 8 water, 16 permits, 32 labour, 64 other
--   outcome   answers.outcome: 1 compliant, 2 rectification_notice, 3 evidence_held, 4 case_filed
--   severity  1 ordinary, 2 serious, 3 major
--   fstatus   1 open, 2 rectifying, 3 awaiting_recheck, 4 closed

CREATE TABLE report_visits (
    id          uuid PRIMARY KEY,
    kind        smallint NOT NULL,
    region_id   uuid NOT NULL,
    day         date NOT NULL,        -- started_at as a China Standard Time date
    site_id     uuid,
    works       smallint,
    blockers    smallint NOT NULL DEFAULT 0,
    outcome     smallint,
    samples     integer NOT NULL DEFAULT 0,
    distance_m  double precision,     -- the patrol track's stats (fire patrols with a track)
    coverage    double precision      -- 0..1, NULL when the patrol area has no boundary
);
CREATE INDEX report_visits_day_idx ON report_visits (day);
CREATE INDEX report_visits_site_idx ON report_visits (site_id, day) WHERE site_id IS NOT NULL;

CREATE TABLE report_findings (
    id          uuid PRIMARY KEY,
    kind        smallint NOT NULL,
    region_id   uuid NOT NULL,
    day         date NOT NULL,        -- when the server recorded it (created_at), CST date
    severity    smallint NOT NULL,
    fstatus     smallint NOT NULL,
    deadline    date,
    closed_on   date                  -- closed_at as a CST date
);
CREATE INDEX report_findings_day_idx ON report_findings (day);
CREATE INDEX report_findings_open_idx ON report_findings (deadline) WHERE fstatus <> 4;

-- report_cst_date reads an RFC 3339 time (or a bare date) as a CST calendar date; NULL when it is
-- not one (the sync engine validates times before they get here; this only keeps a malformed
-- value from failing the write that carries it).
-- +goose StatementBegin
CREATE FUNCTION report_cst_date(s text) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN s ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$'
            THEN ((s::timestamptz) AT TIME ZONE INTERVAL '08:00')::date
        WHEN s ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$' THEN s::date
    END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION report_uuid(s text) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN s::uuid END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION report_num(j jsonb) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(j) = 'number' THEN j::text::double precision END
$$;
-- +goose StatementEnd

-- report_visit_fact is the fact row of a submitted visit (with its track's stats, if any).
-- +goose StatementBegin
CREATE FUNCTION report_visit_fact(v records) RETURNS report_visits LANGUAGE sql STABLE AS $$
    SELECT v.id,
        CASE v.kind WHEN 'project_visit' THEN 1 WHEN 'planting_check' THEN 2 WHEN 'fire_patrol' THEN 3
            WHEN 'agri_input_check' THEN 4 ELSE 0 END::smallint,
        v.region_id,
        COALESCE(report_cst_date(v.data->>'started_at'), (v.created_at AT TIME ZONE INTERVAL '08:00')::date),
        report_uuid(v.data->>'site_id'),
        CASE v.data->'answers'->>'works_status' WHEN 'not_started' THEN 1 WHEN 'started' THEN 2
            WHEN 'resumed' THEN 3 WHEN 'suspended' THEN 4 END::smallint,
        COALESCE((SELECT bit_or(CASE b WHEN 'land' THEN 1 WHEN 'funding' THEN 2 WHEN 'power' THEN 4
                WHEN 'water' THEN 8 WHEN 'permits' THEN 16 WHEN 'labour' THEN 32 WHEN 'other' THEN 64 ELSE 0 END)
            FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(v.data->'answers'->'blockers') = 'array'
                THEN v.data->'answers'->'blockers' ELSE '[]'::jsonb END) AS b), 0)::smallint,
        CASE v.data->'answers'->>'outcome' WHEN 'compliant' THEN 1 WHEN 'rectification_notice' THEN 2
            WHEN 'evidence_held' THEN 3 WHEN 'case_filed' THEN 4 END::smallint,
        COALESCE(LEAST(GREATEST(report_num(v.data->'answers'->'samples_taken'), 0), 1e6)::integer, 0),
        report_num(t.stats->'distance_m'),
        report_num(t.stats->'coverage')
    FROM (SELECT (SELECT tr.data->'stats' FROM records tr
                  WHERE v.kind = 'fire_patrol' AND tr.type = 'track' AND tr.id = v.id AND tr.deleted_at IS NULL) AS stats) t
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION report_finding_fact(f records) RETURNS report_findings LANGUAGE sql STABLE AS $$
    SELECT f.id,
        CASE f.kind WHEN 'project_visit' THEN 1 WHEN 'planting_check' THEN 2 WHEN 'fire_patrol' THEN 3
            WHEN 'agri_input_check' THEN 4 ELSE 0 END::smallint,
        f.region_id,
        (f.created_at AT TIME ZONE INTERVAL '08:00')::date,
        CASE f.data->>'severity' WHEN 'ordinary' THEN 1 WHEN 'serious' THEN 2 WHEN 'major' THEN 3 ELSE 1 END::smallint,
        CASE f.status WHEN 'open' THEN 1 WHEN 'rectifying' THEN 2 WHEN 'awaiting_recheck' THEN 3
            WHEN 'closed' THEN 4 ELSE 1 END::smallint,
        report_cst_date(f.data->>'deadline'),
        report_cst_date(f.data->>'closed_at')
$$;
-- +goose StatementEnd

-- report_facts_sync keeps the fact tables in step with the rows one statement wrote. A visit is a
-- fact while it is live and submitted; a finding while it is live; a track's stats go to its visit.
-- +goose StatementBegin
CREATE FUNCTION report_facts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM report_visits WHERE id IN (SELECT id FROM old_rows WHERE type = 'visit');
        DELETE FROM report_findings WHERE id IN (SELECT id FROM old_rows WHERE type = 'finding');
        UPDATE report_visits SET distance_m = NULL, coverage = NULL
            WHERE id IN (SELECT id FROM old_rows WHERE type = 'track');
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM new_rows WHERE type IN ('visit', 'finding', 'track')) THEN
        RETURN NULL;
    END IF;
    DELETE FROM report_visits WHERE id IN (SELECT id FROM new_rows
        WHERE type = 'visit' AND (deleted_at IS NOT NULL OR status <> 'submitted' OR region_id IS NULL));
    INSERT INTO report_visits
        SELECT f.* FROM new_rows n, LATERAL report_visit_fact(n) f
        WHERE n.type = 'visit' AND n.deleted_at IS NULL AND n.status = 'submitted' AND n.region_id IS NOT NULL
    ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, region_id = excluded.region_id, day = excluded.day,
        site_id = excluded.site_id, works = excluded.works, blockers = excluded.blockers, outcome = excluded.outcome,
        samples = excluded.samples, distance_m = excluded.distance_m, coverage = excluded.coverage;
    UPDATE report_visits r SET distance_m = CASE WHEN n.deleted_at IS NULL THEN report_num(n.data->'stats'->'distance_m') END,
            coverage = CASE WHEN n.deleted_at IS NULL THEN report_num(n.data->'stats'->'coverage') END
        FROM new_rows n WHERE n.type = 'track' AND r.id = n.id;
    DELETE FROM report_findings WHERE id IN (SELECT id FROM new_rows
        WHERE type = 'finding' AND (deleted_at IS NOT NULL OR region_id IS NULL));
    INSERT INTO report_findings
        SELECT f.* FROM new_rows n, LATERAL report_finding_fact(n) f
        WHERE n.type = 'finding' AND n.deleted_at IS NULL AND n.region_id IS NOT NULL
    ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, region_id = excluded.region_id, day = excluded.day,
        severity = excluded.severity, fstatus = excluded.fstatus, deadline = excluded.deadline,
        closed_on = excluded.closed_on;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- Transition tables allow one event per trigger, hence three.
CREATE TRIGGER records_report_facts_ins AFTER INSERT ON records
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_facts_sync();
CREATE TRIGGER records_report_facts_upd AFTER UPDATE ON records
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_facts_sync();
CREATE TRIGGER records_report_facts_del AFTER DELETE ON records
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_facts_sync();

-- Facts of the records already there.
INSERT INTO report_visits
    SELECT f.* FROM records r, LATERAL report_visit_fact(r) f
    WHERE r.type = 'visit' AND r.deleted_at IS NULL AND r.status = 'submitted' AND r.region_id IS NOT NULL;
INSERT INTO report_findings
    SELECT f.* FROM records r, LATERAL report_finding_fact(r) f
    WHERE r.type = 'finding' AND r.deleted_at IS NULL AND r.region_id IS NOT NULL;

-- +goose Down
DROP TRIGGER records_report_facts_del ON records;
DROP TRIGGER records_report_facts_upd ON records;
DROP TRIGGER records_report_facts_ins ON records;
DROP FUNCTION report_facts_sync();
DROP FUNCTION report_finding_fact(records);
DROP FUNCTION report_visit_fact(records);
DROP FUNCTION report_num(jsonb);
DROP FUNCTION report_uuid(text);
DROP FUNCTION report_cst_date(text);
DROP TABLE report_findings;
DROP TABLE report_visits;
