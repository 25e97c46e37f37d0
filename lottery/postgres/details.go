package postgres

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
)

// civilDate is a nullable SQL date as "YYYY-MM-DD" ("" is NULL): a date
// column read into a time.Time would carry the session's time zone, and a
// race day is a day, not an instant.
type civilDate string

// Scan reads a date column.
func (d *civilDate) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*d = ""
	case time.Time:
		*d = civilDate(x.Format(time.DateOnly))
	case string:
		*d = civilDate(x)
	case []byte:
		*d = civilDate(x)
	default:
		return fmt.Errorf("civil date: cannot scan %T", v)
	}
	return nil
}

// Value writes the date as text (PostgreSQL casts it to the column's date).
func (d civilDate) Value() (driver.Value, error) {
	if d == "" {
		return nil, nil
	}
	return string(d), nil
}

// refundTierJSON is one stored refund tier (events.refund_policy).
type refundTierJSON struct {
	Until   time.Time `json:"until"`
	Date    string    `json:"date,omitempty"`
	Percent int       `json:"percent"`
}

func setDetailsRow(r *eventRow, e lottery.Event) {
	r.Currency = e.Currency
	if r.Currency == "" {
		r.Currency = lottery.DefaultCurrency
	}
	r.RaceDate, r.Place, r.Description, r.DrawOn, r.DrawAt = civilDate(e.RaceDate), e.Place, e.Description, civilDate(e.DrawDate), e.DrawAt
	r.RaceStart = nil
	if e.RaceStart != "" {
		start := e.RaceStart
		r.RaceStart = &start
	}
	tiers := make([]refundTierJSON, len(e.RefundPolicy.Tiers))
	for i, t := range e.RefundPolicy.Tiers {
		tiers[i] = refundTierJSON{Until: t.Until.UTC(), Date: t.Date, Percent: t.Percent}
	}
	r.RefundPolicy, _ = json.Marshal(tiers) // plain values: cannot fail
}

func detailsFromRow(e *lottery.Event, r eventRow) {
	e.Currency, e.RaceDate, e.RaceStart = r.Currency, string(r.RaceDate), deref(r.RaceStart)
	e.Place, e.Description, e.DrawDate = r.Place, r.Description, string(r.DrawOn)
	if r.DrawAt != nil {
		at := r.DrawAt.UTC()
		e.DrawAt = &at
	}
	var tiers []refundTierJSON
	if json.Unmarshal(r.RefundPolicy, &tiers) == nil {
		for _, t := range tiers {
			e.RefundPolicy.Tiers = append(e.RefundPolicy.Tiers, lottery.RefundTier{Until: t.Until.UTC(), Date: t.Date,
				Percent: t.Percent})
		}
	}
}

// EditEvent stores an organizer's edit of an event's details, prices and
// refund policy (lottery.EventPatch, already validated into after) in one
// transaction under the event's row lock, with its event-log and audit
// rows. It re-checks under the lock what the service checked before it:
// the event is still in before's state, and terms change only while
// lottery.Event.TermsOpen (ErrTermsFixed); ErrConflict when the event moved
// on in between, ErrNotFound.
func (s *Store) EditEvent(ctx context.Context, before, after lottery.Event, changed []string, terms bool, now time.Time,
	actor lottery.Actor) (lottery.Event, error) {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		ev, err := lockEvent(tx, before.Slug)
		if err != nil {
			return err
		}
		if ev.Status != string(before.Status) || !ev.OpensAt.Equal(before.OpensAt) {
			return &lottery.Error{Code: lottery.CodeConflict, Message: "the event changed meanwhile; read it and edit again"}
		}
		if cur := fromEventRow(ev, nil, nil); terms && !cur.TermsOpen(now) {
			return lottery.ErrTermsFixed
		}
		var r eventRow
		setDetailsRow(&r, after)
		if err := tx.Exec(`UPDATE events SET currency = ?, race_date = ?, race_start = ?, place = ?, description = ?,
				draw_on = ?, draw_at = ?, refund_policy = ?, updated_at = now() WHERE id = ?`,
			r.Currency, r.RaceDate, r.RaceStart, r.Place, r.Description, r.DrawOn, r.DrawAt, string(r.RefundPolicy), ev.ID).Error; err != nil {
			return fmt.Errorf("update event: %w", err)
		}
		prices := map[string]any{}
		for _, sq := range after.SubQueues() {
			if before.PriceOf(sq.Key).Amount == sq.Price {
				continue
			}
			prices[sq.Key] = sq.Price
			if err := tx.Exec(`UPDATE subqueues SET price_minor = ? WHERE event_id = ? AND key = ?`, sq.Price, ev.ID, sq.Key).Error; err != nil {
				return fmt.Errorf("update price: %w", err)
			}
		}
		details := map[string]any{"changed": changed}
		if len(prices) > 0 {
			details["prices"] = prices
		}
		if terms {
			details["currency"] = after.Currency
		}
		if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "event.edited", FromStatus: ev.Status, ToStatus: ev.Status,
			Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "event.edit", before.Slug, details)
	})
	if err != nil {
		return lottery.Event{}, fmt.Errorf("edit event %s: %w", before.Slug, err)
	}
	return s.EventBySlug(ctx, before.Slug)
}
