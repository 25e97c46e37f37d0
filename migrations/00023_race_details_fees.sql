-- +goose Up
-- Race details, fees and refunds (issue 13). An event tells runners its
-- race day and start time (local to its time zone), place, description and
-- when the draw is expected (a day or a time), and states a refund policy:
-- tiers [{"until": RFC 3339 instant, "date": "YYYY-MM-DD" or "", "percent"}]
-- in time order; none means no refunds.
ALTER TABLE events
    ADD COLUMN race_date     date,
    ADD COLUMN race_start    text CHECK (race_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    ADD COLUMN place         text  NOT NULL DEFAULT '' CHECK (char_length(place) <= 200),
    ADD COLUMN description   text  NOT NULL DEFAULT '' CHECK (char_length(description) <= 4000),
    ADD COLUMN draw_on       date,
    ADD COLUMN draw_at       timestamptz,
    ADD COLUMN refund_policy jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(refund_policy) = 'array'),
    ADD CONSTRAINT events_race_start_day CHECK (race_start IS NULL OR race_date IS NOT NULL),
    ADD CONSTRAINT events_draw_one CHECK (draw_on IS NULL OR draw_at IS NULL);

-- What is charged is the pace group's price (subqueues.price_minor, 00022)
-- in the event's currency. The event-wide price of 00006 is carried over to
-- every pace group that has none and dropped, so nothing can charge it.
UPDATE subqueues q SET price_minor = e.price_minor FROM events e
    WHERE q.event_id = e.id AND q.price_minor = 0 AND e.price_minor > 0;
ALTER TABLE events DROP COLUMN price_minor;

-- A refund of a payment, possibly partial (a give-back refunds what the
-- policy gives at that moment): refund_due_minor is owed from the moment
-- the give-back commits (refund_percent: the policy's tier), refunded_minor
-- once the provider confirms it. A
-- payment with due > refunded still owes its runner money.
ALTER TABLE payments
    ADD COLUMN refund_due_minor bigint NOT NULL DEFAULT 0 CHECK (refund_due_minor >= 0),
    ADD COLUMN refunded_minor   bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    ADD COLUMN refund_percent   smallint NOT NULL DEFAULT 0 CHECK (refund_percent BETWEEN 0 AND 100),
    ADD CONSTRAINT payments_refund_bounds CHECK (refunded_minor <= amount_minor AND refund_due_minor <= amount_minor);
CREATE INDEX payments_refund_owed_idx ON payments (offer_id) WHERE refund_due_minor > refunded_minor;

-- +goose Down
DROP INDEX payments_refund_owed_idx;
ALTER TABLE payments DROP CONSTRAINT payments_refund_bounds, DROP COLUMN refund_percent,
    DROP COLUMN refunded_minor, DROP COLUMN refund_due_minor;
ALTER TABLE events ADD COLUMN price_minor bigint NOT NULL DEFAULT 0 CHECK (price_minor >= 0);
ALTER TABLE events DROP CONSTRAINT events_draw_one, DROP CONSTRAINT events_race_start_day,
    DROP COLUMN refund_policy, DROP COLUMN draw_at, DROP COLUMN draw_on, DROP COLUMN description,
    DROP COLUMN place, DROP COLUMN race_start, DROP COLUMN race_date;
