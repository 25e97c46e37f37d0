-- +goose Up
-- Mail intents (issue 11): a change that owes a mail (an offer issued)
-- queues an outbox row naming the template (intent) and the ids it is about,
-- in the transaction of the change; subject and body stay empty until the
-- worker renders it from lottery/mails when it sends it. Mails rendered at
-- write time (the one-time code, staff alerts) name their template too.
-- No personal data beyond the recipient is stored here.
ALTER TABLE outbox
    ADD COLUMN intent   text NOT NULL DEFAULT '',
    ADD COLUMN event_id bigint,
    ADD COLUMN entry_id uuid,
    ADD COLUMN offer_id uuid;

-- +goose Down
ALTER TABLE outbox DROP COLUMN intent, DROP COLUMN event_id, DROP COLUMN entry_id, DROP COLUMN offer_id;
