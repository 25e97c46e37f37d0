-- +goose Up
-- A pre-queue for ordered sub-queues: joins are taken prequeue_minutes
-- before the window opens, with no place; when the line opens, every ticket
-- in the pre-queue gets a place in random order, ahead of anyone who joins
-- afterwards. Arriving a millisecond after the opening, or the minute the
-- pre-queue opened, gives the same chances: a bot's speed buys nothing.
ALTER TABLE subqueues
    ADD COLUMN prequeue_minutes integer NOT NULL DEFAULT 0 CHECK (prequeue_minutes BETWEEN 0 AND 10080);

-- opened_at is set once, by whichever comes first after opens_at: a join or
-- the admission pass. Until then joins wait in the pre-queue (place NULL).
ALTER TABLE queue_lines
    ADD COLUMN opened_at timestamptz,
    ADD COLUMN prequeued integer NOT NULL DEFAULT 0 CHECK (prequeued >= 0);

ALTER TABLE queue_tickets DROP CONSTRAINT queue_tickets_check;
ALTER TABLE queue_tickets ADD CONSTRAINT queue_tickets_placed_check
    CHECK (place IS NOT NULL OR status IN ('refused', 'waiting')),
    ADD CONSTRAINT queue_tickets_refused_check CHECK (status <> 'refused' OR place IS NULL);
CREATE INDEX queue_tickets_prequeue_idx ON queue_tickets (subqueue_id) WHERE place IS NULL AND status = 'waiting';

-- +goose Down
DROP INDEX queue_tickets_prequeue_idx;
ALTER TABLE queue_tickets DROP CONSTRAINT queue_tickets_refused_check, DROP CONSTRAINT queue_tickets_placed_check;
ALTER TABLE queue_tickets ADD CONSTRAINT queue_tickets_check CHECK ((status = 'refused') = (place IS NULL));
ALTER TABLE queue_lines DROP COLUMN prequeued, DROP COLUMN opened_at;
ALTER TABLE subqueues DROP COLUMN prequeue_minutes;
