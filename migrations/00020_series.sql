-- +goose Up
-- Tickets are earned, never declared (issue 12). Events may be editions of
-- one race (a series); with the doubling rule an entry's tickets come from
-- the runner's unsuccessful applications to earlier editions, found by the
-- identity keys Startline stores, plus history an organizer imported for
-- editions run elsewhere. There are no organizations: a series is global,
-- like an event.
CREATE TABLE series (
    id         bigserial PRIMARY KEY,
    slug       text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,64}$'),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE events
    ADD COLUMN series_id     bigint REFERENCES series (id),
    ADD COLUMN edition_year  integer CHECK (edition_year BETWEEN 1900 AND 2200),
    ADD COLUMN edition_label text NOT NULL DEFAULT '' CHECK (length(edition_label) <= 64),
    ADD CHECK (series_id IS NOT NULL OR edition_year IS NULL);
CREATE INDEX events_series_idx ON events (series_id) WHERE series_id IS NOT NULL;

-- Imported history: one row per person of an organizer's file, reduced to
-- the normalized identity keys (antibot/identity) Startline matches on and
-- the count; no name, birth date or address as written is kept.
CREATE TABLE series_history (
    id           bigserial PRIMARY KEY,
    series_id    bigint      NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    import_id    uuid        NOT NULL,
    row_no       integer     NOT NULL CHECK (row_no >= 1),
    email_key    text        NOT NULL DEFAULT '',
    phone        text        NOT NULL DEFAULT '' CHECK (phone = '' OR phone ~ '^\+[1-9][0-9]{6,14}$'),
    person_key   text        NOT NULL CHECK (person_key <> ''),
    applications integer     NOT NULL CHECK (applications BETWEEN 1 AND 100),
    years        integer[]   NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (email_key <> '' OR phone <> '')
);
CREATE INDEX series_history_email_idx ON series_history (series_id, email_key) WHERE email_key <> '';
CREATE INDEX series_history_phone_idx ON series_history (series_id, phone) WHERE phone <> '';
CREATE INDEX series_history_person_idx ON series_history (series_id, person_key);

-- What an entry's tickets were counted from: the recorded count (earlier
-- editions + imported history, lottery.EarnedApplications), the runner's
-- claim when it is above the record and its review state. previous_applications
-- stays the count the tickets are computed from.
ALTER TABLE entries
    ADD COLUMN recorded_applications integer NOT NULL DEFAULT 0 CHECK (recorded_applications BETWEEN 0 AND 100),
    ADD COLUMN claimed_applications  integer CHECK (claimed_applications BETWEEN 0 AND 100),
    ADD COLUMN claim_note            text NOT NULL DEFAULT '' CHECK (length(claim_note) <= 2000),
    ADD COLUMN claim_status          text NOT NULL DEFAULT 'none'
        CHECK (claim_status IN ('none', 'pending', 'accepted', 'declined')),
    ADD COLUMN ticket_record         jsonb NOT NULL DEFAULT '{}';
CREATE INDEX entries_email_key_idx ON entries (email_key);
CREATE INDEX entries_phone_idx ON entries (phone);
CREATE INDEX entries_person_key_idx ON entries (person_key) WHERE person_key <> '';

-- Ticket counts are fixed at freeze: no statement changes an entry's
-- tickets once its event has left the window.
-- +goose StatementBegin
CREATE FUNCTION startline_tickets_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tickets IS DISTINCT FROM OLD.tickets AND EXISTS (
        SELECT 1 FROM events WHERE id = OLD.event_id AND status NOT IN ('draft', 'published', 'closed')) THEN
        RAISE EXCEPTION 'tickets of entry % are fixed at freeze', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER entries_tickets_fixed BEFORE UPDATE OF tickets ON entries
    FOR EACH ROW EXECUTE FUNCTION startline_tickets_fixed();

-- +goose Down
DROP TRIGGER entries_tickets_fixed ON entries;
DROP FUNCTION startline_tickets_fixed();
DROP INDEX entries_person_key_idx;
DROP INDEX entries_phone_idx;
DROP INDEX entries_email_key_idx;
ALTER TABLE entries DROP COLUMN ticket_record, DROP COLUMN claim_status, DROP COLUMN claim_note,
    DROP COLUMN claimed_applications, DROP COLUMN recorded_applications;
DROP TABLE series_history;
ALTER TABLE events DROP COLUMN edition_label, DROP COLUMN edition_year, DROP COLUMN series_id;
DROP TABLE series;
