-- +goose Up
-- Deferrals (issue 15): where an event allows it, a confirmed runner defers
-- to the series' next edition. The event's settings live in their own row
-- (no deadline: deferrals are not offered); the cap is per sub-queue (0:
-- no cap). A deferral is held for the series until an edition after the
-- one it came from joins the series; it is then used: the runner gets a
-- confirmed entry in that edition (to_entry_id), in the sub-queue with the
-- same course:pace key (else the same course's first pace group), and the
-- slot is reserved there: the draw gives out lottery.DrawCapacity of it.
CREATE TABLE event_deferral_settings (
    event_id   bigint      PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    deadline   timestamptz NOT NULL,
    fee_minor  bigint      NOT NULL DEFAULT 0 CHECK (fee_minor >= 0 AND fee_minor <= 100000000000),
    cap        integer     NOT NULL DEFAULT 0 CHECK (cap >= 0 AND cap <= 1000000),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE entries DROP CONSTRAINT entries_status_check;
ALTER TABLE entries ADD CONSTRAINT entries_status_check CHECK (status IN ('received', 'in_review', 'rejected',
    'eligible', 'selected', 'waitlisted', 'offered', 'confirmed', 'declined', 'expired', 'withdrawn', 'transferred', 'deferred'));

CREATE TABLE deferrals (
    id             bigserial   PRIMARY KEY,
    entry_id       uuid        NOT NULL UNIQUE REFERENCES entries (id),
    from_event_id  bigint      NOT NULL REFERENCES events (id),
    series_id      bigint      NOT NULL REFERENCES series (id),
    subqueue_key   text        NOT NULL CHECK (subqueue_key ~ '^[a-z0-9-]{1,32}:[a-z0-9-]{1,32}$'),
    state          text        NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'used', 'cancelled')),
    fee_minor      bigint      NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
    currency       text        NOT NULL DEFAULT '',
    to_event_id    bigint      REFERENCES events (id),
    to_subqueue_id bigint      REFERENCES subqueues (id),
    to_entry_id    uuid        REFERENCES entries (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    used_at        timestamptz,
    CHECK ((state = 'used') = (to_entry_id IS NOT NULL))
);
CREATE INDEX deferrals_from_idx ON deferrals (from_event_id, subqueue_key) WHERE state <> 'cancelled';
CREATE INDEX deferrals_held_idx ON deferrals (series_id) WHERE state = 'held';
CREATE INDEX deferrals_to_idx ON deferrals (to_subqueue_id) WHERE state = 'used';

-- +goose Down
DROP TABLE deferrals;
UPDATE entries SET status = 'confirmed' WHERE status = 'deferred';
ALTER TABLE entries DROP CONSTRAINT entries_status_check;
ALTER TABLE entries ADD CONSTRAINT entries_status_check CHECK (status IN ('received', 'in_review', 'rejected',
    'eligible', 'selected', 'waitlisted', 'offered', 'confirmed', 'declined', 'expired', 'withdrawn', 'transferred'));
DROP TABLE event_deferral_settings;
