-- +goose Up
-- Staff invitations (issue 14): an organizer invites an address to the
-- organization as organizer or reviewer from the console. The link's token
-- is kept only as its SHA-256; an invitation is used once (accepted_at),
-- may be revoked, and expires after 7 days.
CREATE TABLE staff_invites (
    id          bigserial PRIMARY KEY,
    org_id      bigint      NOT NULL REFERENCES organizations (id),
    email       text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    role        text        NOT NULL CHECK (role IN ('organizer', 'reviewer')),
    token_hash  bytea       NOT NULL UNIQUE,
    invited_by  bigint      NOT NULL REFERENCES staff (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    staff_id    bigint REFERENCES staff (id), -- the account made on acceptance
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX staff_invites_org_idx ON staff_invites (org_id, created_at DESC);

-- +goose Down
DROP TABLE staff_invites;
