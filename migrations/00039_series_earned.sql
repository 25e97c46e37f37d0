-- +goose Up
-- Earned tickets outlive retention. An edition's entries are anonymized
-- 90 days after its race day (STARTLINE_RETENTION), long before the next
-- edition opens; their identity keys were the only record of who applied
-- and was not drawn, so every runner lost the tickets they had earned.
-- Before the retention pass erases an edition in a series, it keeps here,
-- for each entry that took part in the draw and was never offered a slot,
-- keyed pseudonyms of its keys (HMAC-SHA-256 under a key derived from
-- STARTLINE_SECRET_KEY, never stored in the database): enough to recognise
-- the same person applying again, nothing to read a name or address from.
-- A runner's own erase request keeps nothing (they chose to be forgotten).
CREATE TABLE series_earned (
    id          bigserial   PRIMARY KEY,
    series_id   bigint      NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    event_id    bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    email_hash  text        NOT NULL,
    phone_hash  text        NOT NULL DEFAULT '',
    person_hash text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX series_earned_email_idx ON series_earned (series_id, email_hash);
CREATE INDEX series_earned_phone_idx ON series_earned (series_id, phone_hash) WHERE phone_hash <> '';
CREATE INDEX series_earned_person_idx ON series_earned (series_id, person_hash) WHERE person_hash <> '';

-- +goose Down
DROP TABLE series_earned;
