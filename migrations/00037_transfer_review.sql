-- +goose Up
-- Issue 15 follow-ups: a transfer whose recipient the scoring sends to
-- review waits in 'review' (their entry in_review, their hold offer made)
-- until a reviewer approves it (→ verified: they may pay) or rejects it
-- (→ rejected: the giver keeps the place). Both are open: one per entry.
ALTER TABLE transfers DROP CONSTRAINT transfers_state_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_state_check
    CHECK (state IN ('pending', 'review', 'verified', 'paid', 'cancelled', 'expired', 'rejected'));
DROP INDEX transfers_open_key;
CREATE UNIQUE INDEX transfers_open_key ON transfers (from_entry) WHERE state IN ('pending', 'review', 'verified');
-- The expiry sweep reads open transfers by their end.
CREATE INDEX transfers_open_expiry_idx ON transfers (expires_at) WHERE state IN ('pending', 'review', 'verified');

-- +goose Down
DROP INDEX transfers_open_expiry_idx;
UPDATE transfers SET state = 'cancelled' WHERE state IN ('review', 'rejected');
DROP INDEX transfers_open_key;
CREATE UNIQUE INDEX transfers_open_key ON transfers (from_entry) WHERE state IN ('pending', 'verified');
ALTER TABLE transfers DROP CONSTRAINT transfers_state_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_state_check
    CHECK (state IN ('pending', 'verified', 'paid', 'cancelled', 'expired'));
