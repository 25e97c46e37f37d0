package postgres

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/registration"
)

type entryRow struct {
	ID                   string `gorm:"primaryKey"`
	EventID              int64
	SubqueueID           int64
	Name                 string
	Email                string
	EmailKey             string
	Phone                string
	BirthDate            time.Time
	Tickets              int
	PreviousApplications int
	RecordedApplications int
	ClaimedApplications  *int
	ClaimNote            string
	ClaimStatus          string
	TicketRecord         []byte `gorm:"type:jsonb"`
	GroupCode            string
	Status               string
	Lang                 string
	Answers              []byte `gorm:"type:jsonb"`
	RiskScore            int
	RiskDecision         string
	RiskReasons          []byte `gorm:"type:jsonb"`
	CreatedAt            time.Time
	UpdatedAt            time.Time
	PersonKey            string
	ClientIP             *string `gorm:"column:client_ip"`
	UserAgent            string
	DeviceID             string
	Fingerprint          string
	Signals              []byte `gorm:"type:jsonb"`
	ClusterID            *string
	PickedUpAt           *time.Time // set once by check-in (migration 00033)
	// Joined, read-only.
	SubqueueKey     string `gorm:"->;column:subqueue_key"`
	EventSlug       string `gorm:"->;column:event_slug"`
	EffectiveStatus string `gorm:"->;column:effective_status"`
}

func (entryRow) TableName() string { return "entries" }

// riskDoc is how an assessment is stored: the reasons plus the rules version,
// so a past decision can be explained later.
type riskDoc struct {
	Reasons      []antibot.Reason `json:"reasons"`
	RulesVersion string           `json:"rules_version"`
}

func fromEntryRow(r entryRow) lottery.Entry {
	var doc riskDoc
	_ = json.Unmarshal(r.RiskReasons, &doc) // written by us; a bad document only loses the explanation
	var rec lottery.TicketRecord
	_ = json.Unmarshal(r.TicketRecord, &rec) // written by us, likewise
	return lottery.Entry{ID: r.ID, EventID: r.EventID, SubQueueID: r.SubqueueID, SubQueue: r.SubqueueKey,
		EventSlug: r.EventSlug, Name: r.Name, Email: r.Email, EmailKey: r.EmailKey, Phone: r.Phone,
		BirthDate: r.BirthDate, Tickets: r.Tickets, PreviousApplications: r.PreviousApplications,
		RecordedApplications: r.RecordedApplications, ClaimedApplications: r.ClaimedApplications, ClaimNote: r.ClaimNote,
		ClaimStatus: cmp.Or(r.ClaimStatus, lottery.ClaimNone), TicketRecord: rec,
		GroupCode: r.GroupCode, Status: lottery.EntryStatus(cmp.Or(r.EffectiveStatus, r.Status)), Lang: cmp.Or(r.Lang, "en"),
		Risk: antibot.Assessment{Score: r.RiskScore, Decision: antibot.Decision(r.RiskDecision), Reasons: doc.Reasons,
			RulesVersion: doc.RulesVersion},
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, PersonKey: r.PersonKey, UserAgent: r.UserAgent,
		DeviceID: r.DeviceID, Fingerprint: r.Fingerprint, Signals: r.Signals, ClientIP: deref(r.ClientIP),
		ClusterID: deref(r.ClusterID), Answers: answersOf(r.Answers), PickedUpAt: r.PickedUpAt}
}

