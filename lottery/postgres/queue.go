package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/prequeue"
	"github.com/startline/startline/lottery/waitroom"
)

type ticketRow struct {
	ID                 string `gorm:"primaryKey"`
	EventID            int64
	SubqueueID         int64
	Place              *int64
	PublicID           *string
	EmailKey           string
	Status             string
	RiskScore          int
	RiskDecision       string
	RiskReasons        []byte
	ClientIP           *string
	UserAgent          string
	DeviceID           string
	JoinedAt           time.Time
	AdmittedAt         *time.Time
	AdmissionExpiresAt *time.Time
	UsedAt             *time.Time
	EntryID            *string
}

func (ticketRow) TableName() string { return "queue_tickets" }

func fromTicketRow(r ticketRow) lottery.QueueTicket {
	var doc riskDoc
	_ = json.Unmarshal(r.RiskReasons, &doc) // written by us; a bad document only loses the explanation
	t := lottery.QueueTicket{ID: r.ID, EventID: r.EventID, SubQueueID: r.SubqueueID, Place: deref(r.Place),
		PublicID: deref(r.PublicID), EmailKey: r.EmailKey, Status: lottery.TicketStatus(r.Status), ClientIP: deref(r.ClientIP), UserAgent: r.UserAgent,
		DeviceID: r.DeviceID, JoinedAt: r.JoinedAt.UTC(), AdmittedAt: r.AdmittedAt, AdmissionExpiresAt: r.AdmissionExpiresAt,
		UsedAt: r.UsedAt, EntryID: deref(r.EntryID),
		Risk: antibot.Assessment{Score: r.RiskScore, Decision: antibot.Decision(r.RiskDecision), Reasons: doc.Reasons,
			RulesVersion: doc.RulesVersion}}
	return t
}

// createLine makes an ordered sub-queue's line and its place sequence, in
// the transaction that creates the sub-queue.
func createLine(tx *gorm.DB, eventID, subqueueID int64) error {
	if err := tx.Exec(fmt.Sprintf("CREATE SEQUENCE queue_place_%d AS bigint", subqueueID)).Error; err != nil {
		return fmt.Errorf("create place sequence: %w", err)
	}
	return tx.Exec(`INSERT INTO queue_lines (subqueue_id, event_id) VALUES (?, ?)`, subqueueID, eventID).Error
}

// ticketColumns are what a join inserts; both join statements select
// their values in this order.
const ticketColumns = `INSERT INTO queue_tickets (id, event_id, subqueue_id, place, email_key, status,
	risk_score, risk_decision, risk_reasons, client_ip, user_agent, device_id, joined_at, public_id)`

