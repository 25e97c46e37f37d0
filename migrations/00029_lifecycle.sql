-- +goose Up
-- Issue 14 (the console's lifecycle): an event may be cancelled before its
-- results are published (a final state: offers end, paid slots are refunded
-- in full, runners are told), and an ordered sub-queue's waiting room may be
-- paused by its organizer (a paused line admits nobody until resumed).
ALTER TABLE events DROP CONSTRAINT events_status_check;
ALTER TABLE events ADD CONSTRAINT events_status_check
    CHECK (status IN ('draft', 'published', 'closed', 'frozen', 'drawn', 'settled', 'cancelled'));
ALTER TABLE events ADD COLUMN cancelled_at timestamptz;

ALTER TABLE subqueues ADD COLUMN paused_at timestamptz;

-- The audit page reads one event's staff actions newest first by target.
CREATE INDEX audit_log_target_idx ON audit_log (target, id DESC);

-- +goose Down
DROP INDEX audit_log_target_idx;
ALTER TABLE subqueues DROP COLUMN paused_at;
ALTER TABLE events DROP COLUMN cancelled_at;
UPDATE events SET status = 'closed' WHERE status = 'cancelled';
ALTER TABLE events DROP CONSTRAINT events_status_check;
ALTER TABLE events ADD CONSTRAINT events_status_check
    CHECK (status IN ('draft', 'published', 'closed', 'frozen', 'drawn', 'settled'));