// entryLang is the stored language of a new entry: "ko" or "en".
func entryLang(l string) string {
	if l == "ko" {
		return "ko"
	}
	return "en"
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// effectiveStatus derives the draw statuses: a received entry is eligible
// once its row is in draw_entries, selected or waitlisted once it is in
// draw_results. Later changes (offers) are stored on the entry itself.
const effectiveStatus = `CASE WHEN e.status = 'received' AND dr.entry_id IS NOT NULL
	THEN CASE WHEN dr.selected THEN 'selected' ELSE 'waitlisted' END
	WHEN e.status = 'received' AND de.entry_id IS NOT NULL THEN 'eligible' ELSE e.status END`

// Entry returns one entry with its sub-queue key and event slug.
func (s *Store) Entry(ctx context.Context, id string) (lottery.Entry, error) {
	var r entryRow
	err := entrySelect(s.db.WithContext(ctx)).Where("e.id = ?", id).Take(&r).Error
	if err != nil {
		return lottery.Entry{}, notFound(err)
	}
	return fromEntryRow(r), nil
}

var _ registration.Store = (*Store)(nil)

// SaveOTP replaces the person's code and queues its mail in one transaction.
func (s *Store) SaveOTP(ctx context.Context, o registration.OTPRecord, m lottery.Mail) (int64, error) {
	var id int64
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO otp_codes (event_id, email_key, code_hash, attempts, expires_at, used_at, created_at)
			VALUES (?, ?, ?, 0, ?, NULL, now())
			ON CONFLICT (event_id, email_key) DO UPDATE SET code_hash = EXCLUDED.code_hash, attempts = 0,
				expires_at = EXCLUDED.expires_at, used_at = NULL, used_by = NULL, created_at = now()`,
			o.EventID, o.EmailKey, o.CodeHash, o.ExpiresAt).Error; err != nil {
			return fmt.Errorf("save otp: %w", err)
		}
		if err := insertOTPRequest(tx, o, true); err != nil {
			return err
		}
		var err error
		id, err = insertMail(tx, m)
		return err
	})
	return id, err
}

// RefuseOTP records a refused code request.
func (s *Store) RefuseOTP(ctx context.Context, o registration.OTPRecord) error {
	return insertOTPRequest(s.db.WithContext(ctx), o, false)
}

func insertOTPRequest(tx *gorm.DB, o registration.OTPRecord, mailed bool) error {
	risk, _ := json.Marshal(riskDoc{Reasons: o.Risk.Reasons, RulesVersion: o.Risk.RulesVersion})
	if err := tx.Exec(`INSERT INTO otp_requests (event_id, email_key, requested_at, mailed, risk_score, risk_decision,
			risk_reasons, client_ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?::inet, ?)`,
		o.EventID, o.EmailKey, o.RequestedAt.UTC(), mailed, o.Risk.Score, cmp.Or(string(o.Risk.Decision), "accept"),
		string(risk), nullIP(o.ClientIP), o.UserAgent).Error; err != nil {
		return fmt.Errorf("record otp request: %w", err)
	}
	return nil
}

// OTPRequests lists an address's latest code requests, newest first.
func (s *Store) OTPRequests(ctx context.Context, eventID int64, emailKey string, limit int) ([]lottery.OTPRequest, error) {
	var rows []struct {
		RequestedAt  time.Time
		Mailed       bool
		RiskScore    int
		RiskDecision string
		RiskReasons  []byte
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT requested_at, mailed, risk_score, risk_decision, risk_reasons
		FROM otp_requests WHERE event_id = ? AND email_key = ? ORDER BY requested_at DESC, id DESC LIMIT ?`,
		eventID, emailKey, limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("otp requests: %w", err)
	}
	out := make([]lottery.OTPRequest, 0, len(rows))
	for _, r := range rows {
		var doc riskDoc
		_ = json.Unmarshal(r.RiskReasons, &doc) // written by us; a bad document only loses the explanation
		out = append(out, lottery.OTPRequest{RequestedAt: r.RequestedAt.UTC(), Mailed: r.Mailed,
			Risk: antibot.Assessment{Score: r.RiskScore, Decision: antibot.Decision(r.RiskDecision), Reasons: doc.Reasons,
				RulesVersion: doc.RulesVersion}})
	}
	return out, nil
}