// JoinQueue stores a ticket in one statement. Once the line is open a
// placed ticket takes the next number of its line's sequence, so joins
// never wait on each other. Before that the ticket waits in the pre-queue
// without a place, under a share lock on the line row that keeps it apart
// from the opening. A join after opens_at that finds the line not yet
// opened gets lottery.ErrLineUnopened: the caller opens the line (OpenLine,
// which needs the pre-queue's secret) and joins again.
func (s *Store) JoinQueue(ctx context.Context, t lottery.QueueTicket, lineOpen bool) (lottery.QueueTicket, error) {
	now := t.JoinedAt.UTC().Truncate(time.Microsecond)
	risk, _ := json.Marshal(riskDoc{Reasons: t.Risk.Reasons, RulesVersion: t.Risk.RulesVersion})
	db := s.db.WithContext(ctx)
	values := []any{t.ID, t.EventID, t.SubQueueID, t.Status == lottery.TicketRefused, t.SubQueueID, t.EmailKey,
		string(t.Status), t.Risk.Score, string(t.Risk.Decision), string(risk), nullIP(t.ClientIP), t.UserAgent, t.DeviceID, now,
		nullString(t.PublicID)}
	var places []struct{ Place *int64 }
	var err error
	if lineOpen {
		err = db.Raw(ticketColumns+`
			SELECT ?, ?, ?, CASE WHEN ? THEN NULL ELSE nextval(format('queue_place_%s', ?::bigint)::regclass) END,
				?, ?, ?, ?, ?::jsonb, ?::inet, ?, ?, ?, ?
			WHERE EXISTS (SELECT 1 FROM events WHERE id = ? AND status = 'published' AND opens_at <= ? AND closes_at > ?)
			RETURNING place`, append(values, t.EventID, now, now)...).Scan(&places).Error
	} else {
		// A waiting share lock re-reads the line row once the opening
		// commits, so a join never takes a place ahead of the pre-queue.
		err = db.Raw(ticketColumns+`
			SELECT ?, ?, ?, CASE WHEN ? OR l.opened_at IS NULL THEN NULL
					ELSE nextval(format('queue_place_%s', ?::bigint)::regclass) END,
				?, ?, ?, ?, ?::jsonb, ?::inet, ?, ?, ?, ?
			FROM queue_lines l JOIN subqueues q ON q.id = l.subqueue_id JOIN events ev ON ev.id = l.event_id
			WHERE l.subqueue_id = ? AND ev.status = 'published' AND ev.closes_at > ?
				AND CASE WHEN l.opened_at IS NULL
					THEN ev.opens_at > ? AND ev.opens_at - make_interval(mins => q.prequeue_minutes) <= ?
					ELSE ev.opens_at <= ? END
			FOR SHARE OF l
			RETURNING place`, append(values, t.SubQueueID, now, now, now, now)...).Scan(&places).Error
	}
	if err != nil {
		return lottery.QueueTicket{}, fmt.Errorf("store ticket: %w", err)
	}
	if len(places) > 0 {
		t.Place = deref(places[0].Place)
		return t, nil
	}
	var windowOpen bool
	if err := db.Raw(`SELECT status = 'published' AND opens_at <= ? AND closes_at > ? FROM events WHERE id = ?`,
		now, now, t.EventID).Row().Scan(&windowOpen); err != nil {
		return lottery.QueueTicket{}, fmt.Errorf("event window: %w", err)
	}
	if windowOpen && !lineOpen {
		return lottery.QueueTicket{}, lottery.ErrLineUnopened
	}
	return lottery.QueueTicket{}, whyNotOpen(db, t.EventID, now)
}

// CommitPrequeue stores a line's pre-queue commitment unless one is
// stored already, and returns the one that is: the commitment never
// changes once published. A line opened without one (before pre-queues
// were committed) is ErrNotFound.
func (s *Store) CommitPrequeue(ctx context.Context, subqueueID int64, c lottery.SeedCommit, now time.Time) (lottery.SeedCommit, error) {
	var out lottery.SeedCommit
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var eventID int64
		if err := tx.Raw(`INSERT INTO prequeues (subqueue_id, event_id, commitment, seed_sealed, committed_at)
			SELECT subqueue_id, event_id, ?, ?, ? FROM queue_lines WHERE subqueue_id = ? AND opened_at IS NULL
			ON CONFLICT (subqueue_id) DO NOTHING
			RETURNING event_id`, c.Commitment, c.Sealed, now.UTC(), subqueueID).Row().Scan(&eventID); err != nil &&
			!errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("commit pre-queue: %w", err)
		}
		if eventID != 0 {
			if err := appendLog(tx, eventID, lottery.LogRecord{Kind: "queue.committed", Actor: "system:waiting-room",
				Details: map[string]any{"subqueue_id": subqueueID, "algorithm": prequeue.Algorithm, "commitment": c.Commitment}}); err != nil {
				return err
			}
		}
		var err error
		out, err = prequeueCommit(tx, subqueueID)
		return err
	})
	return out, err
}

// PrequeueCommit returns a line's sealed pre-queue secret and its
// commitment; ErrNotFound before it is committed.
func (s *Store) PrequeueCommit(ctx context.Context, subqueueID int64) (lottery.SeedCommit, error) {
	return prequeueCommit(s.db.WithContext(ctx), subqueueID)
}

func prequeueCommit(tx *gorm.DB, subqueueID int64) (lottery.SeedCommit, error) {
	var r struct {
		Commitment string
		SeedSealed []byte
	}
	if err := tx.Raw(`SELECT commitment, seed_sealed FROM prequeues WHERE subqueue_id = ?`, subqueueID).Scan(&r).Error; err != nil {
		return lottery.SeedCommit{}, fmt.Errorf("pre-queue commitment: %w", err)
	}
	if r.Commitment == "" {
		return lottery.SeedCommit{}, lottery.ErrNotFound
	}
	return lottery.SeedCommit{Sealed: r.SeedSealed, Commitment: r.Commitment}, nil
}

