package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

type mailRow struct {
	ID        int64 `gorm:"primaryKey"`
	ToAddr    string
	Subject   string
	Body      string
	HTML      string `gorm:"column:html"`
	Kind      string
	Intent    string
	EventID   *int64
	EntryID   *string
	OfferID   *string
	Detail    string
	Attempts  int
	LastError string
	SentAt    *time.Time
	CreatedAt time.Time
}

func (mailRow) TableName() string { return "outbox" }

func fromMailRow(r mailRow) lottery.Mail {
	m := lottery.Mail{ID: r.ID, To: r.ToAddr, Subject: r.Subject, Body: r.Body, HTML: r.HTML, Kind: r.Kind, Intent: r.Intent,
		CreatedAt: r.CreatedAt, SentAt: r.SentAt, Attempts: r.Attempts, Detail: r.Detail}
	if r.EventID != nil {
		m.EventID = *r.EventID
	}
	if r.EntryID != nil {
		m.EntryID = *r.EntryID
	}
	if r.OfferID != nil {
		m.OfferID = *r.OfferID
	}
	return m
}

// insertMail queues a mail rendered at write time (it carries no ids).
func insertMail(tx *gorm.DB, m lottery.Mail) (int64, error) {
	r := mailRow{ToAddr: m.To, Subject: m.Subject, Body: m.Body, HTML: m.HTML, Kind: m.Kind, Intent: m.Intent}
	if err := tx.Omit("ID", "CreatedAt", "SentAt", "EventID", "EntryID", "OfferID").Create(&r).Error; err != nil {
		return 0, fmt.Errorf("queue mail: %w", err)
	}
	return r.ID, nil
}

// queueOfferIntents queues the mail of each newly issued offer, to its
// entry's address, in the caller's transaction: the mail is owed exactly
// when the offer commits. An offer of a drawn sub-queue's later round went to
// a runner who moved up from the waitlist (offer.moved_up); any other is the
// offer itself (offer.issued). The worker renders it (lottery/mails) on
// sending.
func queueOfferIntents(ctx context.Context, tx *gorm.DB, offerIDs []string) ([]int64, error) {
	return queueOfferMails(ctx, tx, `CASE WHEN EXISTS (SELECT 1 FROM card_charges cc WHERE cc.offer_id = o.id) THEN '`+
		mails.OfferCardCharge+`' WHEN o.round > 0 AND q.mode = 'lottery' THEN '`+mails.OfferMovedUp+
		`' ELSE '`+mails.OfferIssued+`' END`, offerIDs)
}

// queueOfferMail queues one intent of kind per offer (paid, expired,
// declined, reminder), to its entry's address, in the caller's transaction.
func queueOfferMail(ctx context.Context, tx *gorm.DB, kind string, offerIDs []string) ([]int64, error) {
	return queueOfferMails(ctx, tx, pqQuote(kind), offerIDs)
}

// pqQuote is a SQL string literal of a mail kind (constants of lottery/mails).
func pqQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// queueOfferMails is one set-based insert of an intent per offer; intentSQL
// is the intent's SQL expression over o (offers) and q (subqueues).
func queueOfferMails(ctx context.Context, tx *gorm.DB, intentSQL string, offerIDs []string) ([]int64, error) {
	if len(offerIDs) == 0 {
		return nil, nil
	}
	rows, err := tx.Statement.ConnPool.QueryContext(ctx, `INSERT INTO outbox (to_addr, subject, body, kind, intent, event_id, entry_id, offer_id)
		SELECT e.email, '', '', 'offer', `+intentSQL+`, o.event_id, o.entry_id, o.id
		FROM offers o JOIN entries e ON e.id = o.entry_id JOIN subqueues q ON q.id = o.subqueue_id
		WHERE o.id = ANY($1::uuid[]) ORDER BY o.id RETURNING id`, offerIDs)
	if err != nil {
		return nil, fmt.Errorf("queue offer mail: %w", err)
	}
	return scanIDs(rows)
}

