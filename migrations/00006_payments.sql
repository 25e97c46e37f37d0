-- +goose Up
-- The price of a slot, charged when an accepted offer is paid.
ALTER TABLE events
    ADD COLUMN price_minor bigint NOT NULL DEFAULT 0 CHECK (price_minor >= 0),
    ADD COLUMN currency    text   NOT NULL DEFAULT 'krw' CHECK (currency ~ '^[a-z]{3}$');

-- Payments of offers, as the provider reports them. Status only moves
-- forward, so out-of-order webhooks cannot undo a capture.
CREATE TABLE payments (
    provider     text        NOT NULL,
    id           text        NOT NULL,
    offer_id     uuid        NOT NULL REFERENCES offers (id),
    status       text        NOT NULL CHECK (status IN ('created', 'authorized', 'captured', 'failed', 'canceled', 'refunded')),
    amount_minor bigint      NOT NULL CHECK (amount_minor >= 0),
    currency     text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, id)
);
CREATE INDEX payments_offer_idx ON payments (offer_id);

-- Webhook deliveries already processed: the same event twice changes nothing.
CREATE TABLE payment_events (
    provider    text        NOT NULL,
    event_id    text        NOT NULL,
    payment_id  text        NOT NULL,
    status      text        NOT NULL,
    created     timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);
CREATE TRIGGER payment_events_append_only BEFORE UPDATE OR DELETE ON payment_events
    FOR EACH ROW EXECUTE FUNCTION startline_append_only();

-- +goose Down
DROP TABLE payment_events, payments;
ALTER TABLE events DROP COLUMN currency, DROP COLUMN price_minor;