// Prequeue returns a line's pre-queue record, with its order once placed;
// ErrNotFound before it is committed.
func (s *Store) Prequeue(ctx context.Context, subqueueID int64) (lottery.Prequeue, error) {
	db := s.db.WithContext(ctx)
	var r struct {
		Commitment  string
		SeedSealed  []byte
		SeedSecret  *string
		TicketsRoot *string
		PlacedAt    *time.Time
	}
	if err := db.Raw(`SELECT commitment, seed_sealed, seed_secret, tickets_root, placed_at FROM prequeues
		WHERE subqueue_id = ?`, subqueueID).Scan(&r).Error; err != nil {
		return lottery.Prequeue{}, fmt.Errorf("pre-queue: %w", err)
	}
	if r.Commitment == "" {
		return lottery.Prequeue{}, lottery.ErrNotFound
	}
	p := lottery.Prequeue{SubQueueID: subqueueID, Commitment: r.Commitment, Sealed: r.SeedSealed,
		SeedSecret: deref(r.SeedSecret), TicketsRoot: deref(r.TicketsRoot), PlacedAt: r.PlacedAt}
	if r.PlacedAt == nil {
		return p, nil
	}
	// Public ids are [a-z0-9-]: joined by spaces they split back exactly.
	var order string
	if err := db.Raw(`SELECT array_to_string(order_ids, ' ') FROM prequeues WHERE subqueue_id = ?`, subqueueID).
		Row().Scan(&order); err != nil {
		return lottery.Prequeue{}, fmt.Errorf("pre-queue order: %w", err)
	}
	p.Order = append([]string{}, strings.Fields(order)...)
	return p, nil
}

// OpenLine opens a line whose window has opened, placing its pre-queue
// under o.Secret. It reports whether the line is open (false: the window
// is not open).
func (s *Store) OpenLine(ctx context.Context, o lottery.OpenLineTx) (bool, error) {
	now := o.Now.UTC().Truncate(time.Microsecond)
	open := false
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var l struct {
			EventID  int64
			OpenedAt *time.Time
			Open     bool
		}
		if err := tx.Raw(`SELECT l.event_id, l.opened_at, ev.status = 'published' AND ev.opens_at <= ? AS open
			FROM queue_lines l JOIN events ev ON ev.id = l.event_id WHERE l.subqueue_id = ? FOR UPDATE OF l`,
			now, o.SubQueueID).Scan(&l).Error; err != nil {
			return fmt.Errorf("lock line: %w", err)
		}
		if l.EventID == 0 {
			return lottery.ErrNotFound
		}
		open = l.OpenedAt != nil || l.Open
		if l.OpenedAt != nil || !l.Open {
			return nil
		}
		_, err := openLine(ctx, tx, l.EventID, o.SubQueueID, now, o.Secret)
		return err
	})
	return open, err
}

