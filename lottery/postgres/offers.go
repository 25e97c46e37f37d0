package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/mails"
)

type offerRow struct {
	ID          string `gorm:"primaryKey"`
	EventID     int64
	SubqueueID  int64
	EntryID     string
	UnitID      string
	Status      string
	Round       int
	IssuedAt    time.Time
	ExpiresAt   time.Time
	DecidedAt   *time.Time
	SubqueueKey string `gorm:"->;column:subqueue_key"`
	EventSlug   string `gorm:"->;column:event_slug"`
}

func (offerRow) TableName() string { return "offers" }

func fromOfferRow(r offerRow) lottery.Offer {
	return lottery.Offer{ID: r.ID, EventID: r.EventID, SubQueueID: r.SubqueueID, SubQueue: r.SubqueueKey, EntryID: r.EntryID,
		UnitID: r.UnitID, Status: lottery.OfferStatus(r.Status), Round: r.Round, IssuedAt: r.IssuedAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(), DecidedAt: r.DecidedAt}.WithEventSlug(r.EventSlug)
}

func offerQuery(tx *gorm.DB) *gorm.DB {
	return tx.Table("offers o").Select("o.*, q.key AS subqueue_key, ev.slug AS event_slug").
		Joins("JOIN subqueues q ON q.id = o.subqueue_id").Joins("JOIN events ev ON ev.id = o.event_id")
}

// Offer returns one offer.
func (s *Store) Offer(ctx context.Context, id string) (lottery.Offer, error) {
	var r offerRow
	if err := offerQuery(s.db.WithContext(ctx)).Where("o.id = ?", id).Take(&r).Error; err != nil {
		return lottery.Offer{}, notFound(err)
	}
	return fromOfferRow(r), nil
}

// EntryOffer returns an entry's offer.
func (s *Store) EntryOffer(ctx context.Context, entryID string) (lottery.Offer, error) {
	var r offerRow
	if err := offerQuery(s.db.WithContext(ctx)).Where("o.entry_id = ?", entryID).Take(&r).Error; err != nil {
		return lottery.Offer{}, notFound(err)
	}
	return fromOfferRow(r), nil
}

// DueOffers lists live, unpaid offers whose hold ended.
func (s *Store) DueOffers(ctx context.Context, now time.Time, limit int) ([]string, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Raw(`SELECT id::text FROM offers WHERE status IN ('pending', 'accepted') AND expires_at <= ?
		ORDER BY expires_at LIMIT ?`, now, limit).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("due offers: %w", err)
	}
	return ids, nil
}

