package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/selfservice"
)

var _ selfservice.Store = (*Store)(nil)

// SaveMeCode stores an address's "my entries" code, and queues its mail
// when the address has an entry whose data is kept (selfservice.Store).
// The code is stored either way, so a try of a code answers the same for
// an address with entries and one without (wrong, then too many tries): the
// try route is no oracle of who applied. Codes of a day ago are dropped
// here, so addresses without entries do not pile up.
func (s *Store) SaveMeCode(ctx context.Context, c selfservice.MeCode, m lottery.Mail) (int64, bool, error) {
	var id int64
	var mailed bool
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		id, mailed = 0, false
		if err := tx.Exec(`DELETE FROM me_codes WHERE expires_at < ?`, c.ExpiresAt.Add(-24*time.Hour).UTC()).Error; err != nil {
			return fmt.Errorf("drop old my-entries codes: %w", err)
		}
		if err := tx.Exec(`INSERT INTO me_codes (email_key, code_hash, attempts, expires_at, used_at, created_at)
			VALUES (?, ?, 0, ?, NULL, now())
			ON CONFLICT (email_key) DO UPDATE SET code_hash = EXCLUDED.code_hash, attempts = 0,
				expires_at = EXCLUDED.expires_at, used_at = NULL, created_at = now()`,
			c.EmailKey, c.CodeHash, c.ExpiresAt.UTC()).Error; err != nil {
			return fmt.Errorf("save my-entries code: %w", err)
		}
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM (SELECT 1 FROM entries WHERE email_key = ? AND anonymized_at IS NULL LIMIT 1) x`,
			c.EmailKey).Scan(&n).Error; err != nil {
			return fmt.Errorf("find entries: %w", err)
		}
		if n == 0 {
			return nil
		}
		var err error
		id, err = insertMail(tx, m)
		mailed = err == nil
		return err
	})
	return id, mailed, err
}

// TryMeCode counts one try of an address's code under its row lock and
// consumes it when lottery.CheckMeCode says so (selfservice.Store). The try
// is committed whatever the verdict, so wrong guesses run into the cap.
func (s *Store) TryMeCode(ctx context.Context, emailKey string, hash []byte, now time.Time, maxAttempts int) (lottery.CodeVerdict, error) {
	var v lottery.CodeVerdict
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var rows []struct {
			Match     bool
			Used      bool
			Attempts  int
			ExpiresAt time.Time
		}
		if err := tx.Raw(`SELECT code_hash = ? AS match, used_at IS NOT NULL AS used, attempts, expires_at
			FROM me_codes WHERE email_key = ? FOR UPDATE`, hash, emailKey).Scan(&rows).Error; err != nil {
			return fmt.Errorf("load my-entries code: %w", err)
		}
		if len(rows) == 0 {
			v = lottery.CodeVerdict{Err: lottery.ErrNoCode}
			return nil
		}
		r := rows[0]
		v = lottery.CheckMeCode(lottery.CodeTry{Match: r.Match, Used: r.Used, Attempts: r.Attempts, ExpiresAt: r.ExpiresAt}, now, maxAttempts)
		used := any(nil)
		if v.Consumed {
			used = now.UTC()
		}
		if err := tx.Exec(`UPDATE me_codes SET attempts = attempts + 1, used_at = coalesce(used_at, ?::timestamptz) WHERE email_key = ?`,
			used, emailKey).Error; err != nil {
			return fmt.Errorf("count my-entries try: %w", err)
		}
		return nil
	})
	return v, err
}

// EntriesByEmail lists an address's kept entries, newest first.
func (s *Store) EntriesByEmail(ctx context.Context, emailKey string, limit int) ([]lottery.Entry, error) {
	var rows []entryRow
	if err := entrySelect(s.db.WithContext(ctx)).Where("e.email_key = ? AND e.anonymized_at IS NULL", emailKey).
		Order("e.created_at DESC, e.id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("entries by address: %w", err)
	}
	return fromEntryRows(rows), nil
}

// lockedEntry is an entry and its event as the self-service changes see
// them under lock.
type lockedEntry struct {
	ID       string
	EventID  int64
	Status   string
	EvStatus string
	OpensAt  time.Time
	ClosesAt time.Time
	Offers   string // the statuses of its offers, comma-separated
	Anon     bool
}

// lockEntry locks an entry's offers, then the entry (the order offer
// changes lock in), and shares its event's row, so a close or freeze waits
// for the change or the change sees it. ErrNotFound.
func lockEntry(tx *gorm.DB, entryID string) (lockedEntry, lottery.Event, error) {
	if err := tx.Exec(`SELECT 1 FROM offers WHERE entry_id = ? FOR UPDATE`, entryID).Error; err != nil {
		return lockedEntry{}, lottery.Event{}, fmt.Errorf("lock offers: %w", err)
	}
	var rows []lockedEntry
	if err := tx.Raw(`SELECT e.id::text AS id, e.event_id, e.status, ev.status AS ev_status, ev.opens_at, ev.closes_at,
			array_to_string(ARRAY(SELECT o.status FROM offers o WHERE o.entry_id = e.id), ',') AS offers, e.anonymized_at IS NOT NULL AS anon
		FROM entries e JOIN events ev ON ev.id = e.event_id WHERE e.id = ? FOR UPDATE OF e FOR SHARE OF ev`, entryID).
		Scan(&rows).Error; err != nil {
		return lockedEntry{}, lottery.Event{}, fmt.Errorf("lock entry: %w", err)
	}
	if len(rows) == 0 {
		return lockedEntry{}, lottery.Event{}, lottery.ErrNotFound
	}
	r := rows[0]
	return r, lottery.Event{ID: r.EventID, Status: lottery.EventStatus(r.EvStatus), OpensAt: r.OpensAt, ClosesAt: r.ClosesAt}, nil
}

func offerStatuses(list string) []lottery.OfferStatus {
	var out []lottery.OfferStatus
	for _, s := range strings.Split(list, ",") {
		if s == "" {
			continue
		}
		out = append(out, lottery.OfferStatus(s))
	}
	return out
}

// Withdraw moves an entry to withdrawn by lottery.CheckWithdraw, with its
// log record and mail intent, in one transaction (selfservice.Store). The
// freeze reads only received entries (and the live odds count the draw's
// statuses), so a withdrawn entry is in no frozen list, draw or count.
func (s *Store) Withdraw(ctx context.Context, entryID string, now time.Time) error {
	return s.Transact(ctx, func(tx *gorm.DB) error {
		e, ev, err := lockEntry(tx, entryID)
		if err != nil {
			return err
		}
		already, err := lottery.CheckWithdraw(ev, lottery.EntryStatus(e.Status), now)
		if err != nil || already {
			return err
		}
		// An entry in review may still hold an ordered sub-queue's offer.
		if err := lottery.CheckErase(offerStatuses(e.Offers)); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE entries SET status = 'withdrawn', updated_at = ? WHERE id = ?`, now.UTC(), e.ID).Error; err != nil {
			return fmt.Errorf("withdraw: %w", err)
		}
		if err := appendLog(tx, e.EventID, lottery.LogRecord{Kind: "entry.withdrawn", EntryID: e.ID, FromStatus: e.Status,
			ToStatus: string(lottery.EntryWithdrawn), Actor: "runner"}); err != nil {
			return err
		}
		return queueEntryIntents(tx.Statement.Context, tx, mails.EntryWithdrawn, []string{e.ID}, "")
	})
}

