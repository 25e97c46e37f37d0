-- +goose Up
-- What a reviewer needs to explain a decision: every signal as received.
ALTER TABLE entries
    ADD COLUMN person_key  text NOT NULL DEFAULT '',  -- normalized name tokens + birth date
    ADD COLUMN client_ip   inet,
    ADD COLUMN user_agent  text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512),
    ADD COLUMN device_id   text NOT NULL DEFAULT '' CHECK (length(device_id) <= 64),
    ADD COLUMN fingerprint text NOT NULL DEFAULT '' CHECK (length(fingerprint) <= 128),
    ADD COLUMN signals     jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN cluster_id  uuid;

-- One entry per person per event across every identity key (the e-mail key
-- is unique since 00001). Rejected entries keep their keys: a rejected
-- person cannot re-enter under the same phone.
CREATE UNIQUE INDEX entries_event_phone_key ON entries (event_id, phone);
CREATE UNIQUE INDEX entries_event_person_key ON entries (event_id, person_key) WHERE person_key <> '';
CREATE INDEX entries_review_idx ON entries (event_id, risk_score DESC) WHERE status = 'in_review';
CREATE INDEX entries_cluster_idx ON entries (cluster_id) WHERE cluster_id IS NOT NULL;
CREATE INDEX entries_device_idx ON entries (event_id, device_id) WHERE device_id <> '';
CREATE INDEX entries_fingerprint_idx ON entries (event_id, fingerprint) WHERE fingerprint <> '';

-- Browser sessions of staff (password + TOTP); only token hashes are kept.
CREATE TABLE staff_sessions (
    id         bigserial PRIMARY KEY,
    staff_id   bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    token_hash bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- The last TOTP time step each staff member used: a code works once.
ALTER TABLE staff ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE staff DROP COLUMN totp_last_step;
DROP TABLE staff_sessions;
DROP INDEX entries_fingerprint_idx, entries_device_idx, entries_cluster_idx, entries_review_idx,
    entries_event_person_key, entries_event_phone_key;
ALTER TABLE entries DROP COLUMN cluster_id, DROP COLUMN signals, DROP COLUMN fingerprint, DROP COLUMN device_id,
    DROP COLUMN user_agent, DROP COLUMN client_ip, DROP COLUMN person_key;
