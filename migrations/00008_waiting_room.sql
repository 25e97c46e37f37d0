-- +goose Up
-- Ordered sub-queues sell first come, first served through a waiting room:
-- runners join a line, a worker admits them at the sub-queue's rate while
-- slots are free, and an admitted runner has a short window to apply.
ALTER TABLE subqueues
    ADD COLUMN admit_per_minute integer NOT NULL DEFAULT 600 CHECK (admit_per_minute BETWEEN 1 AND 100000);

-- One row per ordered sub-queue, created with it. Places come from the
-- sequence queue_place_<subqueue id>, also created with it: a sequence hands
-- out numbers without a row lock, so joins commit in parallel (a counter
-- row serialised them to ~600/s). A rolled-back join leaves a gap, which
-- only overstates "ahead" by one. admitted_through is the highest place
-- admitted; a join that committed after a pass went past its place is
-- admitted first by the next pass.
CREATE TABLE queue_lines (
    subqueue_id      bigint PRIMARY KEY REFERENCES subqueues (id) ON DELETE CASCADE,
    event_id         bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    admitted_through bigint      NOT NULL DEFAULT 0 CHECK (admitted_through >= 0),
    credit_at        timestamptz, -- admissions are earned at the rate from here
    sold_out         boolean     NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX queue_lines_event_idx ON queue_lines (event_id);

-- A join refused by bot scoring is kept (status refused, no place) so the
-- decision can be explained later; it holds no place in the line.
CREATE TABLE queue_tickets (
    id                   uuid PRIMARY KEY,
    event_id             bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subqueue_id          bigint      NOT NULL REFERENCES subqueues (id) ON DELETE CASCADE,
    place                bigint CHECK (place >= 1),
    email_key            text        NOT NULL CHECK (length(email_key) BETWEEN 3 AND 254),
    status               text        NOT NULL CHECK (status IN ('waiting', 'admitted', 'used', 'lapsed', 'refused')),
    risk_score           integer     NOT NULL DEFAULT 0 CHECK (risk_score BETWEEN 0 AND 1000),
    risk_decision        text        NOT NULL DEFAULT 'accept' CHECK (risk_decision IN ('accept', 'review', 'reject')),
    risk_reasons         jsonb       NOT NULL DEFAULT '{}',
    client_ip            inet,
    user_agent           text        NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512),
    device_id            text        NOT NULL DEFAULT '' CHECK (length(device_id) <= 64),
    joined_at            timestamptz NOT NULL,
    admitted_at          timestamptz,
    admission_expires_at timestamptz,
    used_at              timestamptz,
    entry_id             uuid REFERENCES entries (id),
    CHECK ((status = 'refused') = (place IS NULL)),
    CHECK (status IN ('waiting', 'refused') OR admission_expires_at IS NOT NULL),
    UNIQUE (subqueue_id, place)
);
CREATE INDEX queue_tickets_email_idx ON queue_tickets (event_id, email_key);
CREATE INDEX queue_tickets_admitted_idx ON queue_tickets (subqueue_id, admission_expires_at) WHERE status = 'admitted';
CREATE UNIQUE INDEX queue_tickets_entry_key ON queue_tickets (entry_id) WHERE entry_id IS NOT NULL;

-- +goose Down
DROP TABLE queue_tickets, queue_lines;
ALTER TABLE subqueues DROP COLUMN admit_per_minute;