// tryCode counts one try of the person's e-mail code and consumes the code
// when lottery.CodeConsumes says so, in one conditional UPDATE: the row
// lock orders concurrent tries, so two requests never both consume a code.
// It returns the code as the try found it (before its attempt counted),
// whether the person has a code at all, and whether this try consumed it.
// used_by names the entry that consumed the code, so "this request
// consumed it" is exact even for requests in the same microsecond.
func tryCode(tx *gorm.DB, hash []byte, e lottery.Entry, now time.Time, maxAttempts int) (lottery.CodeTry, bool, bool, error) {
	var r struct {
		Match     bool
		Consumed  bool
		UsedBy    bool
		Attempts  int
		ExpiresAt time.Time
	}
	// The CASE is lottery.CodeConsumes: unused, the right code, fewer than
	// the allowed tries before this one, not expired.
	res := tx.Raw(`UPDATE otp_codes SET attempts = attempts + 1,
			used_at = CASE WHEN used_by IS NULL AND code_hash = @h AND attempts < @max AND expires_at > @now
				THEN @now ELSE used_at END,
			used_by = CASE WHEN used_by IS NULL AND code_hash = @h AND attempts < @max AND expires_at > @now
				THEN CAST(@id AS uuid) ELSE used_by END
		WHERE event_id = @ev AND email_key = @key
		RETURNING code_hash = @h AS match, used_by IS NOT DISTINCT FROM CAST(@id AS uuid) AS consumed,
			used_by IS NOT NULL AS used_by, attempts, expires_at`,
		map[string]any{"h": hash, "max": maxAttempts, "now": now, "ev": e.EventID, "key": e.EmailKey, "id": e.ID}).
		Scan(&r)
	if res.Error != nil {
		return lottery.CodeTry{}, false, false, fmt.Errorf("check otp: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return lottery.CodeTry{}, false, false, nil
	}
	// RETURNING shows the row after this try: undo the try to see the code
	// as it found it.
	try := lottery.CodeTry{Match: r.Match, Used: r.UsedBy && !r.Consumed, Attempts: r.Attempts - 1,
		ExpiresAt: r.ExpiresAt}
	return try, true, r.Consumed, nil
}

type idemRow struct {
	RequestHash []byte
	EntryID     string
	Status      string
	SubqueueKey string
}

// Apply stores an application: the common one (no group code, card or
// admission) by group commit with the applies arriving alongside it in one
// statement (applybatch.go), the rest by applyTx. Either way the outcome is
// the one applyTx would give, and it is returned only after the commit.
func (s *Store) Apply(ctx context.Context, a registration.ApplyTx) (registration.ApplyOutcome, error) {
	if !s.applies.off && batchable(a) {
		return s.applies.submit(ctx, s, a)
	}
	return s.applyTx(ctx, a)
}

// applyTx stores an application in one transaction: replay check, code check
// (a wrong code's attempt is committed), group limits under an advisory
// lock, the entry insert guarded by the window and the one-per-person key,
// the log record and the idempotency record.
func (s *Store) applyTx(ctx context.Context, a registration.ApplyTx) (registration.ApplyOutcome, error) {
	var out registration.ApplyOutcome
	var committedErr error // failures whose writes (a code attempt) must still commit
	now := a.Now.UTC().Truncate(time.Microsecond)
	e := a.Entry
	var issued []lottery.OfferIssue // the cascade may offer a slot to this entry or one ahead of it
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		committedErr, e.Status, e.Risk, issued = nil, a.Entry.Status, a.Entry.Risk, nil
		if done, err := tryReplay(tx, a, &out); done || err != nil {
			return err
		}

		try, found, consumed, err := tryCode(tx, a.OTPHash, e, now, a.MaxOTPAttempts)
		if err != nil {
			return err
		}
		if !found {
			return lottery.ErrNoCode
		}
		v := lottery.CheckCode(try, now, a.MaxOTPAttempts)
		if v.Consumed != consumed {
			return fmt.Errorf("check otp: the statement and lottery.CodeConsumes disagree (consumed %t)", consumed)
		}
		if try.Match && now.Before(try.ExpiresAt) && !consumed {
			// The right code, already used. A concurrent retry with the same
			// Idempotency-Key waited on the code's row lock for the request
			// that used it: answer with that request's receipt, however many
			// of the retries have counted an attempt meanwhile.
			if done, err := tryReplay(tx, a, &out); done || err != nil {
				return err
			}
		}
		switch {
		case v.Consumed:
			// go on to the insert
		case v.UsedElsewhere:
			// A duplicate when the request that used the code made its entry.
			var n int64
			if err := tx.Raw("SELECT count(*) FROM entries WHERE event_id = ? AND email_key = ?", e.EventID, e.EmailKey).
				Scan(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return lottery.ErrDuplicateEntry
			}
			return lottery.ErrCodeUsed
		default:
			committedErr = v.Err
			return nil // commit the attempt
		}

		if e.GroupCode != "" {
			if err := checkGroup(tx, e, a.MaxGroupSize); err != nil {
				return err
			}
		}
		if a.Card != nil { // issue 15: card on file (cards.go)
			if err := checkCard(tx, &e, a.Card, a.EntriesPerCard); err != nil {
				return err
			}
		}

		var ids []string
		risk, _ := json.Marshal(riskDoc{Reasons: e.Risk.Reasons, RulesVersion: e.Risk.RulesVersion})
		record, _ := json.Marshal(e.TicketRecord)
		signals := "{}"
		if len(e.Signals) > 0 {
			signals = string(e.Signals)
		}
		var ip any
		if net.ParseIP(e.ClientIP) != nil {
			ip = e.ClientIP
		}
		// ON CONFLICT without a target: any identity key (e-mail, phone,
		// person) already taken in this event means a duplicate.
		if err := tx.Raw(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, tickets,
				previous_applications, group_code, status, risk_score, risk_decision, risk_reasons, created_at, updated_at,
				person_key, client_ip, user_agent, device_id, fingerprint, signals,
				recorded_applications, claimed_applications, claim_note, claim_status, ticket_record, lang, answers)
			SELECT ?::uuid, ?::bigint, ?::bigint, ?::text, ?::text, ?::text, ?::text, ?::date, ?::int, ?::int, ?::text, ?::text,
				?::int, ?::text, ?::jsonb, ?::timestamptz, ?::timestamptz, ?::text, ?::inet, ?::text, ?::text, ?::text, ?::jsonb,
				?::int, ?::int, ?::text, ?::text, ?::jsonb, ?::text, ?::jsonb
			WHERE EXISTS (SELECT 1 FROM events WHERE id = ? AND status = 'published' AND opens_at <= ? AND closes_at > ?)
			ON CONFLICT DO NOTHING
			RETURNING id`,
			e.ID, e.EventID, e.SubQueueID, e.Name, e.Email, e.EmailKey, e.Phone, e.BirthDate.Format(time.DateOnly),
			e.Tickets, e.PreviousApplications, e.GroupCode, string(e.Status), e.Risk.Score, string(e.Risk.Decision),
			string(risk), now, now, e.PersonKey, ip, e.UserAgent, e.DeviceID, e.Fingerprint, signals,
			e.RecordedApplications, e.ClaimedApplications, e.ClaimNote, cmp.Or(e.ClaimStatus, lottery.ClaimNone), string(record),
			entryLang(e.Lang), answersDoc(e.Answers), e.EventID, now, now).Scan(&ids).Error; err != nil {
			return fmt.Errorf("insert entry: %w", err)
		}
		if len(ids) == 0 {
			return whyNotInserted(tx, e, now)
		}
		if a.Card != nil {
			if err := insertCard(tx, e, a.Card); err != nil {
				return err
			}
		}
		if err := insertConsents(tx, e.ID, e.Consents); err != nil {
			return err
		}
		if err := appendLog(tx, e.EventID, lottery.LogRecord{Kind: "entry.created", EntryID: e.ID,
			ToStatus: string(e.Status), Actor: "runner",
			Details: map[string]any{"subqueue": e.SubQueue, "risk_score": e.Risk.Score, "decision": e.Risk.Decision,
				"tickets": e.Tickets, "recorded_applications": e.RecordedApplications, "claim": e.ClaimStatus}}); err != nil {
			return err
		}
		if a.Admission != nil {
			if err := useAdmission(tx, a.Admission.TicketID, e, now); err != nil {
				return err
			}
			if e.Status == lottery.EntryWaitlisted {
				offers, mails, err := cascade(tx.Statement.Context, tx, insertRows(tx.Statement.Context, tx), e.EventID,
					e.SubQueueID, a.Admission.Offers)
				if err != nil {
					return err
				}
				issued = pair(offers, mails)
				for _, o := range offers {
					if o.EntryID == e.ID {
						e.Status = lottery.EntryOffered
					}
				}
			}
		}
		// The receipt (or, for an entry refused at apply, the rejection
		// with its reason category and the appeal link), owed exactly when
		// the entry commits.
		kind, detail := mails.EntryReceived, string(e.Status) // the receipt tells the status at apply
		if e.Status == lottery.EntryRejected {
			kind, detail = mails.EntryRejected, "" // the category comes from the entry's reasons
		}
		receipt, err := queueEntryIntentIDs(tx.Statement.Context, tx, kind, []string{e.ID}, "", detail)
		if err != nil {
			return err
		}
		if a.IdempotencyKey != "" {
			res := tx.Exec(`INSERT INTO idempotency_keys (event_id, key, request_hash, entry_id, status)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, e.EventID, a.IdempotencyKey, a.RequestHash, e.ID, string(e.Status))
			if res.Error != nil {
				return fmt.Errorf("store idempotency key: %w", res.Error)
			}
			if res.RowsAffected == 0 { // a concurrent request for another person took the key
				return lottery.ErrIdempotencyMismatch
			}
		}
		out = registration.ApplyOutcome{EntryID: e.ID, Status: e.Status, SubQueue: e.SubQueue, Issued: issued, Mails: receipt}
		return nil
	})
	if err != nil {
		return registration.ApplyOutcome{}, err
	}
	if committedErr != nil {
		return registration.ApplyOutcome{}, committedErr
	}
	return out, nil
}

