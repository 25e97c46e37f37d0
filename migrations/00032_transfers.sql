-- +goose Up
-- Face-value transfers (issue 15): a confirmed runner names a recipient by
-- e-mail; once the recipient has paid the sub-queue's price the slot moves
-- (the giver's entry becomes 'transferred') and the giver is refunded the
-- price less the event's transfer fee. The event sets the deadline, the
-- number of transfers it allows (0: none) and the fee in minor units.
ALTER TABLE entries DROP CONSTRAINT entries_status_check;
ALTER TABLE entries ADD CONSTRAINT entries_status_check CHECK (status IN ('received', 'in_review', 'rejected',
    'eligible', 'selected', 'waitlisted', 'offered', 'confirmed', 'declined', 'expired', 'withdrawn', 'transferred'));
-- A recipient's offer while they pay: not live, so the capacity trigger
-- (which counts pending, accepted and paid) does not count it.
ALTER TABLE offers DROP CONSTRAINT offers_status_check;
ALTER TABLE offers ADD CONSTRAINT offers_status_check
    CHECK (status IN ('pending', 'accepted', 'paid', 'declined', 'expired', 'void', 'transfer_hold'));
ALTER TABLE events ADD COLUMN transfer_deadline timestamptz;
ALTER TABLE events ADD COLUMN transfer_max integer NOT NULL DEFAULT 0 CHECK (transfer_max >= 0 AND transfer_max <= 1000000);
ALTER TABLE events ADD COLUMN transfer_fee_minor bigint NOT NULL DEFAULT 0 CHECK (transfer_fee_minor >= 0);

CREATE TABLE transfers (
    id           uuid PRIMARY KEY,
    event_id     bigint      NOT NULL REFERENCES events (id),
    from_entry   uuid        NOT NULL REFERENCES entries (id),
    to_email     text        NOT NULL,
    to_email_key text        NOT NULL,
    token_hash   text        NOT NULL UNIQUE,
    state        text        NOT NULL CHECK (state IN ('pending', 'verified', 'paid', 'cancelled', 'expired')),
    price_minor  bigint      NOT NULL CHECK (price_minor >= 0),
    fee_minor    bigint      NOT NULL CHECK (fee_minor >= 0 AND fee_minor <= price_minor),
    to_entry     uuid REFERENCES entries (id),
    to_offer     uuid REFERENCES offers (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    decided_at   timestamptz,
    CHECK (expires_at > created_at)
);
-- One open transfer per entry at a time.
CREATE UNIQUE INDEX transfers_open_key ON transfers (from_entry) WHERE state IN ('pending', 'verified');
CREATE INDEX transfers_event_idx ON transfers (event_id);

-- +goose Down
DROP TABLE transfers;
ALTER TABLE offers DROP CONSTRAINT offers_status_check;
ALTER TABLE offers ADD CONSTRAINT offers_status_check
    CHECK (status IN ('pending', 'accepted', 'paid', 'declined', 'expired', 'void'));
ALTER TABLE events DROP COLUMN transfer_fee_minor;
ALTER TABLE events DROP COLUMN transfer_max;
ALTER TABLE events DROP COLUMN transfer_deadline;
ALTER TABLE entries DROP CONSTRAINT entries_status_check;
ALTER TABLE entries ADD CONSTRAINT entries_status_check CHECK (status IN ('received', 'in_review', 'rejected',
    'eligible', 'selected', 'waitlisted', 'offered', 'confirmed', 'declined', 'expired', 'withdrawn'));
