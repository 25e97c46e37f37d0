-- +goose Up
-- A verifiable pre-queue (prequeue-v1, docs/PREQUEUE-SPEC.md): a line's
-- seed secret is committed (sha256 published) before its first join, and
-- the opening places the pre-queue by a public rule over that secret and
-- the tickets' public ids, then publishes the secret, the root and the
-- order, so anyone can recompute it.

-- A ticket's pseudonym in the published order: a keyed hash of its id,
-- which names it without revealing its holder or letting anyone poll it.
-- Tickets already waiting in a pre-queue get a random one.
ALTER TABLE queue_tickets ADD COLUMN public_id text CHECK (public_id ~ '^[a-z0-9-]{1,64}$');
UPDATE queue_tickets SET public_id = replace(gen_random_uuid()::text, '-', '')
    WHERE place IS NULL AND status = 'waiting';

-- One row per line whose secret is committed. seed_sealed is the secret
-- sealed with the service key (opened only to place the pre-queue); the
-- revealed secret, the root and the order (public ids from place 1, one
-- array: a row per ticket tripled the time a 100,000-ticket opening makes
-- joins wait) are set once, at the opening.
CREATE TABLE prequeues (
    subqueue_id  bigint PRIMARY KEY REFERENCES queue_lines (subqueue_id) ON DELETE CASCADE,
    event_id     bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    commitment   text        NOT NULL CHECK (commitment ~ '^[0-9a-f]{64}$'),
    seed_sealed  bytea       NOT NULL,
    committed_at timestamptz NOT NULL,
    seed_secret  text CHECK (seed_secret ~ '^[0-9a-f]{64}$'),
    tickets_root text CHECK (tickets_root ~ '^[0-9a-f]{64}$'),
    placed       integer CHECK (placed >= 0),
    order_ids    text[],
    placed_at    timestamptz,
    CHECK ((placed_at IS NULL) = (seed_secret IS NULL) AND (placed_at IS NULL) = (tickets_root IS NULL)
        AND (placed_at IS NULL) = (placed IS NULL) AND (placed_at IS NULL) = (order_ids IS NULL)),
    CHECK (coalesce(cardinality(order_ids), 0) = coalesce(placed, 0))
);
CREATE INDEX prequeues_event_idx ON prequeues (event_id);

-- The commitment never changes, and a placed pre-queue is final.
-- +goose StatementBegin
CREATE FUNCTION startline_prequeue_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.placed_at IS NOT NULL THEN
        RAISE EXCEPTION 'pre-queue of sub-queue % is placed and immutable', OLD.subqueue_id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.commitment IS DISTINCT FROM OLD.commitment OR NEW.seed_sealed IS DISTINCT FROM OLD.seed_sealed THEN
        RAISE EXCEPTION 'pre-queue of sub-queue % has a published commitment', OLD.subqueue_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER prequeues_immutable BEFORE UPDATE ON prequeues
    FOR EACH ROW EXECUTE FUNCTION startline_prequeue_immutable();

-- +goose Down
DROP TABLE prequeues;
DROP FUNCTION startline_prequeue_immutable();
ALTER TABLE queue_tickets DROP COLUMN public_id;