// tryReplay answers from an earlier request with the same Idempotency-Key:
// done is true when one exists (out holds its answer, or err the mismatch).
func tryReplay(tx *gorm.DB, a registration.ApplyTx, out *registration.ApplyOutcome) (done bool, err error) {
	if a.IdempotencyKey == "" {
		return false, nil
	}
	prev, ok, err := findIdempotent(tx, a.Entry.EventID, a.IdempotencyKey)
	if err != nil || !ok {
		return false, err
	}
	return true, replay(prev, a.RequestHash, out)
}

func findIdempotent(tx *gorm.DB, eventID int64, key string) (idemRow, bool, error) {
	var rows []idemRow
	err := tx.Raw(`SELECT k.request_hash, k.entry_id, k.status, q.key AS subqueue_key
		FROM idempotency_keys k JOIN entries e ON e.id = k.entry_id JOIN subqueues q ON q.id = e.subqueue_id
		WHERE k.event_id = ? AND k.key = ?`, eventID, key).Scan(&rows).Error
	if err != nil {
		return idemRow{}, false, fmt.Errorf("find idempotency key: %w", err)
	}
	if len(rows) == 0 {
		return idemRow{}, false, nil
	}
	return rows[0], true, nil
}

func replay(prev idemRow, hash []byte, out *registration.ApplyOutcome) error {
	if !bytes.Equal(prev.RequestHash, hash) {
		return lottery.ErrIdempotencyMismatch
	}
	*out = registration.ApplyOutcome{EntryID: prev.EntryID, Status: lottery.EntryStatus(prev.Status), SubQueue: prev.SubqueueKey,
		Replayed: true}
	return nil
}

