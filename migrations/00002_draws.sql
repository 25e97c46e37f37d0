-- +goose Up
-- Draw lifecycle per event: what happens to unreviewed entries at freeze,
-- the announced beacon round, and the revealed seed.
ALTER TABLE events
    ADD COLUMN unreviewed_policy     text NOT NULL DEFAULT 'block' CHECK (unreviewed_policy IN ('block', 'exclude', 'include')),
    ADD COLUMN frozen_at             timestamptz,
    ADD COLUMN beacon_round          text NOT NULL DEFAULT '' CHECK (length(beacon_round) <= 128),
    ADD COLUMN seed_secret_revealed  text CHECK (seed_secret_revealed ~ '^[0-9a-f]{64}$'),
    ADD COLUMN beacon                text NOT NULL DEFAULT '' CHECK (length(beacon) <= 256 AND beacon ~ '^[a-z0-9]*$'),
    ADD COLUMN revealed_at           timestamptz,
    ADD COLUMN draw_requested_at     timestamptz,
    ADD COLUMN results_published_at  timestamptz;

-- One draw per sub-queue, created at freeze.
CREATE TABLE draws (
    subqueue_id   bigint PRIMARY KEY REFERENCES subqueues (id),
    event_id      bigint      NOT NULL REFERENCES events (id),
    status        text        NOT NULL DEFAULT 'frozen' CHECK (status IN ('frozen', 'drawing', 'drawn')),
    capacity      integer     NOT NULL CHECK (capacity >= 0),
    entries_count integer     NOT NULL CHECK (entries_count >= 0),
    entries_root  text        NOT NULL CHECK (entries_root ~ '^[0-9a-f]{64}$'),
    selected      integer     NOT NULL DEFAULT 0,
    waitlisted    integer     NOT NULL DEFAULT 0,
    artifact_gz   bytea, -- gzip of the canonical artifact JSON (a 1M-entry artifact is ~200 MB raw)
    artifact_sha256 text, -- of the uncompressed JSON
    artifact_bytes  bigint,
    started_at    timestamptz,
    drawn_at      timestamptz,
    frozen_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'drawn' OR (artifact_gz IS NOT NULL AND artifact_sha256 IS NOT NULL))
);
CREATE INDEX draws_event_idx ON draws (event_id);
ALTER TABLE draws ALTER COLUMN artifact_gz SET STORAGE EXTERNAL; -- already compressed

-- The frozen entry list of each draw: exactly the published `entries`.
-- A row here is an entry's move from received to eligible: bulk changes are
-- recorded per entry in these append-only tables and once per sub-queue in
-- event_log, instead of a million UPDATEs and log rows.
CREATE TABLE draw_entries (
    entry_id    uuid PRIMARY KEY REFERENCES entries (id),
    subqueue_id bigint  NOT NULL REFERENCES draws (subqueue_id),
    tickets     integer NOT NULL CHECK (tickets BETWEEN 1 AND 4096),
    group_code  text    NOT NULL -- a keyed pseudonym of the runners' group code
);
CREATE INDEX draw_entries_subqueue_idx ON draw_entries (subqueue_id);

-- The published order: every drawn entry with its unit's position. A row
-- here is the entry's move from eligible to selected or waitlisted.
-- No foreign key: the rows are computed from draw_entries by the draw, and
-- SaveDraw checks their count in the same transaction; a per-row key check
-- would double the cost of storing a million-entry draw.
CREATE TABLE draw_results (
    entry_id    uuid PRIMARY KEY,
    subqueue_id bigint  NOT NULL,
    position    integer NOT NULL CHECK (position >= 1),
    unit_id     text    NOT NULL,
    selected    boolean NOT NULL,
    waitlist_position integer CHECK (waitlist_position >= 1),
    CHECK (selected = (waitlist_position IS NULL))
);
CREATE INDEX draw_results_order_idx ON draw_results (subqueue_id, position);

-- A drawn result and its frozen inputs never change.
CREATE TRIGGER draw_entries_append_only BEFORE UPDATE OR DELETE ON draw_entries
    FOR EACH ROW EXECUTE FUNCTION startline_append_only();
CREATE TRIGGER draw_results_append_only BEFORE UPDATE OR DELETE ON draw_results
    FOR EACH ROW EXECUTE FUNCTION startline_append_only();

-- +goose StatementBegin
CREATE FUNCTION startline_draw_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'drawn' THEN
        RAISE EXCEPTION 'draw of sub-queue % is published and immutable', OLD.subqueue_id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.entries_root IS DISTINCT FROM OLD.entries_root OR NEW.entries_count IS DISTINCT FROM OLD.entries_count THEN
        RAISE EXCEPTION 'draw of sub-queue % has a frozen entry list', OLD.subqueue_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER draws_immutable BEFORE UPDATE ON draws
    FOR EACH ROW EXECUTE FUNCTION startline_draw_immutable();

-- +goose Down
DROP TABLE draw_results, draw_entries, draws;
DROP FUNCTION startline_draw_immutable();
ALTER TABLE events DROP COLUMN unreviewed_policy, DROP COLUMN frozen_at, DROP COLUMN beacon_round,
    DROP COLUMN seed_secret_revealed, DROP COLUMN beacon, DROP COLUMN revealed_at, DROP COLUMN draw_requested_at,
    DROP COLUMN results_published_at;