// Erase anonymizes one entry on its runner's request (selfservice.Store):
// refused while it holds or pays a slot (lottery.CheckErase); before the
// freeze it also leaves the draw (lottery.ErasedStatus).
func (s *Store) Erase(ctx context.Context, entryID string, now time.Time) error {
	return s.Transact(ctx, func(tx *gorm.DB) error {
		e, ev, err := lockEntry(tx, entryID)
		if err != nil {
			return err
		}
		if e.Anon {
			return nil
		}
		if err := lottery.CheckErase(offerStatuses(e.Offers)); err != nil {
			return err
		}
		to := lottery.ErasedStatus(ev, lottery.EntryStatus(e.Status))
		if to != lottery.EntryStatus(e.Status) {
			if err := tx.Exec(`UPDATE entries SET status = ?, updated_at = ? WHERE id = ?`, string(to), now.UTC(), e.ID).Error; err != nil {
				return fmt.Errorf("erase: %w", err)
			}
		}
		if _, err := anonymize(tx, now, "e.id = ?", e.ID); err != nil {
			return err
		}
		if err := appendLog(tx, e.EventID, lottery.LogRecord{Kind: "entry.erased", EntryID: e.ID, FromStatus: e.Status,
			ToStatus: string(to), Actor: "runner", Details: map[string]any{"reason": "runner_request"}}); err != nil {
			return err
		}
		return audit(tx, 0, "entry.erase", e.ID, map[string]any{"actor": "runner"})
	})
}

// Anonymized reports whether an entry's personal data was replaced.
func (s *Store) Anonymized(ctx context.Context, entryID string) (bool, error) {
	var rows []bool
	if err := s.db.WithContext(ctx).Raw(`SELECT anonymized_at IS NOT NULL FROM entries WHERE id = ?`, entryID).
		Scan(&rows).Error; err != nil {
		return false, fmt.Errorf("anonymized: %w", err)
	}
	return len(rows) > 0 && rows[0], nil
}

