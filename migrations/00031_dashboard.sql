-- +goose Up
-- The organizer's dashboard (issue 14, lottery/dashboard) must stay cheap
-- with a million entries in an event, so it never counts entries row by
-- row. Entry counts are kept as a small rollup instead:
--
--   entry_tallies  per event, sub-queue, status, risk decision and risk
--                  bucket (score / 100): a few hundred rows per event;
--   entry_hours    per event and hour made (UTC): one row per hour.
--
-- Triggers never update a shared counter row (every apply would queue on
-- its lock): each statement that writes entries appends its net change,
-- already grouped, to entry_tally_deltas (insert only, no contention), and
-- the dashboard's read folds an event's deltas into the rollup
-- (DashboardCounts) in one statement before reading it. A million-row
-- statement (a freeze) adds a few hundred delta rows, not a million.
-- Updates leave hour NULL: an entry's hour never changes, so an update's
-- net change per hour is zero.
LOCK TABLE entries IN SHARE ROW EXCLUSIVE MODE; -- no write slips between the backfill and the triggers

CREATE TABLE entry_tallies (
    event_id      bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subqueue_id   bigint NOT NULL,
    status        text   NOT NULL,
    risk_decision text   NOT NULL,
    bucket        integer NOT NULL,
    n             bigint NOT NULL,
    PRIMARY KEY (event_id, subqueue_id, status, risk_decision, bucket)
);
CREATE TABLE entry_hours (
    event_id bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    hour     timestamptz NOT NULL,
    n        bigint      NOT NULL,
    PRIMARY KEY (event_id, hour)
);
CREATE TABLE entry_tally_deltas (
    event_id      bigint NOT NULL,
    subqueue_id   bigint NOT NULL,
    status        text   NOT NULL,
    risk_decision text   NOT NULL,
    bucket        integer NOT NULL,
    hour          timestamptz, -- NULL for an update's change
    n             bigint NOT NULL
);
CREATE INDEX entry_tally_deltas_event_idx ON entry_tally_deltas (event_id);

INSERT INTO entry_tallies (event_id, subqueue_id, status, risk_decision, bucket, n)
    SELECT event_id, subqueue_id, status, risk_decision, risk_score / 100, count(*) FROM entries GROUP BY 1, 2, 3, 4, 5;
INSERT INTO entry_hours (event_id, hour, n)
    SELECT event_id, date_trunc('hour', created_at, 'UTC'), count(*) FROM entries GROUP BY 1, 2;

-- An insert adds its rows, a delete takes them away (TG_OP), each with its hour.
-- +goose StatementBegin
CREATE FUNCTION startline_entry_tally_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entry_tally_deltas (event_id, subqueue_id, status, risk_decision, bucket, hour, n)
    SELECT event_id, subqueue_id, status, risk_decision, risk_score / 100, date_trunc('hour', created_at, 'UTC'),
        CASE TG_OP WHEN 'DELETE' THEN -count(*) ELSE count(*) END
    FROM changed GROUP BY 1, 2, 3, 4, 5, 6;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION startline_entry_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entry_tally_deltas (event_id, subqueue_id, status, risk_decision, bucket, n)
    SELECT event_id, subqueue_id, status, risk_decision, bucket, sum(n) FROM (
        SELECT event_id, subqueue_id, status, risk_decision, risk_score / 100 AS bucket, 1 AS n FROM after_rows
        UNION ALL
        SELECT event_id, subqueue_id, status, risk_decision, risk_score / 100, -1 FROM before_rows) x
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER entries_tally_insert AFTER INSERT ON entries REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION startline_entry_tally_rows();
CREATE TRIGGER entries_tally_delete AFTER DELETE ON entries REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION startline_entry_tally_rows();
CREATE TRIGGER entries_tally_update AFTER UPDATE ON entries REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION startline_entry_tally_update();

-- Offers by event, with what the funnel groups by (until now offers were
-- only indexed by sub-queue, for the live ones): an index-only scan of the
-- event's offers.
CREATE INDEX offers_event_idx ON offers (event_id) INCLUDE (subqueue_id, status, round);

-- +goose Down
DROP INDEX offers_event_idx;
DROP TRIGGER entries_tally_update ON entries;
DROP TRIGGER entries_tally_delete ON entries;
DROP TRIGGER entries_tally_insert ON entries;
DROP FUNCTION startline_entry_tally_update(), startline_entry_tally_rows();
DROP TABLE entry_tally_deltas, entry_hours, entry_tallies;
