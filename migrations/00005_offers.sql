-- +goose Up
-- Payment-hold offers. Per sub-queue, live offers (pending, accepted, paid)
-- never exceed capacity: every change locks the sub-queue row and counts,
-- and a deferred constraint trigger re-checks at commit.
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

-- +goose StatementBegin
CREATE FUNCTION startline_offer_capacity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    live integer;
    cap  integer;
BEGIN
    SELECT capacity INTO cap FROM subqueues WHERE id = NEW.subqueue_id;
    SELECT count(*) INTO live FROM offers WHERE subqueue_id = NEW.subqueue_id AND status IN ('pending', 'accepted', 'paid');
    IF live > cap THEN
        RAISE EXCEPTION 'sub-queue % would hold % offers for % slots', NEW.subqueue_id, live, cap USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER offers_capacity AFTER INSERT OR UPDATE ON offers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION startline_offer_capacity();

-- +goose Down
DROP TABLE offers;
DROP FUNCTION startline_offer_capacity();
