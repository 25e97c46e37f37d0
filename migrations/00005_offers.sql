-- +goose Up
-- Payment-hold offers. Per sub-queue, live offers (pending, accepted, paid)
-- never exceed capacity: every change locks the sub-queue row and counts,
-- and a trigger re-checks after every statement that writes offers.
CREATE TABLE offers (
    id          uuid PRIMARY KEY,
    event_id    bigint      NOT NULL REFERENCES events (id),
    subqueue_id bigint      NOT NULL REFERENCES subqueues (id),
    entry_id    uuid        NOT NULL REFERENCES entries (id),
    unit_id     text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('pending', 'accepted', 'paid', 'declined', 'expired', 'void')),
    round       integer     NOT NULL CHECK (round >= 0), -- 0: the draw's selection; n: the n-th release
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    decided_at  timestamptz,
    CHECK (expires_at > issued_at)
);
-- An entry is offered at most once (an expired or declined offer does not return it to the waitlist).
CREATE UNIQUE INDEX offers_entry_key ON offers (entry_id);
CREATE INDEX offers_subqueue_live_idx ON offers (subqueue_id) WHERE status IN ('pending', 'accepted', 'paid');
CREATE INDEX offers_due_idx ON offers (expires_at) WHERE status IN ('pending', 'accepted');

-- Statement-level (one count per touched sub-queue per statement, not one
-- per row: a 10,000-offer COPY would otherwise count 10,000 times).
-- +goose StatementBegin
CREATE FUNCTION startline_offer_capacity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT q.id, q.capacity, count(o.id) AS live INTO bad
    FROM (SELECT DISTINCT subqueue_id FROM changed) c
    JOIN subqueues q ON q.id = c.subqueue_id
    LEFT JOIN offers o ON o.subqueue_id = q.id AND o.status IN ('pending', 'accepted', 'paid')
    GROUP BY q.id, q.capacity HAVING count(o.id) > q.capacity LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'sub-queue % would hold % offers for % slots', bad.id, bad.live, bad.capacity USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER offers_capacity_insert AFTER INSERT ON offers REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION startline_offer_capacity();
CREATE TRIGGER offers_capacity_update AFTER UPDATE ON offers REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION startline_offer_capacity();

-- +goose Down
DROP TABLE offers;
DROP FUNCTION startline_offer_capacity();
