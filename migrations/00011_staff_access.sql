-- +goose Up
-- Staff access can be ended: bearer tokens expire (`startline staff token
-- --ttl`, 90 days by default) and record when they were last used, and a
-- short display prefix lets `startline staff tokens` name a token without
-- showing it. Tokens issued before this migration get 90 days from their
-- creation, but at least a week from now so running scripts are not cut off
-- without notice.
ALTER TABLE staff_tokens
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN prefix       text NOT NULL DEFAULT '' CHECK (length(prefix) <= 16);
UPDATE staff_tokens SET expires_at = greatest(created_at + interval '90 days', now() + interval '7 days');
ALTER TABLE staff_tokens ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX staff_tokens_staff_idx ON staff_tokens (staff_id);
-- Disabling or resetting an account ends its sessions at once.
CREATE INDEX staff_sessions_staff_idx ON staff_sessions (staff_id) WHERE revoked_at IS NULL;

-- Devices (the signed sl_device cookie's id, hashed) that signed in to an
-- account with an accepted risk score. A known device's right password and
-- code still work while strangers hammer the account (api/stafflogin.go);
-- `staff reset` forgets them.
CREATE TABLE staff_devices (
    staff_id      bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    device_hash   bytea       NOT NULL CHECK (length(device_hash) = 32),
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_id, device_hash)
);

-- +goose Down
DROP TABLE staff_devices;
DROP INDEX staff_sessions_staff_idx;
DROP INDEX staff_tokens_staff_idx;
ALTER TABLE staff_tokens DROP COLUMN prefix, DROP COLUMN last_used_at, DROP COLUMN expires_at;
