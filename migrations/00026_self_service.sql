-- +goose Up
-- Runner self-service (issue 13): "my entries" by an e-mailed code, appeals
-- of a rejection, and retention (personal data anonymized a configured time
-- after the event, or at once on the runner's request).

-- One "my entries" code per address, for every event at once (the apply
-- codes are per event). Only a keyed hash is kept; single use, short-lived,
-- a few attempts (lottery.CheckCode).
CREATE TABLE me_codes (
    email_key  text        PRIMARY KEY CHECK (length(email_key) BETWEEN 3 AND 254),
    code_hash  bytea       NOT NULL,
    attempts   integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A rejected runner's appeal, once per entry, and the reviewer's decision
-- (set once). The message is the runner's words: shown to reviewers, never
-- published or logged.
CREATE TABLE appeals (
    id         bigserial   PRIMARY KEY,
    event_id   bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    entry_id   uuid        NOT NULL UNIQUE REFERENCES entries (id) ON DELETE CASCADE,
    message    text        NOT NULL CHECK (length(message) BETWEEN 1 AND 1000),
    created_at timestamptz NOT NULL,
    outcome    text        CHECK (outcome IN ('reinstated', 'upheld')),
    note       text        NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    decided_by bigint      REFERENCES staff (id),
    decided_at timestamptz,
    CHECK ((outcome IS NULL) = (decided_at IS NULL))
);
CREATE INDEX appeals_open_idx ON appeals (event_id, id) WHERE outcome IS NULL;

-- When an entry's personal data was replaced (retention or the runner's
-- erase request); NULL while it is kept.
ALTER TABLE entries ADD COLUMN anonymized_at timestamptz;
CREATE INDEX entries_not_anonymized_idx ON entries (event_id) WHERE anonymized_at IS NULL;

-- Anonymized phone numbers: unique (entries are unique per event by phone)
-- and in +999, a country code no one has, so they never meet a real one.
CREATE SEQUENCE anonymized_phone_seq;

-- otp_requests stays append-only except for the one change retention makes:
-- the address, IP and user agent cleared, everything else as it was.
-- +goose StatementBegin
CREATE FUNCTION startline_otp_requests_erase_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.event_id = OLD.event_id AND NEW.requested_at = OLD.requested_at
        AND NEW.mailed = OLD.mailed AND NEW.risk_score = OLD.risk_score AND NEW.risk_decision = OLD.risk_decision
        AND NEW.risk_reasons = OLD.risk_reasons AND NEW.client_ip IS NULL AND NEW.user_agent = ''
        AND NEW.email_key LIKE 'erased:%' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
DROP TRIGGER otp_requests_append_only ON otp_requests;
CREATE TRIGGER otp_requests_append_only BEFORE UPDATE OR DELETE ON otp_requests
    FOR EACH ROW EXECUTE FUNCTION startline_otp_requests_erase_only();

-- +goose Down
DROP TRIGGER otp_requests_append_only ON otp_requests;
CREATE TRIGGER otp_requests_append_only BEFORE UPDATE OR DELETE ON otp_requests
    FOR EACH ROW EXECUTE FUNCTION startline_append_only();
DROP FUNCTION startline_otp_requests_erase_only();
DROP SEQUENCE anonymized_phone_seq;
DROP INDEX entries_not_anonymized_idx;
ALTER TABLE entries DROP COLUMN anonymized_at;
DROP TABLE appeals;
DROP TABLE me_codes;
