package postgres

// Data out (issue 14): the rows of lottery/exports, read with a cursor
// (database/sql rows stream from the connection; nothing collects the
// whole set), bib ranges and their assignment, and the entries list's
// keyset pages.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/exports"
)

// each runs a query and calls scan for every row as it arrives.
func (s *Store) each(ctx context.Context, what string, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

type consentJSON struct {
	D string    `json:"d"`
	V string    `json:"v"`
	T time.Time `json:"t"`
}

// EachEntry visits the event's entries in created order with their answers
// and consents.
func (s *Store) EachEntry(ctx context.Context, eventID int64, fn func(exports.EntryRow) error) error {
	var (
		r        exports.EntryRow
		status   string
		answers  []byte
		consents []byte
	)
	return s.each(ctx, "export entries", func(rows *sql.Rows) error {
		if err := rows.Scan(&r.ID, &r.CreatedAt, &status, &r.SubQueueID, &r.Email, &r.Name, &r.Phone, &r.BirthDate,
			&r.GroupCode, &r.RiskScore, &r.RiskDecision, &r.Tickets, &r.Lang, &answers, &consents); err != nil {
			return fmt.Errorf("export entries: %w", err)
		}
		r.Status, r.Answers, r.Consents = lottery.EntryStatus(status), answersOf(answers), nil
		var cs []consentJSON
		_ = json.Unmarshal(consents, &cs) // built by the query
		for _, c := range cs {
			r.Consents = append(r.Consents, lottery.Consent{Document: c.D, Version: c.V, AcceptedAt: c.T})
		}
		return fn(r)
	}, `SELECT e.id, e.created_at, e.status, e.subqueue_id, e.email, e.name, e.phone, e.birth_date, e.group_code,
			e.risk_score, e.risk_decision, e.tickets, e.lang, e.answers,
			COALESCE((SELECT json_agg(json_build_object('d', c.document, 'v', c.version, 't', c.accepted_at) ORDER BY c.id)
				FROM entry_consents c WHERE c.entry_id = e.id), '[]')
		FROM entries e WHERE e.event_id = ? ORDER BY e.created_at, e.id`, eventID)
}

// EachResult visits entries with a draw place or an offer, by sub-queue
// (display order) and place; an ordered sub-queue's offers by issue time.
func (s *Store) EachResult(ctx context.Context, eventID int64, fn func(exports.ResultRow) error) error {
	var (
		r               exports.ResultRow
		status          string
		pos, wl, round  sql.NullInt64
		selected        sql.NullBool
		offer           sql.NullString
		issued, expires sql.NullTime
	)
	return s.each(ctx, "export results", func(rows *sql.Rows) error {
		if err := rows.Scan(&r.EntryID, &r.Name, &r.Email, &r.SubQueueID, &status, &selected, &pos, &wl, &offer, &round,
			&issued, &expires); err != nil {
			return fmt.Errorf("export results: %w", err)
		}
		r.Status, r.Drawn, r.Selected = lottery.EntryStatus(status), pos.Valid, selected.Bool
		r.Position, r.WaitlistPosition, r.OfferRound, r.OfferStatus = int(pos.Int64), int(wl.Int64), int(round.Int64), offer.String
		r.OfferIssuedAt, r.OfferExpiresAt = nil, nil
		if issued.Valid {
			r.OfferIssuedAt = &issued.Time
		}
		if expires.Valid {
			r.OfferExpiresAt = &expires.Time
		}
		return fn(r)
	}, `SELECT e.id, e.name, e.email, e.subqueue_id, e.status, dr.selected, dr.position, dr.waitlist_position,
			o.status, o.round, o.issued_at, o.expires_at
		FROM entries e
		JOIN subqueues q ON q.id = e.subqueue_id
		JOIN courses c ON c.id = q.course_id
		LEFT JOIN draw_results dr ON dr.entry_id = e.id
		LEFT JOIN offers o ON o.entry_id = e.id
		WHERE e.event_id = ? AND (dr.entry_id IS NOT NULL OR o.id IS NOT NULL)
		ORDER BY c.position, q.position, dr.position NULLS LAST, o.issued_at, e.id`, eventID)
}

// EachStart visits the confirmed entries by bib (unnumbered last), name, id.
func (s *Store) EachStart(ctx context.Context, eventID int64, fn func(exports.StartRow) error) error {
	var (
		r       exports.StartRow
		bib     sql.NullInt64
		answers []byte
	)
	return s.each(ctx, "export start list", func(rows *sql.Rows) error {
		if err := rows.Scan(&bib, &r.EntryID, &r.Name, &r.SubQueueID, &answers); err != nil {
			return fmt.Errorf("export start list: %w", err)
		}
		r.Bib, r.Answers = int(bib.Int64), answersOf(answers)
		return fn(r)
	}, `SELECT bib, id, name, subqueue_id, answers FROM entries
		WHERE event_id = ? AND status = 'confirmed' ORDER BY bib NULLS LAST, name, id`, eventID)
}

// EachPayment visits the payments of the event's offers in created order.
func (s *Store) EachPayment(ctx context.Context, eventID int64, fn func(exports.PaymentRow) error) error {
	var r exports.PaymentRow
	return s.each(ctx, "export payments", func(rows *sql.Rows) error {
		if err := rows.Scan(&r.EntryID, &r.Provider, &r.ID, &r.AmountMinor, &r.Currency, &r.Status, &r.RefundDue,
			&r.Refunded, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return fmt.Errorf("export payments: %w", err)
		}
		return fn(r)
	}, `SELECT o.entry_id, p.provider, p.id, p.amount_minor, p.currency, p.status, p.refund_due_minor, p.refunded_minor,
			p.created_at, p.updated_at
		FROM payments p JOIN offers o ON o.id = p.offer_id
		WHERE o.event_id = ? ORDER BY p.created_at, p.provider, p.id`, eventID)
}

// BibRanges returns the event's sub-queues' ranges by sub-queue id.
func (s *Store) BibRanges(ctx context.Context, eventID int64) (map[int64]exports.BibRange, error) {
	return bibRanges(s.db.WithContext(ctx), eventID, false)
}

func bibRanges(tx *gorm.DB, eventID int64, lock bool) (map[int64]exports.BibRange, error) {
	q := `SELECT id, COALESCE(bib_first, 0) AS first, COALESCE(bib_last, 0) AS last FROM subqueues WHERE event_id = ? ORDER BY id`
	if lock {
		q += " FOR UPDATE"
	}
	var rows []struct {
		ID    int64
		First int
		Last  int
	}
	if err := tx.Raw(q, eventID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("bib ranges: %w", err)
	}
	out := make(map[int64]exports.BibRange, len(rows))
	for _, r := range rows {
		out[r.ID] = exports.BibRange{SubQueueID: r.ID, First: r.First, Last: r.Last}
	}
	return out, nil
}

// ConfirmedBySubQueue counts the event's confirmed entries by sub-queue
// (entries_subqueue_status_idx).
func (s *Store) ConfirmedBySubQueue(ctx context.Context, eventID int64) (map[int64]int, error) {
	var rows []struct {
		SubqueueID int64
		N          int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT e.subqueue_id, count(*) AS n FROM subqueues q
		JOIN entries e ON e.subqueue_id = q.id AND e.status = 'confirmed' WHERE q.event_id = ? GROUP BY e.subqueue_id`,
		eventID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("confirmed count: %w", err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.SubqueueID] = r.N
	}
	return out, nil
}

// SaveBibRanges stores sub-queues' ranges (zero ends clear one) and audits
// the change.
func (s *Store) SaveBibRanges(ctx context.Context, eventID int64, ranges []exports.BibRange, actor lottery.StaffAccount) error {
	return s.Transact(ctx, func(tx *gorm.DB) error {
		saved := []map[string]any{}
		for _, r := range ranges {
			var first, last any
			if r.Set() {
				first, last = r.First, r.Last
			}
			res := tx.Exec(`UPDATE subqueues SET bib_first = ?, bib_last = ? WHERE id = ? AND event_id = ?`,
				first, last, r.SubQueueID, eventID)
			if res.Error != nil {
				return fmt.Errorf("save bib range: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				return lottery.ErrNotFound
			}
			saved = append(saved, map[string]any{"subqueue": r.Key, "first": r.First, "last": r.Last})
		}
		return audit(tx, actor.ID, "bibs.ranges", eventTarget(tx, eventID), map[string]any{"ranges": saved})
	})
}

// eventTarget is the audit target of an event: its slug.
func eventTarget(tx *gorm.DB, eventID int64) string {
	var slug string
	tx.Raw(`SELECT slug FROM events WHERE id = ?`, eventID).Scan(&slug)
	return slug
}

// AssignBibs locks the event's sub-queues (one assignment at a time),
// reads the ranges and the confirmed entries, asks plan, and writes the
// bibs: entries no longer confirmed lose theirs, changed ones are cleared
// first so the unique (event, bib) index never sees a swap half done. An
// event_log record and an audit row tell of it.
func (s *Store) AssignBibs(ctx context.Context, eventID int64, actor lottery.StaffAccount,
	plan func([]exports.BibRange, []exports.BibHolder) (exports.BibPlan, error)) (exports.BibPlan, error) {
	var out exports.BibPlan
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		got, err := bibRanges(tx, eventID, true)
		if err != nil {
			return err
		}
		ranges := make([]exports.BibRange, 0, len(got))
		for _, r := range got {
			ranges = append(ranges, r)
		}
		var holders []exports.BibHolder
		var rows []struct {
			ID         string
			SubqueueID int64
			Name       string
			Bib        sql.NullInt64
		}
		if err := tx.Raw(`SELECT id, subqueue_id, name, bib FROM entries WHERE event_id = ? AND status = 'confirmed'
			ORDER BY id FOR UPDATE`, eventID).Scan(&rows).Error; err != nil {
			return fmt.Errorf("bib holders: %w", err)
		}
		for _, r := range rows {
			holders = append(holders, exports.BibHolder{EntryID: r.ID, SubQueueID: r.SubqueueID, Name: r.Name, Bib: int(r.Bib.Int64)})
		}
		p, err := plan(ranges, holders)
		if err != nil {
			return err
		}
		var ids []string
		var bibs []int64
		for _, h := range holders {
			if b := p.Bibs[h.EntryID]; b != h.Bib {
				ids, bibs = append(ids, h.EntryID), append(bibs, int64(b))
			}
		}
		released := tx.Exec(`UPDATE entries SET bib = NULL WHERE event_id = ? AND bib IS NOT NULL AND status <> 'confirmed'`, eventID)
		if released.Error != nil {
			return fmt.Errorf("release bibs: %w", released.Error)
		}
		if len(ids) > 0 {
			if err := tx.Exec(`UPDATE entries SET bib = NULL WHERE id IN ?`, ids).Error; err != nil {
				return fmt.Errorf("clear bibs: %w", err)
			}
			if _, err := tx.Statement.ConnPool.ExecContext(ctx, `UPDATE entries e SET bib = v.bib
				FROM unnest($1::uuid[], $2::int[]) AS v(id, bib) WHERE e.id = v.id AND e.event_id = $3`, ids, bibs, eventID); err != nil {
				return fmt.Errorf("write bibs: %w", err)
			}
		}
		details := map[string]any{"confirmed": len(holders), "assigned": p.Assigned, "released": released.RowsAffected}
		if err := appendLog(tx, eventID, lottery.LogRecord{Kind: "event.bibs_assigned", Actor: actor.Actor().Label, Details: details}); err != nil {
			return err
		}
		out = p
		return audit(tx, actor.ID, "bibs.assign", eventTarget(tx, eventID), details)
	})
	if err != nil {
		return exports.BibPlan{}, err
	}
	return out, nil
}

// escapeLike escapes LIKE's wildcards in a searched text.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// ListEntries returns one keyset page of the event's entries, newest
// first, on entries_event_created_idx (00030).
func (s *Store) ListEntries(ctx context.Context, eventID int64, f exports.ListFilter) ([]exports.ListRow, error) {
	var rows []struct {
		ID           string
		CreatedAt    time.Time
		Name         string
		Email        string
		Phone        string
		Status       string
		SubqueueID   int64
		RiskScore    int
		RiskDecision string
		Bib          int
	}
	if err := listEntriesQuery(s.db.WithContext(ctx), eventID, f).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	out := make([]exports.ListRow, len(rows))
	for i, r := range rows {
		out[i] = exports.ListRow{ID: r.ID, CreatedAt: r.CreatedAt, Name: r.Name, Email: r.Email, Phone: r.Phone,
			Status: lottery.EntryStatus(r.Status), SubQueueID: r.SubqueueID, RiskScore: r.RiskScore,
			RiskDecision: r.RiskDecision, Bib: r.Bib}
	}
	return out, nil
}

// listEntriesQuery is the entries list's query: the event's rows walked
// backwards on (event_id, created_at, id), filters applied on the way, the
// keyset cursor a row comparison the index bounds.
func listEntriesQuery(db *gorm.DB, eventID int64, f exports.ListFilter) *gorm.DB {
	q := db.Table("entries").
		Select("id, created_at, name, email, phone, status, subqueue_id, risk_score, risk_decision, COALESCE(bib, 0) AS bib").
		Where("event_id = ?", eventID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.SubQueueID != 0 {
		q = q.Where("subqueue_id = ?", f.SubQueueID)
	}
	if f.Text != "" {
		like := "%" + escapeLike(f.Text) + "%"
		or := db.Session(&gorm.Session{NewDB: true}).Where("lower(name) LIKE ?", like).Or("email_key LIKE ?", like)
		if f.EmailKey != "" {
			or = or.Or("email_key = ?", f.EmailKey)
		}
		if f.Phone != "" {
			or = or.Or("phone = ?", f.Phone)
		}
		if f.IDFrom != "" {
			or = or.Or("id BETWEEN ? AND ?", f.IDFrom, f.IDTo)
		}
		q = q.Where(or)
	}
	if !f.AfterTime.IsZero() {
		q = q.Where("(created_at, id) < (?, ?)", f.AfterTime, f.AfterID)
	}
	return q.Order("created_at DESC, id DESC").Limit(f.Limit)
}

// ExplainListEntries is PostgreSQL's plan for a page of the entries list
// (EXPLAIN, not run): tests and operators check it walks
// entries_event_created_idx rather than sorting the event's entries.
func (s *Store) ExplainListEntries(ctx context.Context, eventID int64, f exports.ListFilter) (string, error) {
	query := s.db.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var rows []map[string]any
		return listEntriesQuery(tx, eventID, f).Scan(&rows)
	})
	var plan []string
	if err := s.db.WithContext(ctx).Raw("EXPLAIN " + query).Scan(&plan).Error; err != nil {
		return "", fmt.Errorf("explain entries list: %w", err)
	}
	return strings.Join(plan, "\n"), nil
}
