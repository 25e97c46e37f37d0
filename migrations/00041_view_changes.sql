-- +goose Up
-- Issue 16, results day from memory: every API process keeps the entry
-- status, event and results views it answered in memory (internal/readcache)
-- and must drop one the moment the data under it changes, whoever changed
-- it (an API node, the worker's expiry sweep or card charges, the CLI, an
-- operator in psql). So the database announces each committed change on
-- the channel startline_views (NOTIFY is delivered only after COMMIT, and
-- to every listening connection): 'e:<entry id>' when an entry or what
-- hangs off it changed (its offer, payment, card charge, appeal, consents,
-- card), 'v:<event slug>' when an event's public views did (the event, its
-- sub-queues, odds, draws, results) or when one statement touched more
-- than 64 entries (a draw, an expiry sweep): one message for the event
-- instead of thousands.
--
-- Statement-level triggers with transition tables: one query per
-- statement, however many rows it touched. Inserts into entries,
-- entry_consents and entry_cards (an application) announce nothing: no
-- view of an entry exists before it does, and the apply path stays
-- unchanged.
--
-- TG_ARGV[0] is 'entry' or 'event'; TG_ARGV[1] a query over the changed
-- rows (%s: the transition table) giving (entry_id, slug) for 'entry' or
-- (slug) for 'event'.
-- +goose StatementBegin
CREATE FUNCTION views_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    rel text := CASE WHEN TG_OP = 'DELETE' THEN 'old_rows' ELSE 'new_rows' END;
    q   text := format(TG_ARGV[1], rel);
    n   bigint;
BEGIN
    IF TG_ARGV[0] = 'entry' THEN
        EXECUTE 'SELECT count(DISTINCT entry_id) FROM (' || q || ') c' INTO n;
        IF n = 0 THEN
            RETURN NULL;
        ELSIF n <= 64 THEN
            EXECUTE 'SELECT count(pg_notify(''startline_views'', ''e:'' || entry_id::text))
                     FROM (SELECT DISTINCT entry_id FROM (' || q || ') c) d';
            RETURN NULL;
        END IF;
    END IF;
    EXECUTE 'SELECT count(pg_notify(''startline_views'', ''v:'' || slug))
             FROM (SELECT DISTINCT slug FROM (' || q || ') c) d';
    RETURN NULL;
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- views_trigger creates the statement triggers of table for the operations
-- ops (each its own trigger: a transition table serves one event).
CREATE FUNCTION views_trigger(tbl text, ops text[], kind text, q text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    op text;
BEGIN
    FOREACH op IN ARRAY ops LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s TABLE AS %s FOR EACH STATEMENT
                        EXECUTE FUNCTION views_changed(%L, %L)',
            tbl || '_views_' || lower(op), op, tbl,
            CASE WHEN op = 'DELETE' THEN 'OLD' ELSE 'NEW' END,
            CASE WHEN op = 'DELETE' THEN 'old_rows' ELSE 'new_rows' END,
            kind, q);
    END LOOP;
END
$fn$;
-- +goose StatementEnd

-- What an entry's status is built from.
SELECT views_trigger('entries', ARRAY['UPDATE', 'DELETE'], 'entry',
    'SELECT r.id AS entry_id, ev.slug FROM %s r JOIN events ev ON ev.id = r.event_id');
SELECT views_trigger('entry_consents', ARRAY['UPDATE', 'DELETE'], 'entry',
    'SELECT r.entry_id, ev.slug FROM %s r JOIN entries en ON en.id = r.entry_id JOIN events ev ON ev.id = en.event_id');
SELECT views_trigger('entry_cards', ARRAY['UPDATE', 'DELETE'], 'entry',
    'SELECT r.entry_id, ev.slug FROM %s r JOIN events ev ON ev.id = r.event_id');
SELECT views_trigger('offers', ARRAY['INSERT', 'UPDATE', 'DELETE'], 'entry',
    'SELECT r.entry_id, ev.slug FROM %s r JOIN events ev ON ev.id = r.event_id');
SELECT views_trigger('payments', ARRAY['INSERT', 'UPDATE', 'DELETE'], 'entry',
    'SELECT o.entry_id, ev.slug FROM %s r JOIN offers o ON o.id = r.offer_id JOIN events ev ON ev.id = o.event_id');
SELECT views_trigger('card_charges', ARRAY['INSERT', 'UPDATE', 'DELETE'], 'entry',
    'SELECT r.entry_id, ev.slug FROM %s r JOIN events ev ON ev.id = r.event_id');
SELECT views_trigger('appeals', ARRAY['INSERT', 'UPDATE', 'DELETE'], 'entry',
    'SELECT r.entry_id, ev.slug FROM %s r JOIN events ev ON ev.id = r.event_id');

-- What an event's public views (and every status of it) are built from.
SELECT views_trigger('events', ARRAY['UPDATE', 'DELETE'], 'event', 'SELECT slug FROM %s');
SELECT views_trigger(t, ARRAY['INSERT', 'UPDATE', 'DELETE'], 'event',
    'SELECT ev.slug FROM %s r JOIN events ev ON ev.id = r.event_id')
FROM unnest(ARRAY['courses', 'subqueues', 'draws', 'draw_stats', 'subqueue_odds',
                  'event_card_settings', 'event_deferral_settings']) t;
SELECT views_trigger('draw_results', ARRAY['INSERT', 'UPDATE', 'DELETE'], 'event',
    'SELECT ev.slug FROM %s r JOIN subqueues s ON s.id = r.subqueue_id JOIN events ev ON ev.id = s.event_id');

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tgname, tgrelid::regclass AS rel FROM pg_trigger WHERE tgname LIKE '%\_views\_%' AND NOT tgisinternal LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP FUNCTION views_trigger(text, text[], text, text);
DROP FUNCTION views_changed();
