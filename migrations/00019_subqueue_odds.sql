-- +goose Up
-- Odds before the draw (issue 12): each sub-queue's published numbers, so the
-- event page reads one small row per sub-queue instead of counting entries
-- per request. The worker refreshes a live snapshot at most once a minute
-- while the event takes entries; freeze writes the final one from the frozen
-- lists, which nothing replaces afterwards.
CREATE TABLE subqueue_odds (
    subqueue_id bigint      PRIMARY KEY REFERENCES subqueues (id) ON DELETE CASCADE,
    event_id    bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    capacity    integer     NOT NULL CHECK (capacity >= 0),
    entries     integer     NOT NULL CHECK (entries >= 0),
    tickets     bigint      NOT NULL CHECK (tickets >= 0),
    -- lottery/odds.Table: {"method","runs","rows":[{"tickets","entries","chance","error"}],"groups":[...]};
    -- NULL for an ordered sub-queue (first come, never drawn).
    odds        jsonb,
    -- lottery/odds.Key of the field the odds were computed for: an unchanged
    -- field is not simulated again.
    field_key   text        NOT NULL DEFAULT '',
    computed_at timestamptz NOT NULL,
    final       boolean     NOT NULL DEFAULT false
);
CREATE INDEX subqueue_odds_event_idx ON subqueue_odds (event_id);

-- +goose StatementBegin
CREATE FUNCTION startline_odds_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.final THEN
        RAISE EXCEPTION 'the final odds of sub-queue % are published and immutable', OLD.subqueue_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER subqueue_odds_final BEFORE UPDATE ON subqueue_odds
    FOR EACH ROW EXECUTE FUNCTION startline_odds_final();

-- What each draw did, by ticket count, tallied once from its frozen entries
-- (draw_entries) and order (draw_results), which never change either.
CREATE TABLE draw_stats (
    subqueue_id bigint      PRIMARY KEY REFERENCES draws (subqueue_id),
    event_id    bigint      NOT NULL REFERENCES events (id),
    applicants  integer     NOT NULL CHECK (applicants >= 0),
    tickets     bigint      NOT NULL CHECK (tickets >= 0),
    selected    integer     NOT NULL CHECK (selected >= 0),
    rates       jsonb       NOT NULL, -- [{"tickets","entries","selected"}] by ticket count
    computed_at timestamptz NOT NULL
);
CREATE INDEX draw_stats_event_idx ON draw_stats (event_id);
CREATE TRIGGER draw_stats_append_only BEFORE UPDATE OR DELETE ON draw_stats
    FOR EACH ROW EXECUTE FUNCTION startline_append_only();

-- +goose Down
DROP TABLE draw_stats, subqueue_odds;
DROP FUNCTION startline_odds_final();
