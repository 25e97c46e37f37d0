-- +goose Up
-- Issue 15 follow-ups. A transfer whose recipient the scoring sends to
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

-- A deferral with a fee (the event's fee_minor > 0) waits in 'pending'
-- until its fee is paid through the payment provider (the payment hangs on
-- the entry's paid offer and is named here); unpaid by pay_by it is
-- cancelled and the runner keeps their place. The cap counts it meanwhile.
ALTER TABLE deferrals DROP CONSTRAINT deferrals_state_check;
ALTER TABLE deferrals ADD CONSTRAINT deferrals_state_check CHECK (state IN ('pending', 'held', 'used', 'cancelled'));
ALTER TABLE deferrals ADD COLUMN pay_by timestamptz;
ALTER TABLE deferrals ADD COLUMN fee_provider text;
ALTER TABLE deferrals ADD COLUMN fee_payment_id text;
ALTER TABLE deferrals ADD CONSTRAINT deferrals_pending_pay_by CHECK (state <> 'pending' OR pay_by IS NOT NULL);
CREATE UNIQUE INDEX deferrals_fee_payment_key ON deferrals (fee_provider, fee_payment_id) WHERE fee_payment_id IS NOT NULL;
CREATE INDEX deferrals_unpaid_idx ON deferrals (pay_by) WHERE state = 'pending';

-- +goose Down
DROP INDEX deferrals_unpaid_idx;
DROP INDEX deferrals_fee_payment_key;
UPDATE deferrals SET state = 'cancelled' WHERE state = 'pending';
ALTER TABLE deferrals DROP CONSTRAINT deferrals_pending_pay_by;
ALTER TABLE deferrals DROP COLUMN fee_payment_id;
ALTER TABLE deferrals DROP COLUMN fee_provider;
ALTER TABLE deferrals DROP COLUMN pay_by;
ALTER TABLE deferrals DROP CONSTRAINT deferrals_state_check;
ALTER TABLE deferrals ADD CONSTRAINT deferrals_state_check CHECK (state IN ('held', 'used', 'cancelled'));
DROP INDEX transfers_open_expiry_idx;
UPDATE transfers SET state = 'cancelled' WHERE state IN ('review', 'rejected');
DROP INDEX transfers_open_key;
CREATE UNIQUE INDEX transfers_open_key ON transfers (from_entry) WHERE state IN ('pending', 'verified');
ALTER TABLE transfers DROP CONSTRAINT transfers_state_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_state_check
    CHECK (state IN ('pending', 'verified', 'paid', 'cancelled', 'expired'));