// OfferStats counts offers per sub-queue.
func (s *Store) OfferStats(ctx context.Context, eventID int64) ([]lottery.OfferStats, error) {
	var rows []struct {
		Key                                               string
		Capacity                                          int
		Pending, Accepted, Paid, Declined, Expired, Voids int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT q.key, q.capacity,
			count(o.id) FILTER (WHERE o.status = 'pending') AS pending, count(o.id) FILTER (WHERE o.status = 'accepted') AS accepted,
			count(o.id) FILTER (WHERE o.status = 'paid') AS paid, count(o.id) FILTER (WHERE o.status = 'declined') AS declined,
			count(o.id) FILTER (WHERE o.status = 'expired') AS expired, count(o.id) FILTER (WHERE o.status = 'void') AS voids
		FROM subqueues q LEFT JOIN offers o ON o.subqueue_id = q.id WHERE q.event_id = ? GROUP BY q.id ORDER BY q.position`,
		eventID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("offer stats: %w", err)
	}
	out := make([]lottery.OfferStats, len(rows))
	for i, r := range rows {
		out[i] = lottery.OfferStats{SubQueue: r.Key, Capacity: r.Capacity, Pending: r.Pending, Accepted: r.Accepted,
			Paid: r.Paid, Declined: r.Declined, Expired: r.Expired, Void: r.Voids}
	}
	return out, nil
}

// unit is a group or solo entry to offer together.
type unit struct {
	id       string
	members  []string
	position int
}

// issueOffers offers a slot to every member of the units: offers by COPY,
// entry statuses, one log record per entry and one mail per entry.
func issueOffers(ctx context.Context, tx *gorm.DB, copyRows copyFunc, eventID, subqueueID int64, key string, units []unit,
	round int, o lottery.OfferTx, why string) ([]lottery.Offer, []int64, error) {
	// A drawn entry's stored status stays received; the log names the
	// status it had in effect: selected by the draw, or waitlisted. An
	// ordered sub-queue's received entry is one a reviewer approved.
	drawn := map[bool]string{true: "selected", false: "waitlisted"}[round == 0]
	if why == whyOrdered {
		drawn = string(lottery.EntryReceived)
	}
	var members []string
	for _, u := range units {
		members = append(members, u.members...)
	}
	if len(members) == 0 {
		return nil, nil, nil
	}
	hold := o.HoldOf(eventID)
	expires := o.Now.Add(hold)
	var offers []lottery.Offer
	var copyOffers [][]any
	var ids []string
	for _, u := range units {
		for _, m := range u.members {
			off := lottery.Offer{ID: uuid.NewString(), EventID: eventID, SubQueueID: subqueueID, SubQueue: key, EntryID: m, UnitID: u.id,
				Status: lottery.OfferPending, Round: round, IssuedAt: o.Now, ExpiresAt: expires}
			offers = append(offers, off)
			copyOffers = append(copyOffers, []any{off.ID, eventID, subqueueID, m, u.id, "pending", int32(round), o.Now, expires})
			ids = append(ids, off.ID)
		}
	}
	if err := copyRows("offers", []string{"id", "event_id", "subqueue_id", "entry_id", "unit_id", "status", "round",
		"issued_at", "expires_at"}, copyOffers); err != nil {
		return nil, nil, err
	}
	if _, err := tx.Statement.ConnPool.ExecContext(ctx, `WITH moved AS (
			SELECT o.entry_id, o.id, e.status AS old FROM offers o JOIN entries e ON e.id = o.entry_id WHERE o.id = ANY($1::uuid[])),
		upd AS (UPDATE entries e SET status = 'offered', updated_at = now() FROM moved WHERE e.id = moved.entry_id)
		INSERT INTO event_log (event_id, entry_id, kind, from_status, to_status, actor, details)
		SELECT $2, entry_id, 'offer.issued', CASE WHEN old = 'received' THEN $3 ELSE old END, 'offered', 'system:offers',
			jsonb_build_object('offer_id', id, 'round', $4::int, 'reason', $5::text) FROM moved`,
		ids, eventID, drawn, round, why); err != nil {
		return nil, nil, fmt.Errorf("mark offered: %w", err)
	}
	// Card on file: before the mail, which says the card will be charged.
	if err := queueCardCharges(ctx, tx, ids); err != nil {
		return nil, nil, err
	}
	outbox, err := queueOfferIntents(ctx, tx, ids)
	return offers, outbox, err
}

// cascade offers the sub-queue's free slots (lottery.FreeSlots) to
// waitlisted units never offered before, by lottery.ReleasedSlots (drawn
// sub-queues) or lottery.OrderedOffers (ordered ones). The sub-queue row lock
// serialises every change of its offers, so a freed slot is offered once.
// It is NO KEY UPDATE: an ordered application holds the row's KEY SHARE
// lock from its entry's foreign key, and FOR UPDATE would deadlock two.
func cascade(ctx context.Context, tx *gorm.DB, copyRows copyFunc, eventID, subqueueID int64, o lottery.OfferTx) ([]lottery.Offer, []int64, error) {
	var sq subqueueRow
	if err := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Where("id = ?", subqueueID).Take(&sq).Error; err != nil {
		return nil, nil, fmt.Errorf("lock sub-queue: %w", err)
	}
	// A settled event's waitlist is closed (SettleEvent changes the status
	// under this same lock): a released slot stays free.
	var status string
	if err := tx.Raw(`SELECT status FROM events WHERE id = ?`, eventID).Row().Scan(&status); err != nil {
		return nil, nil, fmt.Errorf("event of sub-queue: %w", err)
	}
	if status == string(lottery.EventSettled) {
		return nil, nil, nil
	}
	live, err := liveOffers(tx, subqueueID)
	if err != nil {
		return nil, nil, err
	}
	reserved, err := reservedIn(tx, subqueueID)
	if err != nil {
		return nil, nil, err
	}
	// Deferred runners' slots are not given out again.
	free := lottery.FreeSlots(lottery.DrawCapacity(sq.Capacity, reserved), live)
	if sq.Mode == string(lottery.ModeOrdered) {
		return cascadeOrdered(ctx, tx, copyRows, eventID, sq, free, o)
	}
	var chosen []unit
	last := 0
	const page = 2000
	for free > 0 {
		// lottery.ReleasedSlots, a page at a time: the query leaves out
		// selected and already offered entries and walks the waitlist by
		// position (index order); members of a unit share its position, so
		// rows group into units as they come, and fairdraw.Release goes on
		// with the slots the earlier pages left.
		var rows []struct {
			UnitID   string
			EntryID  string
			Position int
		}
		if err := tx.Raw(`SELECT unit_id, entry_id::text AS entry_id, position FROM draw_results dr
			WHERE subqueue_id = ? AND NOT selected AND position > ?
				AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = dr.entry_id)
				AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.id = dr.entry_id AND x.anonymized_at IS NOT NULL) -- erased: no one to offer to
			ORDER BY position, entry_id LIMIT ?`, subqueueID, last, page).Scan(&rows).Error; err != nil {
			return nil, nil, fmt.Errorf("load waitlist: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		if len(rows) == page { // the last unit may continue on the next page
			cut := rows[len(rows)-1].Position
			for len(rows) > 0 && rows[len(rows)-1].Position == cut {
				rows = rows[:len(rows)-1]
			}
			if len(rows) == 0 {
				return nil, nil, fmt.Errorf("a waitlist unit larger than %d entries", page)
			}
		}
		var items []fairdraw.OrderItem
		for _, r := range rows {
			if n := len(items); n > 0 && items[n-1].Position == r.Position {
				items[n-1].EntryIDs = append(items[n-1].EntryIDs, r.EntryID)
				continue
			}
			items = append(items, fairdraw.OrderItem{Position: r.Position, UnitID: r.UnitID, EntryIDs: []string{r.EntryID}})
		}
		last = items[len(items)-1].Position
		offered, remaining := fairdraw.Release(items, free)
		for _, it := range offered {
			chosen = append(chosen, unit{id: it.UnitID, members: it.EntryIDs, position: it.Position})
		}
		free = remaining
	}
	if len(chosen) == 0 {
		return nil, nil, nil
	}
	var round int
	if err := tx.Raw(`SELECT coalesce(max(round), 0) + 1 FROM offers WHERE subqueue_id = ?`, subqueueID).Row().Scan(&round); err != nil {
		return nil, nil, err
	}
	return issueOffers(ctx, tx, copyRows, eventID, subqueueID, sq.Key, chosen, round, o, "released slot")
}

// IssueDrawOffers offers every selected entry its slot and publishes results.
func (s *Store) IssueDrawOffers(ctx context.Context, slug string, o lottery.OfferTx, actor lottery.Actor) (lottery.Event, []lottery.OfferIssue, error) {
	var issued []lottery.OfferIssue
	err := s.bulkTx(ctx, func(tx *gorm.DB, copyRows copyFunc) error {
		issued = nil
		ev, err := lockEvent(tx, slug)
		if err != nil {
			return err
		}
		if ev.Status != string(lottery.EventDrawn) || ev.ResultsPublishedAt != nil {
			return lottery.ErrInvalidTransition
		}
		var subs []subqueueRow
		if err := tx.Where("event_id = ?", ev.ID).Order("position").Find(&subs).Error; err != nil {
			return err
		}
		total := 0
		for _, sq := range subs {
			var page []struct {
				UnitID  string
				Members string
				Pos     int
			}
			if err := tx.Raw(`SELECT unit_id, string_agg(entry_id::text, ',' ORDER BY entry_id) AS members, min(position) AS pos
				FROM draw_results WHERE subqueue_id = ? AND selected GROUP BY unit_id ORDER BY pos`, sq.ID).Scan(&page).Error; err != nil {
				return err
			}
			units := make([]unit, len(page))
			for i, p := range page {
				units[i] = unit{id: p.UnitID, members: strings.Split(p.Members, ","), position: p.Pos}
			}
			offers, mails, err := issueOffers(ctx, tx, copyRows, ev.ID, sq.ID, sq.Key, units, 0, o, "selected in the draw")
			if err != nil {
				return err
			}
			issued = append(issued, pair(offers, mails)...)
			total += len(offers)
		}
		// Everyone not selected learns their waitlist place when the
		// selected learn of their offers: one set-based insert (a 1M-entry
		// draw's waitlist is one statement), once, as results publish once.
		res, err := tx.Statement.ConnPool.ExecContext(ctx, `INSERT INTO outbox (to_addr, subject, body, kind, intent, event_id, entry_id)
			SELECT e.email, '', '', 'entry', $1, e.event_id, e.id FROM draw_results dr JOIN entries e ON e.id = dr.entry_id
			WHERE dr.subqueue_id IN (SELECT id FROM subqueues WHERE event_id = $2) AND NOT dr.selected AND e.status = 'received'
			ORDER BY dr.subqueue_id, dr.position`, mails.EntryWaitlisted, ev.ID)
		if err != nil {
			return fmt.Errorf("queue waitlist mail: %w", err)
		}
		waitlisted, _ := res.RowsAffected()
		if err := tx.Exec(`UPDATE events SET results_published_at = ?, updated_at = now() WHERE id = ?`, o.Now, ev.ID).Error; err != nil {
			return err
		}
		details := map[string]any{"offers": total, "hold": o.Hold.String(), "waitlist_mails": waitlisted}
		if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "event.results_published", FromStatus: ev.Status,
			ToStatus: ev.Status, Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "event.publish_results", slug, details)
	})
	if err != nil {
		return lottery.Event{}, nil, err
	}
	ev, err := s.EventBySlug(ctx, slug)
	return ev, issued, err
}

// pair joins issued offers with queued mails for the notifier (mails are
// matched by position only for delivery; any order will do).
func pair(offers []lottery.Offer, mails []int64) []lottery.OfferIssue {
	out := make([]lottery.OfferIssue, len(offers))
	for i := range offers {
		out[i].Offer = offers[i]
		if i < len(mails) {
			out[i].OutboxID = mails[i]
		}
	}
	return out
}

// ChangeOffer accepts, declines or expires an offer and cascades freed slots.
func (s *Store) ChangeOffer(ctx context.Context, o lottery.OfferTx) (lottery.Offer, []lottery.OfferIssue, error) {
	var out lottery.Offer
	var issued []lottery.OfferIssue
	var committedErr error
	err := s.bulkTx(ctx, func(tx *gorm.DB, copyRows copyFunc) error {
		issued, committedErr = nil, nil
		var r offerRow
		if err := offerQuery(tx).Where("o.id = ?", o.OfferID).Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "o"}}).
			Take(&r).Error; err != nil {
			return notFound(err)
		}
		live := r.Status == string(lottery.OfferPending) || r.Status == string(lottery.OfferAccepted)
		due := !o.Now.Before(r.ExpiresAt)
		var to lottery.OfferStatus
		switch {
		case o.Action == lottery.OfferActionAccept && r.Status == string(lottery.OfferAccepted) && !due,
			o.Action == lottery.OfferActionDecline && r.Status == string(lottery.OfferDeclined):
			out = fromOfferRow(r) // repeated request: same answer
			return nil
		case r.Status == string(lottery.OfferExpired) && o.Action != lottery.OfferActionExpire:
			return lottery.ErrOfferExpired
		case !live:
			return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this offer is " + r.Status}
		case due:
			to, committedErr = lottery.OfferExpired, lottery.ErrOfferExpired
			if o.Action == lottery.OfferActionExpire {
				committedErr = nil
			}
		case o.Action == lottery.OfferActionExpire:
			return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this offer's hold has not ended"}
		case o.Action == lottery.OfferActionAccept && entryInReview(tx, r.EntryID):
			return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "your entry is being reviewed; " +
				"the slot stays held for you, and you can accept once a reviewer has cleared it"}
		case o.Action == lottery.OfferActionAccept:
			to = lottery.OfferAccepted
		default:
			to = lottery.OfferDeclined
		}
		if err := tx.Exec(`UPDATE offers SET status = ?, decided_at = ? WHERE id = ?`, string(to), o.Now, r.ID).Error; err != nil {
			return fmt.Errorf("update offer: %w", err)
		}
		entryTo := map[lottery.OfferStatus]lottery.EntryStatus{lottery.OfferAccepted: lottery.EntryOffered,
			lottery.OfferDeclined: lottery.EntryDeclined, lottery.OfferExpired: lottery.EntryExpired}[to]
		if err := tx.Exec(`UPDATE entries SET status = ?, updated_at = now() WHERE id = ?`, string(entryTo), r.EntryID).Error; err != nil {
			return err
		}
		if err := appendLog(tx, r.EventID, lottery.LogRecord{Kind: "offer." + string(to), EntryID: r.EntryID, FromStatus: r.Status,
			ToStatus: string(to), Actor: map[bool]string{true: "system:expiry", false: "runner"}[to == lottery.OfferExpired],
			Details: map[string]any{"offer_id": r.ID, "entry_status": entryTo}}); err != nil {
			return err
		}
		r.Status, r.DecidedAt = string(to), &o.Now
		out = fromOfferRow(r)
		if to == lottery.OfferAccepted {
			return nil
		}
		kind := mails.OfferDeclined
		if to == lottery.OfferExpired {
			kind = mails.OfferExpired
		}
		if _, err := queueOfferMail(ctx, tx, kind, []string{r.ID}); err != nil {
			return err
		}
		offers, mails, err := cascade(ctx, tx, copyRows, r.EventID, r.SubqueueID, o)
		issued = pair(offers, mails)
		return err
	})
	if err != nil {
		return lottery.Offer{}, nil, err
	}
	return out, issued, committedErr
}

// entryInReview reports whether an offer's entry was sent to review after
// its offer was issued (ordered groups); the offer row is locked, so the
// sweep cannot flag it in between.
func entryInReview(tx *gorm.DB, entryID string) bool {
	var st string
	_ = tx.Raw(`SELECT status FROM entries WHERE id = ?`, entryID).Row().Scan(&st) // no row: not in review
	return st == string(lottery.EntryInReview)
}

// SetCapacity changes a sub-queue's capacity and cascades added slots.
func (s *Store) SetCapacity(ctx context.Context, slug, key string, capacity int, o lottery.OfferTx, actor lottery.Actor) ([]lottery.OfferIssue, error) {
	var issued []lottery.OfferIssue
	err := s.bulkTx(ctx, func(tx *gorm.DB, copyRows copyFunc) error {
		issued = nil
		ev, err := lockEvent(tx, slug)
		if err != nil {
			return err
		}
		var sq subqueueRow
		if err := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Where("event_id = ? AND key = ?", ev.ID, key).Take(&sq).Error; err != nil {
			return notFound(err)
		}
		frozen := ev.Status == string(lottery.EventFrozen) || (ev.Status == string(lottery.EventDrawn) && ev.ResultsPublishedAt == nil)
		if frozen {
			return &lottery.Error{Code: lottery.CodeConflict, Field: "capacity",
				Message: "capacity is fixed between freeze and publishing results; change it after publish-results"}
		}
		live, err := liveOffers(tx, sq.ID)
		if err != nil {
			return err
		}
		// Runners who deferred into this edition hold places too (confirmed,
		// with no offer here): the capacity stays at or above both.
		reserved, err := reservedIn(tx, sq.ID)
		if err != nil {
			return err
		}
		if capacity < live+reserved {
			return &lottery.Error{Code: lottery.CodeConflict, Field: "capacity",
				Message: fmt.Sprintf("%d slots are held by live offers and %d by deferred runners; capacity cannot go below that",
					live, reserved)}
		}
		if err := tx.Exec(`UPDATE subqueues SET capacity = ? WHERE id = ?`, capacity, sq.ID).Error; err != nil {
			return err
		}
		details := map[string]any{"subqueue": key, "from": sq.Capacity, "to": capacity}
		if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "subqueue.capacity", Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		if err := audit(tx, actor.StaffID, "subqueue.capacity", slug+"/"+key, details); err != nil {
			return err
		}
		if ev.ResultsPublishedAt == nil && sq.Mode != string(lottery.ModeOrdered) {
			return nil
		}
		offers, mails, err := cascade(ctx, tx, copyRows, ev.ID, sq.ID, o)
		issued = pair(offers, mails)
		return err
	})
	return issued, err
}

// ExpireDue expires up to limit offers whose hold ended, in one
// transaction, and runs one cascade per sub-queue. Offers are locked first
// (SKIP LOCKED: one a runner is changing right now is left to that change
// or the next pass), then sub-queues, the same order as ChangeOffer, so the
// two never deadlock.
func (s *Store) ExpireDue(ctx context.Context, o lottery.OfferTx, limit int) (int, []lottery.OfferIssue, error) {
	var n int
	var issued []lottery.OfferIssue
	err := s.bulkTx(ctx, func(tx *gorm.DB, copyRows copyFunc) error {
		n, issued = 0, nil
		var due []struct {
			ID         string
			EntryID    string
			EventID    int64
			SubqueueID int64
			Status     string
		}
		if err := tx.Raw(`SELECT id::text, entry_id::text, event_id, subqueue_id, status FROM offers
			WHERE status IN ('pending', 'accepted') AND expires_at <= ? ORDER BY subqueue_id, id
			LIMIT ? FOR UPDATE SKIP LOCKED`, o.Now, limit).Scan(&due).Error; err != nil {
			return fmt.Errorf("lock due offers: %w", err)
		}
		if len(due) == 0 {
			return nil
		}
		ids, entries, from := make([]string, len(due)), make([]string, len(due)), make([]string, len(due))
		events := make([]int64, len(due))
		for i, d := range due {
			ids[i], entries[i], from[i], events[i] = d.ID, d.EntryID, d.Status, d.EventID
		}
		if _, err := tx.Statement.ConnPool.ExecContext(ctx, `UPDATE offers SET status = 'expired', decided_at = $2
			WHERE id = ANY($1::uuid[])`, ids, o.Now); err != nil {
			return fmt.Errorf("expire offers: %w", err)
		}
		if _, err := tx.Statement.ConnPool.ExecContext(ctx, `UPDATE entries SET status = 'expired', updated_at = now()
			WHERE id = ANY($1::uuid[])`, entries); err != nil {
			return fmt.Errorf("expire entries: %w", err)
		}
		if _, err := tx.Statement.ConnPool.ExecContext(ctx, `INSERT INTO event_log (event_id, entry_id, kind, from_status, to_status, actor, details)
			SELECT ev, en, 'offer.expired', st, 'expired', 'system:reconciler', jsonb_build_object('offer_id', id, 'entry_status', 'expired')
			FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::uuid[]) AS x(ev, en, st, id)`, events, entries, from, ids); err != nil {
			return fmt.Errorf("log expiries: %w", err)
		}
		if _, err := queueOfferMail(ctx, tx, mails.OfferExpired, ids); err != nil {
			return err
		}
		n = len(due)
		done := map[int64]bool{}
		for _, d := range due {
			if done[d.SubqueueID] {
				continue
			}
			done[d.SubqueueID] = true
			offers, mails, err := cascade(ctx, tx, copyRows, d.EventID, d.SubqueueID, o)
			if err != nil {
				return err
			}
			issued = append(issued, pair(offers, mails)...)
		}
		return nil
	})
	return n, issued, err
}

// DueOfferEvents lists events with offers due at now.
func (s *Store) DueOfferEvents(ctx context.Context, now time.Time) ([]int64, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Raw(`SELECT DISTINCT event_id FROM offers
		WHERE status IN ('pending', 'accepted') AND expires_at <= ?`, now).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("due offer events: %w", err)
	}
	return ids, nil
}

// liveOffers counts the offers holding slots of a sub-queue (OfferStatus.Live).
func liveOffers(tx *gorm.DB, subqueueID int64) (int, error) {
	var live int
	err := tx.Raw(`SELECT count(*) FROM offers WHERE subqueue_id = ? AND status IN ('pending', 'accepted', 'paid')`,
		subqueueID).Row().Scan(&live)
	return live, err
}

const whyOrdered = "first come through the waiting room"

// cascadeOrdered offers an ordered sub-queue's free slots to its entries
// waiting for one (waitlisted on apply, or approved by a reviewer), in the
// order of their places in the waiting room: lottery.OrderedOffers, as one
// ordered, limited query.
func cascadeOrdered(ctx context.Context, tx *gorm.DB, copyRows copyFunc, eventID int64, sq subqueueRow, free int,
	o lottery.OfferTx) ([]lottery.Offer, []int64, error) {
	if free <= 0 {
		return nil, nil, nil
	}
	var rows []struct {
		EntryID string
		Place   int
	}
	if err := tx.Raw(`SELECT e.id::text AS entry_id, t.place FROM entries e JOIN queue_tickets t ON t.entry_id = e.id
		WHERE e.subqueue_id = ? AND e.status IN ('waitlisted', 'received')
			AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = e.id)
		ORDER BY t.place LIMIT ?`, sq.ID, free).Scan(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("load ordered waitlist: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	units := make([]unit, len(rows))
	for i, r := range rows {
		units[i] = unit{id: r.EntryID, members: []string{r.EntryID}, position: r.Place}
	}
	var round int
	if err := tx.Raw(`SELECT coalesce(max(round), -1) + 1 FROM offers WHERE subqueue_id = ?`, sq.ID).Row().Scan(&round); err != nil {
		return nil, nil, err
	}
	return issueOffers(ctx, tx, copyRows, eventID, sq.ID, sq.Key, units, round, o, whyOrdered)
}

// QueueOfferReminders queues the "hold ends soon" mail of up to limit live
// offers whose hold has lottery.ReminderLead(hold) or less left at now (the
// SQL says it: least(24 hours, hold / 4)), and marks them reminded in the
// same statement: each offer is reminded once, whichever worker runs the
// pass (a concurrent pass skips the rows this one locked). An offer past
// its end is left to expiry.
func (s *Store) QueueOfferReminders(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		rows, err := tx.Statement.ConnPool.QueryContext(ctx, `WITH due AS (
				SELECT o.id FROM offers o
				WHERE o.status IN ('pending', 'accepted') AND o.reminded_at IS NULL AND o.expires_at > $1
					AND o.expires_at - $1 <= least(interval '24 hours', (o.expires_at - o.issued_at) / 4)
				ORDER BY o.expires_at LIMIT $2 FOR UPDATE SKIP LOCKED),
			marked AS (UPDATE offers o SET reminded_at = $1 FROM due WHERE o.id = due.id
				RETURNING o.id, o.event_id, o.entry_id)
			INSERT INTO outbox (to_addr, subject, body, kind, intent, event_id, entry_id, offer_id)
			SELECT e.email, '', '', 'offer', $3, m.event_id, m.entry_id, m.id FROM marked m JOIN entries e ON e.id = m.entry_id
			RETURNING id`, now, limit, mails.OfferReminder)
		if err != nil {
			return fmt.Errorf("queue offer reminders: %w", err)
		}
		ids, err = scanIDs(rows)
		return err
	})
	return ids, err
}
