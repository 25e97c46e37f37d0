package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

// Deferrals (issue 15, migrations/00034_deferrals.sql): an event's terms in
// event_deferral_settings, each runner's deferral in deferrals. A deferral
// is held for the series until a later edition of it is published (attached
// while published, or published while attached); useDeferrals then gives
// each held runner a confirmed entry there, and those slots are reserved:
// reservedSlots feeds lottery.DrawCapacity at freeze (the draw's recorded
// capacity, the artifact's), in the live odds and in the released-slot
// cascade.

type deferralSettingsRow struct {
	EventID   int64 `gorm:"primaryKey"`
	Deadline  time.Time
	FeeMinor  int64
	Cap       int
	UpdatedAt time.Time
}

func (deferralSettingsRow) TableName() string { return "event_deferral_settings" }

// DeferralSettings returns an event's deferral terms; the zero value when
// it offers none.
func (s *Store) DeferralSettings(ctx context.Context, eventID int64) (lottery.DeferralSettings, error) {
	return deferralSettings(s.db.WithContext(ctx), eventID, false)
}

func deferralSettings(tx *gorm.DB, eventID int64, lock bool) (lottery.DeferralSettings, error) {
	q := `SELECT event_id, deadline, fee_minor, cap FROM event_deferral_settings WHERE event_id = ?`
	if lock {
		q += " FOR UPDATE" // serializes the cap's count per event
	}
	var rows []deferralSettingsRow
	if err := tx.Raw(q, eventID).Scan(&rows).Error; err != nil {
		return lottery.DeferralSettings{}, fmt.Errorf("deferral settings: %w", err)
	}
	if len(rows) == 0 {
		return lottery.DeferralSettings{}, nil
	}
	return lottery.DeferralSettings{Deadline: rows[0].Deadline.UTC(), FeeMinor: rows[0].FeeMinor, Cap: rows[0].Cap}, nil
}

// SetDeferralSettings stores an event's deferral terms (checked by
// lottery.CheckDeferralSettings) with the organizer's audit row.
func (s *Store) SetDeferralSettings(ctx context.Context, eventID int64, slug string, d lottery.DeferralSettings, actor lottery.Actor) error {
	return s.Transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO event_deferral_settings (event_id, deadline, fee_minor, cap) VALUES (?, ?, ?, ?)
			ON CONFLICT (event_id) DO UPDATE SET deadline = EXCLUDED.deadline, fee_minor = EXCLUDED.fee_minor,
				cap = EXCLUDED.cap, updated_at = now()`, eventID, d.Deadline.UTC(), d.FeeMinor, d.Cap).Error; err != nil {
			return fmt.Errorf("set deferral settings: %w", err)
		}
		return audit(tx, actor.StaffID, "event.deferral_settings", slug, map[string]any{
			"deadline": d.Deadline.UTC(), "fee_minor": d.FeeMinor, "cap": d.Cap})
	})
}

// deferralEntry is what the deferral rule reads of an entry.
type deferralEntry struct {
	ID          string
	EventID     int64
	Status      string
	SubqueueKey string
	SeriesID    *int64
	Currency    string
	PickedUp    bool
}

func loadDeferralEntry(tx *gorm.DB, entryID string, lock bool) (deferralEntry, error) {
	q := `SELECT e.id::text AS id, e.event_id, e.status, q.key AS subqueue_key, ev.series_id, ev.currency,
			e.picked_up_at IS NOT NULL AS picked_up
		FROM entries e JOIN subqueues q ON q.id = e.subqueue_id JOIN events ev ON ev.id = e.event_id WHERE e.id = ?`
	if lock {
		q += " FOR UPDATE OF e"
	}
	var rows []deferralEntry
	if err := tx.Raw(q, entryID).Scan(&rows).Error; err != nil {
		return deferralEntry{}, fmt.Errorf("load entry: %w", err)
	}
	if len(rows) == 0 {
		return deferralEntry{}, lottery.ErrNotFound
	}
	return rows[0], nil
}

// deferralCase gathers what lottery.CheckDeferral decides on.
func deferralCase(tx *gorm.DB, e deferralEntry, now time.Time, lock bool) (lottery.DeferralCase, error) {
	c := lottery.DeferralCase{Status: lottery.EntryStatus(e.Status), InSeries: e.SeriesID != nil, Now: now, PickedUp: e.PickedUp}
	var err error
	if c.Settings, err = deferralSettings(tx, e.EventID, lock); err != nil {
		return c, err
	}
	// Transfers open under the entry's lock (lockGiverOffer), which Defer holds.
	if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM transfers WHERE from_entry = ? AND state IN ('pending', 'verified')
		AND expires_at > ?)`, e.ID, now).Row().Scan(&c.TransferOpen); err != nil {
		return c, fmt.Errorf("open transfers: %w", err)
	}
	if err := tx.Raw(`SELECT count(*) FROM deferrals WHERE from_event_id = ? AND subqueue_key = ? AND state <> 'cancelled'`,
		e.EventID, e.SubqueueKey).Row().Scan(&c.Deferred); err != nil {
		return c, fmt.Errorf("count deferrals: %w", err)
	}
	return c, nil
}

