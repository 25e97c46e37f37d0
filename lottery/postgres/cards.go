package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

// Card on file at apply (issue 15, migrations/00035_cards.sql): an event's
// policy in event_card_settings (a row: the option is on), read with the
// event so the cached event answers whether an application needs a card;
// each entry's saved card in entry_cards, written in the apply
// transaction; the fingerprint rule (lottery.SharedCard) counted there.

type cardSettingsRow struct {
	EventID         int64 `gorm:"primaryKey"`
	EntriesPerCard  int
	ChargePerMinute int
	MaxAttempts     int
}

func (cardSettingsRow) TableName() string { return "event_card_settings" }

// loadCardPolicies sets the card policy of the events that have one (one
// query for the lot, with loadEvents' others).
func loadCardPolicies(tx *gorm.DB, evs []lottery.Event) error {
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	var rows []cardSettingsRow
	if err := tx.Where("event_id IN ?", ids).Find(&rows).Error; err != nil {
		return fmt.Errorf("load card policies: %w", err)
	}
	for _, r := range rows {
		for i := range evs {
			if evs[i].ID == r.EventID {
				evs[i].Card = &lottery.CardPolicy{Enabled: true, EntriesPerCard: r.EntriesPerCard,
					ChargePerMinute: r.ChargePerMinute, MaxAttempts: r.MaxAttempts}
			}
		}
	}
	return nil
}

// SetCardPolicy stores an event's card policy, or removes it when it is
// turned off, while registration has not opened (re-checked under the
// event's row lock, which apply's insert also reads), with the audit row.
func (s *Store) SetCardPolicy(ctx context.Context, eventID int64, p lottery.CardPolicy, now time.Time, actor lottery.Actor) error {
	return s.Transact(ctx, func(tx *gorm.DB) error {
		var evs []eventRow
		if err := tx.Raw(`SELECT * FROM events WHERE id = ? FOR UPDATE`, eventID).Scan(&evs).Error; err != nil {
			return fmt.Errorf("lock event: %w", err)
		}
		if len(evs) == 0 {
			return lottery.ErrNotFound
		}
		ev := lottery.Event{Status: lottery.EventStatus(evs[0].Status), OpensAt: evs[0].OpensAt, ClosesAt: evs[0].ClosesAt}
		if err := ev.CheckCardPolicyChange(now); err != nil {
			return err
		}
		var err error
		if p.Enabled {
			err = tx.Exec(`INSERT INTO event_card_settings (event_id, entries_per_card, charge_per_minute, max_attempts)
				VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO UPDATE SET entries_per_card = EXCLUDED.entries_per_card,
					charge_per_minute = EXCLUDED.charge_per_minute, max_attempts = EXCLUDED.max_attempts, updated_at = now()`,
				eventID, p.EntriesPerCard, p.ChargePerMinute, p.MaxAttempts).Error
		} else {
			err = tx.Exec(`DELETE FROM event_card_settings WHERE event_id = ?`, eventID).Error
		}
		if err != nil {
			return fmt.Errorf("set card policy: %w", err)
		}
		return audit(tx, actor.StaffID, "event.card_policy", evs[0].Slug, map[string]any{"enabled": p.Enabled,
			"entries_per_card": p.EntriesPerCard, "charge_per_minute": p.ChargePerMinute, "max_attempts": p.MaxAttempts})
	})
}