// checkGroup serialises joins to one group code and decides the join by
// lottery.CheckGroupJoin on the group's live members.
func checkGroup(tx *gorm.DB, e lottery.Entry, max int) error {
	if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
		fmt.Sprintf("group:%d:%s", e.EventID, e.GroupCode)).Error; err != nil {
		return fmt.Errorf("lock group: %w", err)
	}
	var members []lottery.GroupMembers
	if err := tx.Raw(`SELECT subqueue_id AS sub_queue_id, count(*) AS count FROM entries
		WHERE event_id = ? AND group_code = ? AND status NOT IN ('rejected', 'withdrawn') GROUP BY subqueue_id`, e.EventID, e.GroupCode).
		Scan(&members).Error; err != nil {
		return fmt.Errorf("count group: %w", err)
	}
	return lottery.CheckGroupJoin(members, e.SubQueueID, max)
}

// whyNotInserted tells a closed window (Event.CheckOpen) from a duplicate
// person (lottery.DuplicateEntry).
func whyNotInserted(tx *gorm.DB, e lottery.Entry, now time.Time) error {
	var ev eventRow
	if err := tx.Where("id = ?", e.EventID).Take(&ev).Error; err != nil {
		return fmt.Errorf("reload event: %w", err)
	}
	window := lottery.Event{Status: lottery.EventStatus(ev.Status), OpensAt: ev.OpensAt, ClosesAt: ev.ClosesAt}
	if err := window.CheckOpen(now); err != nil {
		return err
	}
	return duplicateOf(tx, e)
}

// duplicateOf names the identity key of e another entry of its event holds
// (lottery.DuplicateEntry), for an insert that conflicted.
func duplicateOf(tx *gorm.DB, e lottery.Entry) error {
	var taken lottery.IdentityTaken
	if err := tx.Raw(`SELECT coalesce(bool_or(email_key = ?), false) AS email, coalesce(bool_or(phone = ?), false) AS phone,
			coalesce(bool_or(person_key = ? AND person_key <> ''), false) AS person
		FROM entries WHERE event_id = ? AND (email_key = ? OR phone = ? OR (person_key = ? AND person_key <> ''))`,
		e.EmailKey, e.Phone, e.PersonKey, e.EventID, e.EmailKey, e.Phone, e.PersonKey).Scan(&taken).Error; err != nil {
		return fmt.Errorf("find duplicate: %w", err)
	}
	return lottery.DuplicateEntry(taken)
}