// RetentionCandidates lists events whose retention start (the end of race
// day in the event's zone, else registration's close: lottery.RetentionStart)
// is at or before cutoff and that still keep entries.
func (s *Store) RetentionCandidates(ctx context.Context, cutoff time.Time, limit int) ([]lottery.Event, error) {
	var rows []struct {
		ID       int64
		Slug     string
		Status   string
		TimeZone string
		OpensAt  time.Time
		ClosesAt time.Time
		RaceDate string
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT ev.id, ev.slug, ev.status, ev.time_zone, ev.opens_at, ev.closes_at,
			coalesce(ev.race_date::text, '') AS race_date FROM events ev
		WHERE ev.status <> 'draft'
			AND coalesce(((ev.race_date + 1)::timestamp AT TIME ZONE ev.time_zone), ev.closes_at) <= ?
			AND EXISTS (SELECT 1 FROM entries e WHERE e.event_id = ev.id AND e.anonymized_at IS NULL)
		ORDER BY ev.closes_at, ev.id LIMIT ?`, cutoff.UTC(), limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("retention candidates: %w", err)
	}
	out := make([]lottery.Event, len(rows))
	for i, r := range rows {
		out[i] = lottery.Event{ID: r.ID, Slug: r.Slug, Status: lottery.EventStatus(r.Status), TimeZone: r.TimeZone,
			OpensAt: r.OpensAt, ClosesAt: r.ClosesAt, RaceDate: r.RaceDate}
	}
	return out, nil
}

// AnonymizeEvent anonymizes an event's kept entries (and its waiting-room
// tickets) with one log and one audit record, actor "system". The tickets
// its entries earned in a series are kept first, as pseudonyms (keepEarned).
func (s *Store) AnonymizeEvent(ctx context.Context, eventID int64, now time.Time) (int, error) {
	var n int
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		// Earned tickets first, while the keys are there (series_earned).
		earned, err := s.keepEarned(tx, eventID)
		if err != nil {
			return err
		}
		ids, err := anonymize(tx, now, "e.event_id = ?", eventID)
		if err != nil {
			return err
		}
		// Tickets that never became an entry hold an address and a device too.
		if err := tx.Exec(`UPDATE queue_tickets SET email_key = 'erased:' || id::text, client_ip = NULL, user_agent = '',
			device_id = '' WHERE event_id = ? AND email_key NOT LIKE 'erased:%'`, eventID).Error; err != nil {
			return fmt.Errorf("anonymize tickets: %w", err)
		}
		if err := tx.Exec(`UPDATE otp_requests SET email_key = 'erased:' || id::text, client_ip = NULL, user_agent = ''
			WHERE event_id = ? AND email_key NOT LIKE 'erased:%'`, eventID).Error; err != nil {
			return fmt.Errorf("anonymize code requests: %w", err)
		}
		n = len(ids)
		details := map[string]any{"entries": n, "reason": "retention", "actor": "system", "earned_kept": earned}
		if err := appendLog(tx, eventID, lottery.LogRecord{Kind: "entries.anonymized", Actor: "system:retention",
			Details: details}); err != nil {
			return err
		}
		var slug string
		if err := tx.Raw("SELECT slug FROM events WHERE id = ?", eventID).Row().Scan(&slug); err != nil {
			return fmt.Errorf("anonymize: %w", err)
		}
		return audit(tx, 0, "retention.anonymize", slug, details)
	})
	return n, err
}

// anonymize replaces the personal data of the kept entries that cond
// selects (a condition on entries e) with values the table's checks
// accept and that collide with nothing: the identity keys become the
// entry's own id (so the per-event unique keys hold and free the person's),
// the phone a number in +999, which no country has. Statuses, tickets,
// groups, risk scores, clusters, draw rows and artifacts stay. It also
// clears what other tables keep of the same person for the entry's event:
// code requests (client address, user agent), waiting-room tickets, mail
// (unsent mail is dropped: there is no one to send it to), messages of
// disputes and appeals, and the "my entries" code. It returns the ids.
//
// This is the one statement that decides what "anonymized" means; every
// new column holding personal data is cleared here.
func anonymize(tx *gorm.DB, now time.Time, cond string, args ...any) ([]string, error) {
	var old []struct {
		ID       string
		EventID  int64
		EmailKey string
		Email    string
	}
	if err := tx.Raw(`SELECT e.id::text AS id, e.event_id, e.email_key, e.email FROM entries e
		WHERE e.anonymized_at IS NULL AND `+cond+` ORDER BY e.id FOR UPDATE OF e`, args...).Scan(&old).Error; err != nil {
		return nil, fmt.Errorf("anonymize: %w", err)
	}
	if len(old) == 0 {
		return nil, nil
	}
	ids, events, keys, emails := make([]string, len(old)), make([]int64, len(old)), make([]string, len(old)), make([]string, len(old))
	for i, o := range old {
		ids[i], events[i], keys[i], emails[i] = o.ID, o.EventID, o.EmailKey, o.Email
	}
	db := tx.Statement.ConnPool
	ctx := tx.Statement.Context
	// A group code is the runners' own word ("kim-family"): each group of
	// these entries gets a random one instead, the same for all its members
	// here, so a whole event's groups stay groups (the published lists
	// carry their keyed pseudonyms, fixed at freeze).
	if _, err := db.ExecContext(ctx, `UPDATE entries e SET group_code = g.code
		FROM (SELECT event_id, group_code, 'x' || substr(md5(random()::text || clock_timestamp()::text), 1, 24) AS code
			FROM entries WHERE id = ANY($1::uuid[]) AND group_code <> '' GROUP BY event_id, group_code) g
		WHERE e.id = ANY($1::uuid[]) AND e.event_id = g.event_id AND e.group_code = g.group_code`, ids); err != nil {
		return nil, fmt.Errorf("anonymize group codes: %w", err)
	}
	// Answers (emergency contacts, sizes, clubs) are personal data too.
	if _, err := db.ExecContext(ctx, `UPDATE entries SET name = 'erased', answers = '{}'::jsonb,
			email = 'erased-' || id::text || '@erased.invalid', email_key = 'erased:' || id::text,
			phone = '+999' || lpad(nextval('anonymized_phone_seq')::text, 11, '0'),
			birth_date = DATE '1900-01-01', person_key = '', client_ip = NULL, user_agent = '', device_id = '',
			fingerprint = '', signals = '{}'::jsonb, claim_note = '', anonymized_at = $2, updated_at = $2
		WHERE id = ANY($1::uuid[])`, ids, now.UTC()); err != nil {
		return nil, fmt.Errorf("anonymize entries: %w", err)
	}
	steps := []struct {
		what, sql string
		args      []any
	}{
		{"code requests", `UPDATE otp_requests r SET email_key = 'erased:' || r.id::text, client_ip = NULL, user_agent = ''
			FROM unnest($1::bigint[], $2::text[]) AS p(event_id, email_key)
			WHERE r.event_id = p.event_id AND r.email_key = p.email_key`, []any{events, keys}},
		{"waiting-room tickets", `UPDATE queue_tickets t SET email_key = 'erased:' || t.id::text, client_ip = NULL,
			user_agent = '', device_id = ''
			FROM unnest($1::bigint[], $2::text[]) AS p(event_id, email_key)
			WHERE t.event_id = p.event_id AND t.email_key = p.email_key`, []any{events, keys}},
		{"apply codes", `DELETE FROM otp_codes c USING unnest($1::bigint[], $2::text[]) AS p(event_id, email_key)
			WHERE c.event_id = p.event_id AND c.email_key = p.email_key`, []any{events, keys}},
		{"unsent mail", `DELETE FROM outbox WHERE entry_id = ANY($1::uuid[]) AND sent_at IS NULL`, []any{ids}},
		{"sent mail", `UPDATE outbox SET to_addr = 'erased@erased.invalid', subject = '', body = '[erased]'
			WHERE entry_id = ANY($1::uuid[]) OR (entry_id IS NULL AND event_id = ANY($2::bigint[]) AND lower(to_addr) = ANY($3::text[]))
				OR (entry_id IS NULL AND event_id IS NULL AND kind IN ('otp', 'me') AND lower(to_addr) = ANY($3::text[]))`,
			[]any{ids, events, lower(emails)}},
		{"disputes", `UPDATE disputes SET message = '[erased]' WHERE entry_id = ANY($1::uuid[])`, []any{ids}},
		{"appeals", `UPDATE appeals SET message = '[erased]' WHERE entry_id = ANY($1::uuid[])`, []any{ids}},
		{"saved cards", `UPDATE entry_cards SET payment_method = '', customer = '', fingerprint = '', last4 = ''
			WHERE entry_id = ANY($1::uuid[])`, []any{ids}}, // issue 15: card on file
		{"my-entries code", `DELETE FROM me_codes WHERE email_key = ANY($1::text[])
			AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.email_key = me_codes.email_key AND e.anonymized_at IS NULL)`,
			[]any{keys}},
	}
	for _, st := range steps {
		if _, err := db.ExecContext(ctx, st.sql, st.args...); err != nil {
			return nil, fmt.Errorf("anonymize %s: %w", st.what, err)
		}
	}
	return ids, nil
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}
