-- +goose Up
-- Card on file (issue 15): where an event turns it on (a row here), a runner
-- saves a card when applying (a SetupIntent, or the sandbox's setup step)
-- and a selected runner is charged off-session right after the results are
-- published, metered at charge_per_minute, retried up to max_attempts
-- times; a charge that still fails falls back to the offer's pay link
-- within its hold. More entries per card fingerprint than entries_per_card
-- go to review, and the card links them in the reviewer's cluster view.
CREATE TABLE event_card_settings (
    event_id          bigint      PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    entries_per_card  integer     NOT NULL DEFAULT 1 CHECK (entries_per_card BETWEEN 1 AND 1000),
    charge_per_minute integer     NOT NULL DEFAULT 1200 CHECK (charge_per_minute BETWEEN 1 AND 100000),
    max_attempts      integer     NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 10),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- One saved card per entry. setup_id is the provider's setup (Stripe
-- SetupIntent id); payment_method and customer what an off-session charge
-- needs; fingerprint the provider's card fingerprint (the same card gives
-- the same value across entries), brand and last4 what a runner and a
-- reviewer are shown. Erased with the entry (retention, erase on request).
CREATE TABLE entry_cards (
    entry_id       uuid        PRIMARY KEY REFERENCES entries (id),
    event_id       bigint      NOT NULL REFERENCES events (id),
    provider       text        NOT NULL,
    setup_id       text        NOT NULL,
    payment_method text        NOT NULL DEFAULT '',
    customer       text        NOT NULL DEFAULT '',
    fingerprint    text        NOT NULL DEFAULT '',
    brand          text        NOT NULL DEFAULT '',
    last4          text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, setup_id)
);
CREATE INDEX entry_cards_fingerprint_idx ON entry_cards (event_id, fingerprint) WHERE fingerprint <> '';

-- One off-session charge per offer made to a runner with a saved card.
-- state: queued (waiting for its turn under the rate), charged (the
-- payment is captured; the offer is paid), retry (a soft decline or a busy
-- provider; next_at says when), fallback (attempts used up or a hard
-- decline: the runner was sent the offer's pay link). last_error is the
-- provider's decline code, never card data.
CREATE TABLE card_charges (
    offer_id   uuid        PRIMARY KEY REFERENCES offers (id),
    entry_id   uuid        NOT NULL REFERENCES entries (id),
    event_id   bigint      NOT NULL REFERENCES events (id),
    state      text        NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'retry', 'charged', 'fallback')),
    attempts   integer     NOT NULL DEFAULT 0,
    payment_id text        NOT NULL DEFAULT '',
    last_error text        NOT NULL DEFAULT '',
    next_at    timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX card_charges_due_idx ON card_charges (next_at) WHERE state IN ('queued', 'retry');
CREATE INDEX card_charges_event_idx ON card_charges (event_id, state);

-- +goose Down
DROP TABLE card_charges;
DROP TABLE entry_cards;
DROP TABLE event_card_settings;
