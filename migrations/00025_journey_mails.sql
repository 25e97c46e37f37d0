-- +goose Up
-- Mail at every state change (issue 13): the HTML part of a mail rendered
-- at write time (the one-time codes) is kept beside its text, and an offer
-- remembers when its "the hold ends soon" reminder was queued, so the
-- worker's reminder pass queues it once only, whichever worker runs it.
ALTER TABLE outbox ADD COLUMN html text NOT NULL DEFAULT '';
-- A fact of the change an intent tells about, fixed when it is queued, so it
-- renders the same however late it is read: the receipt's entry status at
-- apply (held for review or not). Never personal data.
ALTER TABLE outbox ADD COLUMN detail text NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN reminded_at timestamptz;
-- The reminder pass reads live offers not yet reminded, by hold end.
CREATE INDEX offers_remind_idx ON offers (expires_at) WHERE status IN ('pending', 'accepted') AND reminded_at IS NULL;

-- +goose Down
DROP INDEX offers_remind_idx;
ALTER TABLE offers DROP COLUMN reminded_at;
ALTER TABLE outbox DROP COLUMN detail;
ALTER TABLE outbox DROP COLUMN html;