// openLine places a line's pre-queue by prequeue-v1 and marks the line
// open; the caller holds the line row's lock, so the pre-queue cannot
// change meanwhile. The order is a function of the committed secret and
// the tickets' public ids alone (docs/PREQUEUE-SPEC.md): the secret, the
// tickets' root and the order are stored and published, so anyone can
// recompute it, and nobody could predict or steer it before the opening.
func openLine(ctx context.Context, tx *gorm.DB, eventID, subqueueID int64, now time.Time, secret []byte) (int, error) {
	var head struct {
		Slug, Key  string
		Commitment *string
	}
	if err := tx.Raw(`SELECT ev.slug, q.key, p.commitment FROM subqueues q JOIN events ev ON ev.id = q.event_id
		LEFT JOIN prequeues p ON p.subqueue_id = q.id WHERE q.id = ?`, subqueueID).Scan(&head).Error; err != nil {
		return 0, fmt.Errorf("pre-queue header: %w", err)
	}
	if head.Commitment == nil {
		return 0, fmt.Errorf("open line %d: the pre-queue has no commitment", subqueueID)
	}
	if len(secret) != fairdraw.SecretSize || fairdraw.Commitment(secret) != *head.Commitment {
		return 0, fmt.Errorf("open line %d: the secret does not match the published commitment", subqueueID)
	}
	// Tickets joined by a release without public ids (none, once every
	// process joins with one) get a random one, so the order stays complete.
	if err := tx.Exec(`UPDATE queue_tickets SET public_id = replace(gen_random_uuid()::text, '-', '')
		WHERE subqueue_id = ? AND place IS NULL AND status = 'waiting' AND public_id IS NULL`, subqueueID).Error; err != nil {
		return 0, fmt.Errorf("name pre-queue tickets: %w", err)
	}
	var tickets []struct{ ID, PublicID string }
	if err := tx.Raw(`SELECT id::text, public_id FROM queue_tickets WHERE subqueue_id = ? AND place IS NULL AND status = 'waiting'`,
		subqueueID).Scan(&tickets).Error; err != nil {
		return 0, fmt.Errorf("load pre-queue: %w", err)
	}
	byPublic := make(map[string]string, len(tickets))
	in := prequeue.Input{EventID: head.Slug, SubQueue: head.Key, SeedSecret: secret, Tickets: make([]string, len(tickets))}
	for i, t := range tickets {
		byPublic[t.PublicID] = t.ID
		in.Tickets[i] = t.PublicID
	}
	art, err := prequeue.Order(in)
	if err != nil {
		return 0, fmt.Errorf("order pre-queue: %w", err)
	}
	ids, publicIDs := make([]string, len(art.Order)), make([]string, len(art.Order))
	for i, p := range art.Order {
		ids[i], publicIDs[i] = byPublic[p.TicketID], p.TicketID
	}
	n := len(ids)
	if n > 0 {
		conn := tx.Statement.ConnPool
		if _, err := conn.ExecContext(ctx, `UPDATE queue_tickets t SET place = x.place
			FROM unnest($1::uuid[]) WITH ORDINALITY AS x(id, place) WHERE t.id = x.id`, ids); err != nil {
			return 0, fmt.Errorf("place pre-queue: %w", err)
		}
		// Sequences are not transactional, but no join takes a number
		// while the line is unopened and its row is locked.
		if err := tx.Exec(fmt.Sprintf("SELECT setval('queue_place_%d', ?)", subqueueID), n).Error; err != nil {
			return 0, fmt.Errorf("advance places: %w", err)
		}
	}
	if _, err := tx.Statement.ConnPool.ExecContext(ctx, `UPDATE prequeues SET seed_secret = $1, tickets_root = $2, placed = $3,
		order_ids = $4::text[], placed_at = $5 WHERE subqueue_id = $6`,
		art.SeedSecret, art.TicketsRoot, n, publicIDs, now, subqueueID); err != nil {
		return 0, fmt.Errorf("publish pre-queue: %w", err)
	}
	if err := tx.Exec(`UPDATE queue_lines SET opened_at = ?, prequeued = ?, updated_at = now() WHERE subqueue_id = ?`,
		now, n, subqueueID).Error; err != nil {
		return 0, fmt.Errorf("open line: %w", err)
	}
	return n, appendLog(tx, eventID, lottery.LogRecord{Kind: "queue.opened", Actor: "system:waiting-room",
		Details: map[string]any{"subqueue_id": subqueueID, "prequeued": n, "algorithm": prequeue.Algorithm,
			"commitment": art.Commitment, "seed_secret": art.SeedSecret, "tickets_root": art.TicketsRoot}})
}

// nullString stores "" as NULL.
func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// whyNotOpen tells a closed window from one not open yet.
func whyNotOpen(tx *gorm.DB, eventID int64, now time.Time) error {
	var notYet bool
	if err := tx.Raw(`SELECT status = 'published' AND opens_at > ? FROM events WHERE id = ?`, now, eventID).
		Row().Scan(&notYet); err != nil {
		return fmt.Errorf("event window: %w", err)
	}
	if notYet {
		return lottery.ErrNotOpen
	}
	return lottery.ErrClosed
}

