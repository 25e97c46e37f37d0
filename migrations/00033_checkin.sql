-- +goose Up
-- Race-day check-in (issue 15): a confirmed entry's bib is picked up once,
-- by a staff member, at a time.
ALTER TABLE entries
    ADD COLUMN picked_up_at timestamptz,
    ADD COLUMN picked_up_by bigint REFERENCES staff (id),
    ADD CONSTRAINT entries_pickup_pair CHECK ((picked_up_at IS NULL) = (picked_up_by IS NULL));

-- +goose Down
ALTER TABLE entries DROP CONSTRAINT entries_pickup_pair, DROP COLUMN picked_up_by, DROP COLUMN picked_up_at;
