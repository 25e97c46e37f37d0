-- +goose Up
-- Per-event overrides of the apply scoring thresholds; NULL uses the defaults.
ALTER TABLE events ADD COLUMN risk_rules jsonb;

-- +goose Down
ALTER TABLE events DROP COLUMN risk_rules;
