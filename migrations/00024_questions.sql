-- +goose Up
-- Registration questions and consents (issue 13). An event's form: the
-- organizer's questions and the privacy notice and waiver every runner
-- accepts ('{}' reads as no questions and the default documents). An
-- entry's answers are kept with it (personal data: never in event_log,
-- logs or published files). Each consent is recorded with the document's
-- version and the time, append-only like the other records.
ALTER TABLE events ADD COLUMN form jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE entries ADD COLUMN answers jsonb NOT NULL DEFAULT '{}'::jsonb;

CREATE TABLE entry_consents (
    id          bigserial   PRIMARY KEY,
    entry_id    uuid        NOT NULL REFERENCES entries (id),
    document    text        NOT NULL CHECK (document IN ('privacy', 'waiver')),
    version     text        NOT NULL CHECK (length(version) BETWEEN 1 AND 128),
    accepted_at timestamptz NOT NULL,
    UNIQUE (entry_id, document, version)
);
CREATE TRIGGER entry_consents_append_only BEFORE UPDATE OR DELETE ON entry_consents
    FOR EACH ROW EXECUTE FUNCTION startline_append_only();
CREATE TRIGGER entry_consents_no_truncate BEFORE TRUNCATE ON entry_consents
    FOR EACH STATEMENT EXECUTE FUNCTION startline_append_only();

-- +goose Down
DROP TABLE entry_consents;
ALTER TABLE entries DROP COLUMN answers;
ALTER TABLE events DROP COLUMN form;