// DeferralCheck answers whether an entry may defer now (lottery.CheckDeferral's
// error, nil when it may) and the event's terms; ErrNotFound.
func (s *Store) DeferralCheck(ctx context.Context, entryID string, now time.Time) (lottery.DeferralSettings, error) {
	db := s.db.WithContext(ctx)
	e, err := loadDeferralEntry(db, entryID, false)
	if err != nil {
		return lottery.DeferralSettings{}, err
	}
	c, err := deferralCase(db, e, now, false)
	if err != nil {
		return lottery.DeferralSettings{}, err
	}
	return c.Settings, lottery.CheckDeferral(c)
}

// Defer defers a confirmed entry to its series' next edition in one
// transaction: the entry row and the event's terms are locked, the rule
// checked (lottery.CheckDeferral), the deferral stored as held, the entry
// set to deferred, the event log and the runner's mail written; when the
// next edition is already published the deferral is used at once
// (useDeferrals). The entry's paid offer stays as it is: the slot of this
// edition is not offered again. A deferral made before is answered as it
// stands (a double submit).
func (s *Store) Defer(ctx context.Context, entryID string, now time.Time) (lottery.Deferral, error) {
	var out lottery.Deferral
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		e, err := loadDeferralEntry(tx, entryID, true)
		if err != nil {
			return err
		}
		if e.Status == string(lottery.EntryDeferred) {
			return nil
		}
		if pending, err := pendingDeferral(tx, e.ID); err != nil || pending {
			return err // awaiting its fee: a double submit
		}
		c, err := deferralCase(tx, e, now, true)
		if err != nil {
			return err
		}
		if err := lottery.CheckDeferral(c); err != nil {
			return err
		}
		// A fee makes it pending until paid (deferralfee.go); a cancelled
		// one (unpaid before) is started again in its row, keeping the last
		// checkout's payment named until a new checkout replaces it (a
		// late payment of it then pays this attempt's fee).
		state, payBy := lottery.DeferralStart(c.Settings.FeeMinor, now, c.Settings.Deadline)
		var payByArg any
		if !payBy.IsZero() {
			payByArg = payBy
		}
		if err := tx.Exec(`INSERT INTO deferrals (entry_id, from_event_id, series_id, subqueue_key, fee_minor, currency, created_at, state, pay_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (entry_id) DO UPDATE SET state = EXCLUDED.state, fee_minor = EXCLUDED.fee_minor, currency = EXCLUDED.currency,
				created_at = EXCLUDED.created_at, pay_by = EXCLUDED.pay_by
			WHERE deferrals.state = 'cancelled'`, e.ID, e.EventID, *e.SeriesID, e.SubqueueKey, c.Settings.FeeMinor, e.Currency, now,
			string(state), payByArg).Error; err != nil {
			return fmt.Errorf("store deferral: %w", err)
		}
		if state == lottery.DeferralPending {
			return appendLog(tx, e.EventID, lottery.LogRecord{Kind: "deferral.pending", EntryID: e.ID, FromStatus: e.Status,
				ToStatus: e.Status, Actor: "runner", Details: map[string]any{"subqueue": e.SubqueueKey,
					"fee_minor": c.Settings.FeeMinor, "pay_by": payBy}})
		}
		if err := tx.Exec(`UPDATE entries SET status = 'deferred', updated_at = now() WHERE id = ?`, e.ID).Error; err != nil {
			return fmt.Errorf("defer entry: %w", err)
		}
		if err := appendLog(tx, e.EventID, lottery.LogRecord{Kind: "entry.deferred", EntryID: e.ID,
			FromStatus: e.Status, ToStatus: string(lottery.EntryDeferred), Actor: "runner",
			Details: map[string]any{"subqueue": e.SubqueueKey, "fee_minor": c.Settings.FeeMinor}}); err != nil {
			return err
		}
		if _, err := queueEntryIntentIDs(ctx, tx, mails.EntryDeferred, []string{e.ID}, "",
			fmt.Sprint(c.Settings.FeeMinor)); err != nil {
			return err
		}
		next, err := nextEditions(tx, *e.SeriesID, e.EventID)
		if err != nil {
			return err
		}
		for _, id := range next {
			if _, err := useDeferrals(tx, id, "runner"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return lottery.Deferral{}, fmt.Errorf("defer %s: %w", entryID, err)
	}
	out, err = s.Deferral(ctx, entryID)
	if err != nil {
		return lottery.Deferral{}, fmt.Errorf("defer %s: %w", entryID, err)
	}
	return out, nil
}

// Deferral returns an entry's deferral; ErrNotFound when it made none.
func (s *Store) Deferral(ctx context.Context, entryID string) (lottery.Deferral, error) {
	var rows []struct {
		EntryID, FromEvent, Series, SubqueueKey, State, Currency string
		FeeMinor                                                 int64
		CreatedAt                                                time.Time
		PayBy                                                    *time.Time
		ToEvent, ToSubqueue, ToEntryID                           *string
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT d.entry_id::text AS entry_id, f.slug AS from_event, s.slug AS series,
			d.subqueue_key, d.state, d.currency, d.fee_minor, d.created_at, d.pay_by, t.slug AS to_event, tq.key AS to_subqueue,
			d.to_entry_id::text AS to_entry_id
		FROM deferrals d JOIN events f ON f.id = d.from_event_id JOIN series s ON s.id = d.series_id
		LEFT JOIN events t ON t.id = d.to_event_id LEFT JOIN subqueues tq ON tq.id = d.to_subqueue_id
		WHERE d.entry_id = ?`, entryID).Scan(&rows).Error; err != nil {
		return lottery.Deferral{}, fmt.Errorf("load deferral: %w", err)
	}
	if len(rows) == 0 {
		return lottery.Deferral{}, lottery.ErrNotFound
	}
	r := rows[0]
	d := lottery.Deferral{EntryID: r.EntryID, FromEvent: r.FromEvent, Series: r.Series, SubQueue: r.SubqueueKey,
		State: lottery.DeferralState(r.State), Fee: lottery.Money{Amount: r.FeeMinor, Currency: r.Currency}, CreatedAt: r.CreatedAt}
	if r.PayBy != nil {
		d.PayBy = *r.PayBy
	}
	for dst, src := range map[*string]*string{&d.ToEvent: r.ToEvent, &d.ToSubQueue: r.ToSubqueue, &d.ToEntryID: r.ToEntryID} {
		if src != nil {
			*dst = *src
		}
	}
	return d, nil
}

// usableEdition is the SQL test that an edition may take deferred runners:
// published or closed, so not a draft (whose sub-queues may still be
// replaced) and not yet frozen (its draw's entries and capacity are fixed).
const usableEdition = `status IN ('published', 'open', 'closed')`

// nextEditions lists the published, unfrozen editions of a series after
// the given one (by edition year when both have one, else by opening time).
func nextEditions(tx *gorm.DB, seriesID, fromEventID int64) ([]int64, error) {
	var ids []int64
	err := tx.Raw(`SELECT t.id FROM events t JOIN events f ON f.id = ?
		WHERE t.series_id = ? AND t.id <> f.id AND t.`+usableEdition+` AND `+laterEdition+` ORDER BY t.id`,
		fromEventID, seriesID).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("next editions: %w", err)
	}
	return ids, nil
}

// laterEdition compares edition t with edition f (SQL aliases).
const laterEdition = `(CASE WHEN t.edition_year IS NOT NULL AND f.edition_year IS NOT NULL
	THEN t.edition_year > f.edition_year ELSE t.opens_at > f.opens_at END)`

// useDeferrals turns the deferrals held for an edition's series from
// earlier editions into confirmed entries of this one, when it may take
// them (usableEdition): each lands in the sub-queue lottery.DeferralTarget
// picks (same course:pace, else the course's first pace group; a course the
// edition lacks keeps the deferral held). A runner who applied to the
// edition already has that entry confirmed and moved instead (one entry
// per person). Each new entry gets an 'entry.deferred_in' log record. It
// returns how many deferrals it used.
func useDeferrals(tx *gorm.DB, eventID int64, actor string) (int, error) {
	var ev struct {
		ID       int64
		SeriesID *int64
		Status   string
	}
	if err := tx.Raw(`SELECT id, series_id, status FROM events WHERE id = ? AND `+usableEdition, eventID).Scan(&ev).Error; err != nil {
		return 0, fmt.Errorf("load edition: %w", err)
	}
	if ev.ID == 0 || ev.SeriesID == nil {
		return 0, nil
	}
	var held []struct {
		ID          int64
		EntryID     string
		SubqueueKey string
		FromSlug    string
	}
	if err := tx.Raw(`SELECT d.id, d.entry_id::text AS entry_id, d.subqueue_key, f.slug AS from_slug
		FROM deferrals d JOIN events f ON f.id = d.from_event_id JOIN events t ON t.id = ?
		WHERE d.series_id = ? AND d.state = 'held' AND f.id <> t.id AND `+laterEdition+`
		ORDER BY d.id FOR UPDATE OF d`, eventID, *ev.SeriesID).Scan(&held).Error; err != nil {
		return 0, fmt.Errorf("held deferrals: %w", err)
	}
	if len(held) == 0 {
		return 0, nil
	}
	// The sub-queues are locked: a deferral used now and one used by a
	// concurrent publish count against the same places.
	var subs []struct {
		ID       int64
		Key      string
		Capacity int
		Held     int // deferred-in places already taken
	}
	if err := tx.Raw(`SELECT q.id, q.key, q.capacity,
		(SELECT count(*) FROM deferrals d WHERE d.to_subqueue_id = q.id AND d.state = 'used') AS held
		FROM subqueues q WHERE q.event_id = ? ORDER BY q.position FOR UPDATE OF q`, eventID).Scan(&subs).Error; err != nil {
		return 0, fmt.Errorf("edition sub-queues: %w", err)
	}
	keys := make([]string, len(subs))
	ids := make(map[string]int64, len(subs))
	room := make(map[string]int, len(subs))
	for i, q := range subs {
		keys[i], ids[q.Key], room[q.Key] = q.Key, q.ID, q.Capacity-q.Held
	}
	used := 0
	for _, d := range held {
		key, ok := lottery.DeferralTarget(d.SubqueueKey, keys)
		if !ok || room[key] <= 0 {
			continue // no such course, or its places are all held: the deferral stays held
		}
		room[key]--
		newID, existing, err := deferredEntry(tx, d.EntryID, eventID, ids[key])
		if err != nil {
			return used, err
		}
		if err := tx.Exec(`UPDATE deferrals SET state = 'used', to_event_id = ?, to_subqueue_id = ?, to_entry_id = ?, used_at = now()
			WHERE id = ?`, eventID, ids[key], newID, d.ID).Error; err != nil {
			return used, fmt.Errorf("use deferral: %w", err)
		}
		if err := appendLog(tx, eventID, lottery.LogRecord{Kind: "entry.deferred_in", EntryID: newID,
			ToStatus: string(lottery.EntryConfirmed), Actor: actor, Details: map[string]any{"from_event": d.FromSlug,
				"from_entry_id": d.EntryID, "subqueue": key, "existing_entry": existing}}); err != nil {
			return used, err
		}
		used++
	}
	return used, nil
}

// deferredEntry makes the deferred runner's confirmed entry in the next
// edition: a copy of the identity of the entry deferred from, or the
// runner's own entry there (same e-mail, phone or person key) moved and
// confirmed.
func deferredEntry(tx *gorm.DB, fromEntryID string, eventID, subqueueID int64) (string, bool, error) {
	var have []string
	if err := tx.Raw(`SELECT n.id::text FROM entries n JOIN entries o ON o.id = ?
		WHERE n.event_id = ? AND (n.email_key = o.email_key OR n.phone = o.phone OR (o.person_key <> '' AND n.person_key = o.person_key))
		ORDER BY (n.email_key = o.email_key) DESC, n.created_at LIMIT 1 FOR UPDATE OF n`, fromEntryID, eventID).
		Scan(&have).Error; err != nil {
		return "", false, fmt.Errorf("find runner's entry: %w", err)
	}
	if len(have) == 1 {
		if err := tx.Exec(`UPDATE entries SET status = 'confirmed', subqueue_id = ?, updated_at = now() WHERE id = ?`,
			subqueueID, have[0]).Error; err != nil {
			return "", false, fmt.Errorf("confirm runner's entry: %w", err)
		}
		return have[0], true, nil
	}
	id := uuid.NewString()
	if err := tx.Exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status, lang, person_key)
		SELECT ?, ?, ?, name, email, email_key, phone, birth_date, 'confirmed', lang, person_key FROM entries WHERE id = ?`,
		id, eventID, subqueueID, fromEntryID).Error; err != nil {
		return "", false, fmt.Errorf("create deferred entry: %w", err)
	}
	return id, false, nil
}

// reservedSlots counts, per sub-queue of an event, the slots deferred
// runners hold there: lottery.DrawCapacity's deferred.
func reservedSlots(tx *gorm.DB, eventID int64) (map[int64]int, error) {
	var rows []struct {
		ToSubqueueID int64
		N            int
	}
	if err := tx.Raw(`SELECT to_subqueue_id, count(*) AS n FROM deferrals WHERE to_event_id = ? AND state = 'used'
		GROUP BY to_subqueue_id`, eventID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("reserved slots: %w", err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.ToSubqueueID] = r.N
	}
	return out, nil
}

// reservedIn is reservedSlots for one sub-queue.
func reservedIn(tx *gorm.DB, subqueueID int64) (int, error) {
	var n int
	if err := tx.Raw(`SELECT count(*) FROM deferrals WHERE to_subqueue_id = ? AND state = 'used'`, subqueueID).
		Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("reserved slots: %w", err)
	}
	return n, nil
}
