-- +goose Up
-- Issue 16: the status views (api readcache, the web status page) also
-- show an entry's disputes, its open or finished transfer and its
-- deferral. 00041 announced neither, so a reviewer's answer or the
-- worker's transfer sweep reached other processes' cached pages only when
-- their TTL ran out. Same announcement as 00041 ('e:<entry id>', or
-- 'v:<slug>' past 64 entries in one statement); a transfer names both its
-- giver's and its recipient's entries.
SELECT views_trigger('disputes', ARRAY['INSERT', 'UPDATE', 'DELETE'], 'entry',
    'SELECT r.entry_id, ev.slug FROM %s r JOIN events ev ON ev.id = r.event_id');
SELECT views_trigger('transfers', ARRAY['INSERT', 'UPDATE', 'DELETE'], 'entry',
    'SELECT x.entry_id, ev.slug FROM %s r JOIN events ev ON ev.id = r.event_id
     CROSS JOIN LATERAL (VALUES (r.from_entry), (r.to_entry)) x (entry_id) WHERE x.entry_id IS NOT NULL');
SELECT views_trigger('deferrals', ARRAY['INSERT', 'UPDATE', 'DELETE'], 'entry',
    'SELECT r.entry_id, ev.slug FROM %s r JOIN events ev ON ev.id = r.from_event_id');

-- +goose Down
DROP TRIGGER disputes_views_insert ON disputes;
DROP TRIGGER disputes_views_update ON disputes;
DROP TRIGGER disputes_views_delete ON disputes;
DROP TRIGGER transfers_views_insert ON transfers;
DROP TRIGGER transfers_views_update ON transfers;
DROP TRIGGER transfers_views_delete ON transfers;
DROP TRIGGER deferrals_views_insert ON deferrals;
DROP TRIGGER deferrals_views_update ON deferrals;
DROP TRIGGER deferrals_views_delete ON deferrals;