func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("queue mail: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// queueEntryIntents queues one intent of kind (lottery/mails) per entry, to
// the entry's address, in the caller's transaction, so the mail is owed
// exactly when the change commits; offerID may be empty. The worker renders
// it in the entry's language when it sends it.
func queueEntryIntents(ctx context.Context, tx *gorm.DB, kind string, entryIDs []string, offerID string) error {
	_, err := queueEntryIntentIDs(ctx, tx, kind, entryIDs, offerID, "")
	return err
}

// queueEntryIntentIDs is queueEntryIntents with the intent's Detail (see
// lottery.Mail.Detail: entry.refunded takes the refunded amount in minor
// units, entry.rejected a lottery.RejectionCategory),
// returning the outbox ids for a caller that hands them to the notifier at
// once (the apply's receipt).
func queueEntryIntentIDs(ctx context.Context, tx *gorm.DB, kind string, entryIDs []string, offerID, detail string) ([]int64, error) {
	if len(entryIDs) == 0 {
		return nil, nil
	}
	var offer any
	if offerID != "" {
		offer = offerID
	}
	rows, err := tx.Statement.ConnPool.QueryContext(ctx, `INSERT INTO outbox (to_addr, subject, body, kind, intent, event_id, entry_id, offer_id, detail)
		SELECT e.email, '', '', 'entry', $1, e.event_id, e.id, $2::uuid, $4 FROM entries e WHERE e.id = ANY($3::uuid[])
		ORDER BY e.id RETURNING id`, kind, offer, entryIDs, detail)
	if err != nil {
		return nil, fmt.Errorf("queue %s mail: %w", kind, err)
	}
	return scanIDs(rows)
}

// QueueMail puts one message in the outbox.
func (s *Store) QueueMail(ctx context.Context, m lottery.Mail) (int64, error) {
	return insertMail(s.db.WithContext(ctx), m)
}

// Mail returns one outbox message.
func (s *Store) Mail(ctx context.Context, id int64) (lottery.Mail, error) {
	var r mailRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return lottery.Mail{}, notFound(err)
	}
	return fromMailRow(r), nil
}

// OutboxFor lists messages to an address, newest first.
func (s *Store) OutboxFor(ctx context.Context, to string, limit int) ([]lottery.Mail, error) {
	q := s.db.WithContext(ctx).Order("created_at DESC, id DESC").Limit(limit)
	if to != "" {
		q = q.Where("lower(to_addr) = lower(?)", to)
	}
	var rows []mailRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	out := make([]lottery.Mail, len(rows))
	for i, r := range rows {
		out[i] = fromMailRow(r)
	}
	return out, nil
}

// UnsentMail lists the ids of never-sent messages created before a time,
// above afterID: the outbox sweep pages through a backlog with it.
func (s *Store) UnsentMail(ctx context.Context, before time.Time, afterID int64, limit int) ([]int64, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Model(&mailRow{}).
		Where("sent_at IS NULL AND created_at < ? AND attempts < ? AND id > ?", before, maxMailAttempts, afterID).
		Order("id").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("list unsent mail: %w", err)
	}
	return ids, nil
}

// MarkMailSent records delivery and optionally drops the body.
func (s *Store) MarkMailSent(ctx context.Context, id int64, at time.Time, redact bool) error {
	set := map[string]any{"sent_at": at, "attempts": gorm.Expr("attempts + 1"), "last_error": ""}
	if redact {
		set["body"], set["html"] = "[delivered; body removed]", ""
	}
	if err := s.db.WithContext(ctx).Model(&mailRow{}).Where("id = ? AND sent_at IS NULL", id).Updates(set).Error; err != nil {
		return fmt.Errorf("mark mail %d sent: %w", id, err)
	}
	return nil
}

// maxMailAttempts is how often the sweep retries a mail.
const maxMailAttempts = 10

// AbandonMail records a mail that can never be sent, so the sweep, which
// retries mail below maxMailAttempts, leaves it.
func (s *Store) AbandonMail(ctx context.Context, id int64, reason string) error {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	if err := s.db.WithContext(ctx).Model(&mailRow{}).Where("id = ? AND sent_at IS NULL", id).
		Updates(map[string]any{"attempts": gorm.Expr("greatest(attempts + 1, ?)", maxMailAttempts), "last_error": reason}).Error; err != nil {
		return fmt.Errorf("abandon mail %d: %w", id, err)
	}
	return nil
}

// MarkMailFailed records a failed delivery attempt.
func (s *Store) MarkMailFailed(ctx context.Context, id int64, reason string) error {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	if err := s.db.WithContext(ctx).Model(&mailRow{}).Where("id = ?", id).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_error": reason}).Error; err != nil {
		return fmt.Errorf("mark mail %d failed: %w", id, err)
	}
	return nil
}