// QueueLine returns a line's counters with its sub-queue's rate.
func (s *Store) QueueLine(ctx context.Context, subqueueID int64) (lottery.QueueLine, error) {
	var r struct {
		Slug, Key       string
		AdmittedThrough int64
		AdmitPerMinute  int
		SoldOut         bool
		Paused          bool
		OpensAt         time.Time
		OpenedAt        *time.Time
		Prequeued       int64
		Commitment      *string
	}
	res := s.db.WithContext(ctx).Raw(`SELECT ev.slug, q.key, coalesce(l.admitted_through, 0) AS admitted_through,
			q.admit_per_minute, coalesce(l.sold_out, false) AS sold_out, q.paused_at IS NOT NULL AS paused, ev.opens_at, l.opened_at,
			coalesce(l.prequeued, 0) AS prequeued, p.commitment
		FROM subqueues q JOIN events ev ON ev.id = q.event_id LEFT JOIN queue_lines l ON l.subqueue_id = q.id
			LEFT JOIN prequeues p ON p.subqueue_id = q.id
		WHERE q.id = ?`, subqueueID).Scan(&r)
	if res.Error != nil {
		return lottery.QueueLine{}, fmt.Errorf("queue line: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return lottery.QueueLine{}, lottery.ErrNotFound
	}
	return lottery.QueueLine{SubQueueID: subqueueID, EventSlug: r.Slug, SubQueueKey: r.Key, AdmittedThrough: r.AdmittedThrough,
		AdmitPerMinute: r.AdmitPerMinute, SoldOut: r.SoldOut, Paused: r.Paused, OpensAt: r.OpensAt.UTC(), Opened: r.OpenedAt != nil,
		Prequeued: r.Prequeued, PrequeueCommitment: deref(r.Commitment)}, nil
}

// QueueTicket returns one ticket.
func (s *Store) QueueTicket(ctx context.Context, id string) (lottery.QueueTicket, error) {
	return s.ticketWhere(ctx, "id", id)
}

// EntryTicket returns the ticket an entry used.
func (s *Store) EntryTicket(ctx context.Context, entryID string) (lottery.QueueTicket, error) {
	return s.ticketWhere(ctx, "entry_id", entryID)
}

// ticketWhere reads the ticket whose unique column col equals v.
func (s *Store) ticketWhere(ctx context.Context, col, v string) (lottery.QueueTicket, error) {
	var r ticketRow
	if err := s.db.WithContext(ctx).Raw(`SELECT id::text, event_id, subqueue_id, place, public_id, email_key, status, risk_score,
			risk_decision, risk_reasons, host(client_ip) AS client_ip, user_agent, device_id, joined_at, admitted_at,
			admission_expires_at, used_at, entry_id::text FROM queue_tickets WHERE `+col+` = ?::uuid`, v).Scan(&r).Error; err != nil {
		return lottery.QueueTicket{}, fmt.Errorf("queue ticket: %w", err)
	}
	if r.ID == "" {
		return lottery.QueueTicket{}, lottery.ErrNotFound
	}
	return fromTicketRow(r), nil
}

// ActiveQueues lists the lines of events not yet frozen or settled: they
// admit while the window is open and offer released slots after it. An
// unopened line comes with its pre-queue commitment, if any.
func (s *Store) ActiveQueues(ctx context.Context) ([]lottery.QueueRef, error) {
	var rows []struct {
		EventID, SubqueueID int64
		Opened              bool
		Commitment          *string
		SeedSealed          []byte
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT l.event_id, l.subqueue_id, l.opened_at IS NOT NULL AS opened,
			p.commitment, CASE WHEN l.opened_at IS NULL THEN p.seed_sealed END AS seed_sealed
		FROM queue_lines l JOIN events ev ON ev.id = l.event_id LEFT JOIN prequeues p ON p.subqueue_id = l.subqueue_id
		WHERE ev.status IN ('published', 'closed', 'frozen', 'drawn')
		ORDER BY l.event_id, l.subqueue_id`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("active queues: %w", err)
	}
	out := make([]lottery.QueueRef, len(rows))
	for i, r := range rows {
		out[i] = lottery.QueueRef{EventID: r.EventID, SubQueueID: r.SubqueueID, Opened: r.Opened}
		if r.Commitment != nil {
			out[i].Commit = &lottery.SeedCommit{Commitment: *r.Commitment, Sealed: r.SeedSealed}
		}
	}
	return out, nil
}

// AdmitQueue runs one admission pass. The line's row lock keeps passes of
// one line apart; joins never take it. The pass then locks the sub-queue
// (inside cascade) after lapsed tickets, as an ordered application locks
// its own admitted ticket and then the sub-queue, so the two never deadlock.
func (s *Store) AdmitQueue(ctx context.Context, a lottery.AdmitTx) (lottery.AdmitResult, []lottery.OfferIssue, error) {
	var res lottery.AdmitResult
	var issued []lottery.OfferIssue
	now := a.Now.UTC().Truncate(time.Microsecond)
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		res, issued = lottery.AdmitResult{}, nil
		var l struct {
			EventID         int64
			AdmittedThrough int64
			CreditAt        *time.Time
			AdmitPerMinute  int
			Open            bool
			OpenedAt        *time.Time
			Started         bool
			Paused          bool
		}
		if err := tx.Raw(`SELECT l.event_id, l.admitted_through, l.credit_at, q.admit_per_minute, l.opened_at,
				q.paused_at IS NOT NULL AS paused,
				ev.status = 'published' AND ev.opens_at <= ? AND ev.closes_at > ? AS open, ev.opens_at <= ? AS started
			FROM queue_lines l JOIN subqueues q ON q.id = l.subqueue_id JOIN events ev ON ev.id = l.event_id
			WHERE l.subqueue_id = ? FOR UPDATE OF l`, now, now, now, a.SubQueueID).Scan(&l).Error; err != nil {
			return fmt.Errorf("lock line: %w", err)
		}
		if l.EventID == 0 {
			return lottery.ErrNotFound
		}
		lapsed := tx.Exec(`UPDATE queue_tickets SET status = 'lapsed' WHERE subqueue_id = ? AND status = 'admitted'
			AND admission_expires_at <= ?`, a.SubQueueID, now)
		if lapsed.Error != nil {
			return fmt.Errorf("lapse admissions: %w", lapsed.Error)
		}
		res.Lapsed = int(lapsed.RowsAffected)
		if l.Started && l.OpenedAt == nil { // even after the window: the pre-queue's places still count
			var err error
			if res.Prequeued, err = openLine(ctx, tx, l.EventID, a.SubQueueID, now, a.PrequeueSecret); err != nil {
				return err
			}
		}
		offers, mails, err := cascade(ctx, tx, insertRows(ctx, tx), l.EventID, a.SubQueueID, a.Offers)
		if err != nil {
			return err
		}
		issued = pair(offers, mails)

		// Free slots: capacity less what live offers hold, less what entries
		// waiting for a slot may claim. Admitted runners who have not applied
		// yet do not count: joins are cheap, and a bot that joined many
		// times and never applies would otherwise stall the line for a whole
		// admission window. Admitted runners who apply when every slot is
		// taken wait for one, in line order.
		var capacity, live, claimed int64
		if err := tx.Raw(`SELECT q.capacity,
				(SELECT count(*) FROM offers o WHERE o.subqueue_id = q.id AND o.status IN ('pending', 'accepted', 'paid')),
				(SELECT count(*) FROM entries e WHERE e.subqueue_id = q.id AND e.status IN ('in_review', 'received', 'waitlisted')
					AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = e.id AND o.status = 'pending'))
			FROM subqueues q WHERE q.id = ?`, a.SubQueueID).Row().Scan(&capacity, &live, &claimed); err != nil {
			return fmt.Errorf("free slots: %w", err)
		}
		free := capacity - live - claimed
		res.SoldOut = live >= capacity

		// Admissions are earned at the line's rate since credit_at, saving up
		// at most a minute's worth (so a runner arriving at a quiet line is
		// let in at once); a pass spends whole admissions and keeps the
		// fraction for the next.
		rate := float64(l.AdmitPerMinute) / 60 // per second
		creditAt := now.Add(-time.Second)      // a new line starts with a second's worth
		if l.CreditAt != nil {
			creditAt = *l.CreditAt
		}
		if burst := now.Add(-time.Minute); creditAt.Before(burst) {
			creditAt = burst
		}
		if l.Paused { // a paused line earns nothing: resuming saves no burst
			creditAt = now
		}
		credit := int64(now.Sub(creditAt).Seconds() * rate)
		res.AdmittedThrough = l.AdmittedThrough
		if n := waitroom.Admissions(l.Open, l.Paused, credit, free); n > 0 {
			// Lowest places first, so a join that committed after an earlier
			// pass went past its place is admitted now.
			var places []int64
			if err := tx.Raw(`UPDATE queue_tickets SET status = 'admitted', admitted_at = ?, admission_expires_at = ?
				WHERE id IN (SELECT id FROM queue_tickets WHERE subqueue_id = ? AND status = 'waiting' AND place IS NOT NULL
					ORDER BY place LIMIT ?)
				RETURNING place`, now, now.Add(a.Window), a.SubQueueID, n).Scan(&places).Error; err != nil {
				return fmt.Errorf("admit: %w", err)
			}
			res.Admitted = len(places)
			if res.Admitted > 0 {
				creditAt = creditAt.Add(time.Duration(float64(res.Admitted) / rate * float64(time.Second)))
				res.AdmittedThrough = max(res.AdmittedThrough, slices.Max(places))
				if err := appendLog(tx, l.EventID, lottery.LogRecord{Kind: "queue.admitted", Actor: "system:waiting-room",
					Details: map[string]any{"subqueue_id": a.SubQueueID, "admitted": res.Admitted, "first_place": slices.Min(places),
						"last_place": slices.Max(places), "lapsed": res.Lapsed, "free_slots": free}}); err != nil {
					return err
				}
			}
		}
		return tx.Exec(`UPDATE queue_lines SET admitted_through = ?, credit_at = ?, sold_out = ?, updated_at = now()
			WHERE subqueue_id = ?`, res.AdmittedThrough, creditAt, res.SoldOut, a.SubQueueID).Error
	})
	if err != nil {
		return lottery.AdmitResult{}, nil, err
	}
	return res, issued, nil
}

// useAdmission spends an admitted ticket on an ordered application, in the
// apply transaction: the ticket must be this person's, for this sub-queue,
// admitted and not lapsed.
func useAdmission(tx *gorm.DB, ticketID string, e lottery.Entry, now time.Time) error {
	res := tx.Exec(`UPDATE queue_tickets SET status = 'used', used_at = ?, entry_id = ?
		WHERE id = ? AND subqueue_id = ? AND email_key = ? AND status = 'admitted' AND admission_expires_at > ?`,
		now, e.ID, ticketID, e.SubQueueID, e.EmailKey, now)
	if res.Error != nil {
		return fmt.Errorf("use admission: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		var status string
		tx.Raw(`SELECT status FROM queue_tickets WHERE id = ?`, ticketID).Row().Scan(&status) //nolint:errcheck // empty: unknown
		msg := "this admission is not valid; join the waiting room again"
		switch lottery.TicketStatus(status) {
		case lottery.TicketUsed:
			msg = "this admission was already used"
		case lottery.TicketAdmitted, lottery.TicketLapsed:
			msg = "your admission window has ended; join the waiting room again"
		case lottery.TicketWaiting:
			msg = "you have not been admitted yet; keep your place in the waiting room"
		}
		return &lottery.Error{Code: lottery.CodeAdmissionRequired, Field: "admission_token", Message: msg}
	}
	return nil
}

// insertRows is a copyFunc for ordinary transactions, where a handful of
// rows go in by one INSERT instead of COPY.
func insertRows(ctx context.Context, tx *gorm.DB) copyFunc {
	return func(table string, columns []string, rows [][]any) error {
		if len(rows) == 0 {
			return nil
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "INSERT INTO %s (%s) VALUES ", table, strings.Join(columns, ", "))
		args := make([]any, 0, len(rows)*len(columns))
		for i, r := range rows {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j := range r {
				if j > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "$%d", len(args)+j+1)
			}
			sb.WriteByte(')')
			args = append(args, r...)
		}
		if _, err := tx.Statement.ConnPool.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		return nil
	}
}
