-- +goose Up
-- Events, their courses and sub-queues (course x pace group).
CREATE TABLE events (
    id                 bigserial PRIMARY KEY,
    slug               text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,64}$'),
    name               text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    time_zone          text        NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    opens_at           timestamptz NOT NULL,
    closes_at          timestamptz NOT NULL,
    status             text        NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'published', 'closed', 'frozen', 'drawn', 'settled')),
    offer_hold_seconds integer     NOT NULL CHECK (offer_hold_seconds BETWEEN 60 AND 2592000),
    max_group_size     integer     NOT NULL DEFAULT 1 CHECK (max_group_size BETWEEN 1 AND 16),
    ticket_rule        text        NOT NULL DEFAULT 'none' CHECK (ticket_rule IN ('none', 'doubling')),
    seed_secret_sealed bytea,
    commitment         text CHECK (commitment ~ '^[0-9a-f]{64}$'),
    published_at       timestamptz,
    closed_at          timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (closes_at > opens_at),
    -- A published event has committed to its seed (DRAW-SPEC: commit before close).
    CHECK (status = 'draft' OR (commitment IS NOT NULL AND seed_secret_sealed IS NOT NULL))
);

CREATE TABLE courses (
    id          bigserial PRIMARY KEY,
    event_id    bigint        NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    code        text          NOT NULL CHECK (code ~ '^[a-z0-9-]{1,32}$'),
    name        text          NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    distance_km numeric(8, 4) NOT NULL CHECK (distance_km > 0),
    position    integer       NOT NULL,
    UNIQUE (event_id, code)
);

CREATE TABLE subqueues (
    id         bigserial PRIMARY KEY,
    event_id   bigint  NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    course_id  bigint  NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    key        text    NOT NULL CHECK (key ~ '^[a-z0-9-]{1,32}:[a-z0-9-]{1,32}$'),
    pace_code  text    NOT NULL CHECK (pace_code ~ '^[a-z0-9-]{1,32}$'),
    label      text    NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    pace_min_s integer CHECK (pace_min_s > 0),
    pace_max_s integer CHECK (pace_max_s > 0),
    capacity   integer NOT NULL CHECK (capacity >= 0),
    mode       text    NOT NULL CHECK (mode IN ('lottery', 'ordered')),
    position   integer NOT NULL,
    UNIQUE (event_id, key),
    UNIQUE (course_id, pace_code),
    CHECK (pace_min_s IS NULL OR pace_max_s IS NULL OR pace_min_s <= pace_max_s)
);
CREATE INDEX subqueues_event_idx ON subqueues (event_id);

-- Entries: one per person per event, by normalized e-mail (email_key).
CREATE TABLE entries (
    id                    uuid PRIMARY KEY,
    event_id              bigint      NOT NULL REFERENCES events (id),
    subqueue_id           bigint      NOT NULL REFERENCES subqueues (id),
    name                  text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email                 text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    email_key             text        NOT NULL CHECK (length(email_key) BETWEEN 3 AND 254),
    phone                 text        NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    birth_date            date        NOT NULL,
    tickets               integer     NOT NULL DEFAULT 1 CHECK (tickets BETWEEN 1 AND 4096),
    previous_applications integer     NOT NULL DEFAULT 0 CHECK (previous_applications BETWEEN 0 AND 100),
    group_code            text        NOT NULL DEFAULT '' CHECK (group_code ~ '^[a-z0-9-]{0,64}$'),
    status                text        NOT NULL CHECK (status IN ('received', 'in_review', 'rejected', 'eligible',
        'selected', 'waitlisted', 'offered', 'confirmed', 'declined', 'expired')),
    risk_score            integer     NOT NULL DEFAULT 0 CHECK (risk_score BETWEEN 0 AND 1000),
    risk_decision         text        NOT NULL DEFAULT 'accept' CHECK (risk_decision IN ('accept', 'review', 'reject')),
    risk_reasons          jsonb       NOT NULL DEFAULT '[]',
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, email_key)
);
CREATE INDEX entries_subqueue_status_idx ON entries (subqueue_id, status);
CREATE INDEX entries_group_idx ON entries (event_id, group_code) WHERE group_code <> '';

