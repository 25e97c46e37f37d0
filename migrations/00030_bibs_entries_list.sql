-- +goose Up
-- Data out (issue 14). Start-list bibs: each sub-queue (course x pace
-- group) gets a range the organizer sets, and a confirmed entry its bib,
-- unique in its event. The console's entries list pages by keyset on
-- (created_at, id) within an event, newest first: this index serves it
-- (and the exports' created order) with a million entries.
ALTER TABLE subqueues
    ADD COLUMN bib_first integer CHECK (bib_first BETWEEN 1 AND 999999),
    ADD COLUMN bib_last  integer CHECK (bib_last BETWEEN 1 AND 999999),
    ADD CONSTRAINT subqueues_bib_range CHECK ((bib_first IS NULL) = (bib_last IS NULL) AND bib_first <= bib_last);
ALTER TABLE entries ADD COLUMN bib integer CHECK (bib BETWEEN 1 AND 999999);
CREATE UNIQUE INDEX entries_event_bib_key ON entries (event_id, bib) WHERE bib IS NOT NULL;
CREATE INDEX entries_event_created_idx ON entries (event_id, created_at, id);

-- +goose Down
DROP INDEX entries_event_created_idx;
DROP INDEX entries_event_bib_key;
ALTER TABLE entries DROP COLUMN bib;
ALTER TABLE subqueues DROP CONSTRAINT subqueues_bib_range, DROP COLUMN bib_last, DROP COLUMN bib_first;
