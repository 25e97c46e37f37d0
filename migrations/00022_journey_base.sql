-- +goose Up
-- The runner's journey (issue 13), the shared part: an entry can be
-- withdrawn (by the runner before close, or by giving a paid slot back),
-- remembers the language its runner used (mails are written in it), and a
-- pace group has its own price in the event's currency (minor units).
ALTER TABLE entries DROP CONSTRAINT entries_status_check;
ALTER TABLE entries ADD CONSTRAINT entries_status_check CHECK (status IN ('received', 'in_review', 'rejected',
    'eligible', 'selected', 'waitlisted', 'offered', 'confirmed', 'declined', 'expired', 'withdrawn'));
ALTER TABLE entries ADD COLUMN lang text NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'ko'));
ALTER TABLE subqueues ADD COLUMN price_minor bigint NOT NULL DEFAULT 0 CHECK (price_minor >= 0 AND price_minor <= 100000000000);

-- +goose Down
ALTER TABLE subqueues DROP COLUMN price_minor;
ALTER TABLE entries DROP COLUMN lang;
ALTER TABLE entries DROP CONSTRAINT entries_status_check;
ALTER TABLE entries ADD CONSTRAINT entries_status_check CHECK (status IN ('received', 'in_review', 'rejected',
    'eligible', 'selected', 'waitlisted', 'offered', 'confirmed', 'declined', 'expired'));
