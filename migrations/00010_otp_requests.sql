-- +goose Up
-- Every e-mail code request's risk assessment, mailed or refused. A refused
-- request is answered 202 like a mailed one (nothing is revealed to the
-- requester), so this table is where the decision can be explained later:
-- reviewers see an entry's code requests beside its own assessment.
-- Append-only, like the other logs.
CREATE TABLE otp_requests (
    id            bigserial PRIMARY KEY,
    event_id      bigint      NOT NULL REFERENCES events (id),
    email_key     text        NOT NULL CHECK (length(email_key) BETWEEN 3 AND 254),
    requested_at  timestamptz NOT NULL,
    mailed        boolean     NOT NULL,
    risk_score    integer     NOT NULL CHECK (risk_score BETWEEN 0 AND 1000),
    risk_decision text        NOT NULL CHECK (risk_decision IN ('accept', 'review', 'reject')),
    risk_reasons  jsonb       NOT NULL,
    client_ip     inet,
    user_agent    text        NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512)
);
CREATE INDEX otp_requests_email_idx ON otp_requests (event_id, email_key, requested_at);
CREATE TRIGGER otp_requests_append_only BEFORE UPDATE OR DELETE ON otp_requests
    FOR EACH ROW EXECUTE FUNCTION startline_append_only();
CREATE TRIGGER otp_requests_no_truncate BEFORE TRUNCATE ON otp_requests
    FOR EACH STATEMENT EXECUTE FUNCTION startline_append_only();

-- +goose Down
DROP TABLE otp_requests;