-- E-mail one-time codes: only an HMAC of the code is stored.
CREATE TABLE otp_codes (
    event_id   bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    email_key  text        NOT NULL,
    code_hash  bytea       NOT NULL,
    attempts   integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    used_by    uuid, -- the entry the code was consumed for (no FK: set before the entry row exists)
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, email_key)
);

-- Idempotency-Key replay records for the apply route, written in the apply transaction.
CREATE TABLE idempotency_keys (
    event_id     bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea       NOT NULL,
    entry_id     uuid        NOT NULL REFERENCES entries (id) DEFERRABLE INITIALLY DEFERRED,
    status       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, key)
);

-- Outgoing mail, written in the same transaction as the change that causes it.
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    to_addr    text        NOT NULL,
    subject    text        NOT NULL,
    body       text        NOT NULL,
    kind       text        NOT NULL,
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text        NOT NULL DEFAULT '',
    sent_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_to_idx ON outbox (to_addr, created_at DESC);
CREATE INDEX outbox_unsent_idx ON outbox (created_at) WHERE sent_at IS NULL;

-- Staff accounts (organizers, reviewers) and their bearer tokens (hashes only).
CREATE TABLE staff (
    id                 bigserial PRIMARY KEY,
    email              text        NOT NULL UNIQUE,
    role               text        NOT NULL CHECK (role IN ('organizer', 'reviewer')),
    password_hash      text        NOT NULL,
    totp_secret_sealed bytea       NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    disabled_at        timestamptz
);

CREATE TABLE staff_tokens (
    id           bigserial PRIMARY KEY,
    staff_id     bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    token_hash   bytea       NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

-- Append-only logs: every state change of an entry, offer or event, and every staff action.
CREATE TABLE event_log (
    id          bigserial PRIMARY KEY,
    event_id    bigint      NOT NULL REFERENCES events (id),
    entry_id    uuid REFERENCES entries (id),
    kind        text        NOT NULL,
    from_status text        NOT NULL DEFAULT '',
    to_status   text        NOT NULL DEFAULT '',
    actor       text        NOT NULL,
    details     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_log_event_idx ON event_log (event_id, id);
CREATE INDEX event_log_entry_idx ON event_log (entry_id) WHERE entry_id IS NOT NULL;

CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    staff_id   bigint REFERENCES staff (id),
    action     text        NOT NULL,
    target     text        NOT NULL DEFAULT '',
    details    jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose StatementBegin
CREATE FUNCTION startline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE ON event_log
    FOR EACH ROW EXECUTE FUNCTION startline_append_only();
CREATE TRIGGER event_log_no_truncate BEFORE TRUNCATE ON event_log
    FOR EACH STATEMENT EXECUTE FUNCTION startline_append_only();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION startline_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION startline_append_only();

-- The seed commitment can never change once published (DRAW-SPEC step 1).
-- +goose StatementBegin
CREATE FUNCTION startline_commitment_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.commitment IS NOT NULL AND NEW.commitment IS DISTINCT FROM OLD.commitment THEN
        RAISE EXCEPTION 'event % commitment is immutable', OLD.slug USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.seed_secret_sealed IS NOT NULL AND NEW.seed_secret_sealed IS DISTINCT FROM OLD.seed_secret_sealed THEN
        RAISE EXCEPTION 'event % seed secret is immutable', OLD.slug USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_commitment_immutable BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION startline_commitment_immutable();

-- +goose Down
DROP TABLE audit_log, event_log, staff_tokens, staff, outbox, idempotency_keys, otp_codes, entries,
    subqueues, courses, events;
DROP FUNCTION startline_commitment_immutable();
DROP FUNCTION startline_append_only();
