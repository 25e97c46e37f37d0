-- +goose Up
-- Every staff login reads the account's recent attempts for its risk score
-- (lottery/postgres/staffrisk.go); without this it scans the audit log.
CREATE INDEX audit_log_staff_login_idx ON audit_log (staff_id, created_at)
    WHERE action IN ('staff.login', 'staff.login_failed', 'staff.login_blocked');

-- +goose Down
DROP INDEX audit_log_staff_login_idx;