// checkCard runs the card part of an application before its entry is
// inserted: a setup another entry used is ErrCardSetupUsed, and the
// fingerprint rule (lottery.SharedCard) sends the entry to review when
// its card already pays for as many entries of the event as allowed, with
// the earlier ones still undecided (flagSharedCard). The
// count runs under a transaction advisory lock on (event, fingerprint), so
// two applications with one card cannot both count the other out; the
// lock is held to commit, after entry_cards has the new row.
func checkCard(tx *gorm.DB, e *lottery.Entry, card *lottery.SavedCard, allowed int) error {
	var used []string
	if err := tx.Raw(`SELECT entry_id::text FROM entry_cards WHERE provider = ? AND setup_id = ?`,
		card.Provider, card.SetupID).Scan(&used).Error; err != nil {
		return fmt.Errorf("check card setup: %w", err)
	}
	if len(used) > 0 {
		return lottery.ErrCardSetupUsed
	}
	if card.Fingerprint == "" {
		return nil
	}
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended('entry_cards:' || ?::bigint || ':' || ?, 0))`,
		e.EventID, card.Fingerprint).Error; err != nil {
		return fmt.Errorf("lock card: %w", err)
	}
	var n int
	if err := tx.Raw(`SELECT count(*) FROM entry_cards WHERE event_id = ? AND fingerprint = ?`, e.EventID, card.Fingerprint).
		Row().Scan(&n); err != nil {
		return fmt.Errorf("count card: %w", err)
	}
	if !lottery.SharedCard(n+1, allowed) {
		return nil
	}
	detail := fmt.Sprintf("the card was saved for %d entries of this event; %d allowed per card", n+1, allowed)
	if e.Status != lottery.EntryRejected {
		e.Risk.Reasons = append(slices.Clone(e.Risk.Reasons), antibot.Reason{Code: lottery.ReasonSharedCard, Detail: detail})
		e.Risk.Decision, e.Status = antibot.Review, lottery.EntryInReview
	}
	return flagSharedCard(tx, e.EventID, card.Fingerprint, detail)
}

// flagSharedCard sends the event's earlier entries with the card to
// review too, when they are still received (not yet decided by a
// reviewer, not in an ordered group's line): which of the entries paying
// with one card came first says nothing of which is genuine, so the
// reviewer decides them together, linked by the card. Each is logged and
// its runner told it is not a decision yet, as the cluster sweep does.
func flagSharedCard(tx *gorm.DB, eventID int64, fingerprint, detail string) error {
	reason, _ := json.Marshal([]antibot.Reason{{Code: lottery.ReasonSharedCard, Detail: detail}})
	var ids []string
	if err := tx.Raw(`WITH old AS (SELECT e.id FROM entries e JOIN entry_cards c ON c.entry_id = e.id
			WHERE c.event_id = ? AND c.fingerprint = ? AND e.status = 'received' ORDER BY e.id FOR UPDATE OF e)
		UPDATE entries e SET status = 'in_review', risk_decision = 'review', updated_at = now(),
			risk_reasons = jsonb_set(risk_reasons, '{reasons}', coalesce(risk_reasons->'reasons', '[]') || ?::jsonb)
		FROM old WHERE e.id = old.id RETURNING e.id::text`, eventID, fingerprint, string(reason)).Scan(&ids).Error; err != nil {
		return fmt.Errorf("flag shared card: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if err := queueEntryIntents(tx.Statement.Context, tx, mails.EntryInReview, ids, ""); err != nil {
		return err
	}
	for _, id := range ids {
		if err := appendLog(tx, eventID, lottery.LogRecord{Kind: "entry.flagged", EntryID: id, FromStatus: string(lottery.EntryReceived),
			ToStatus: string(lottery.EntryInReview), Actor: "system:card", Details: map[string]any{"reason": lottery.ReasonSharedCard}}); err != nil {
			return err
		}
	}
	return nil
}

// insertCard stores the entry's saved card once the entry row exists. A
// concurrent application with the same setup that committed first makes
// this one ErrCardSetupUsed (the whole application rolls back).
func insertCard(tx *gorm.DB, e lottery.Entry, card *lottery.SavedCard) error {
	res := tx.Exec(`INSERT INTO entry_cards (entry_id, event_id, provider, setup_id, payment_method, customer, fingerprint, brand, last4)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider, setup_id) DO NOTHING`,
		e.ID, e.EventID, card.Provider, card.SetupID, card.PaymentMethod, card.Customer, card.Fingerprint, card.Brand, card.Last4)
	if res.Error != nil {
		return fmt.Errorf("insert entry card: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return lottery.ErrCardSetupUsed
	}
	return nil
}

// EntryCard returns an entry's saved card and how many entries of its
// event were saved with the same card (itself included; 0 once erased);
// ErrNotFound when the entry saved none.
func (s *Store) EntryCard(ctx context.Context, entryID string) (lottery.SavedCard, int, error) {
	var rows []struct {
		Provider, SetupID, PaymentMethod, Customer, Fingerprint, Brand, Last4 string
		Shared                                                                int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT c.provider, c.setup_id, c.payment_method, c.customer, c.fingerprint, c.brand, c.last4,
			CASE WHEN c.fingerprint = '' THEN 0 ELSE (SELECT count(*) FROM entry_cards o
				WHERE o.event_id = c.event_id AND o.fingerprint = c.fingerprint) END AS shared
		FROM entry_cards c WHERE c.entry_id = ?`, entryID).Scan(&rows).Error; err != nil {
		return lottery.SavedCard{}, 0, fmt.Errorf("entry card: %w", err)
	}
	if len(rows) == 0 {
		return lottery.SavedCard{}, 0, lottery.ErrNotFound
	}
	r := rows[0]
	return lottery.SavedCard{Provider: r.Provider, SetupID: r.SetupID, PaymentMethod: r.PaymentMethod, Customer: r.Customer,
		Fingerprint: r.Fingerprint, Brand: r.Brand, Last4: r.Last4}, r.Shared, nil
}
