-- +goose Up
-- A dispute window (issue 12): freeze publishes each sub-queue's frozen list
-- and its root, and the seed cannot be revealed before frozen_at plus the
-- event's window, so runners can check their line and dispute it first.
-- Existing events keep revealing as before (0); new ones get the default
-- from the event spec (24 hours).
ALTER TABLE events ADD COLUMN dispute_window_seconds integer NOT NULL DEFAULT 0
    CHECK (dispute_window_seconds >= 0 AND dispute_window_seconds <= 2592000);

-- A runner's dispute of the frozen list and a reviewer's answer. The message
-- is the runner's words about their own entry; it is shown to reviewers and
-- never published. The answer is set once.
CREATE TABLE disputes (
    id          bigserial   PRIMARY KEY,
    event_id    bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    entry_id    uuid        NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    message     text        NOT NULL CHECK (length(message) BETWEEN 1 AND 500),
    created_at  timestamptz NOT NULL,
    outcome     text        CHECK (outcome IN ('upheld', 'denied')),
    answer      text        CHECK (length(answer) BETWEEN 1 AND 1000),
    answered_by bigint      REFERENCES staff (id),
    answered_at timestamptz,
    CHECK ((outcome IS NULL) = (answer IS NULL) AND (outcome IS NULL) = (answered_at IS NULL))
);
CREATE INDEX disputes_entry_idx ON disputes (entry_id, id);
CREATE INDEX disputes_open_idx ON disputes (event_id, id) WHERE outcome IS NULL;

-- +goose Down
DROP TABLE disputes;
ALTER TABLE events DROP COLUMN dispute_window_seconds;
