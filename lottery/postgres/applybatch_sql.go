package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/registration"
)

// applyBatchSQL writes a batch of applications in one statement, each as
// applyTx would in its own transaction. $1 is the batch (batchRow), one
// object per application; no two share a code row, an identity key or an
// Idempotency-Key (assemble), so the CTEs, which do not see each other's
// writes, never need to.
//
//   - prev: an earlier request with the same Idempotency-Key answers a
//     replay (tryReplay); such an application tries no code. (LATERAL with
//     LIMIT: an index probe per application, never a hash join over the
//     whole table, which the planner picks for jsonb_to_recordset's rows.)
//   - code: every other application's code row, locked in key order (no
//     deadlock between batches) and read as the try finds it (LATERAL, so
//     each is an index probe, never a scan of the event's codes); consumes is
//     lottery.CodeConsumes; elsewhere, when it does not consume, is
//     CheckCode's UsedElsewhere (the right code, live, not past the cap).
//   - ins: the entry, for a code it consumes, inside the event's window,
//     unless an identity key is taken (ON CONFLICT DO NOTHING: that
//     application alone fails, explained by duplicateOf after the commit).
//   - tried: the code rows as applyTx commits them: consumed by an inserted
//     entry, or a wrong try's attempt counted. A duplicate or closed window
//     rolls its try back in applyTx, so it changes nothing here either.
//   - consents, the log record, the receipt intent and the idempotency
//     record of each inserted entry. The idempotency insert has no ON
//     CONFLICT: a key taken meanwhile by another request fails the whole
//     statement, and each application is then written by applyTx.
const applyBatchSQL = `WITH inp AS (
	SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ord int, id uuid, event_id bigint, subqueue_id bigint, name text,
		email text, email_key text, phone text, birth_date date, tickets int, previous_applications int, status text,
		risk_score int, risk_decision text, risk_reasons jsonb, now timestamptz, person_key text, client_ip inet,
		user_agent text, device_id text, fingerprint text, signals jsonb, recorded_applications int,
		claimed_applications int, claim_note text, claim_status text, ticket_record jsonb, lang text, answers jsonb,
		otp_hash bytea, max_attempts int, idem_key text, req_hash bytea, consents jsonb, log_details jsonb,
		mail_kind text, mail_detail text)
), prev AS (
	SELECT i.ord, k.request_hash, k.entry_id, k.status, q.key AS subqueue_key
	FROM inp i CROSS JOIN LATERAL (SELECT * FROM idempotency_keys k
		WHERE k.event_id = i.event_id AND k.key = i.idem_key LIMIT 1) k
	JOIN entries e ON e.id = k.entry_id JOIN subqueues q ON q.id = e.subqueue_id
), code AS (
	SELECT i.ord, c.code_hash = i.otp_hash AS match, c.used_by IS NOT NULL AS used, c.attempts, c.expires_at,
		c.used_by IS NULL AND c.code_hash = i.otp_hash AND c.attempts < i.max_attempts AND c.expires_at > i.now AS consumes,
		c.code_hash = i.otp_hash AND c.attempts <= i.max_attempts AND c.expires_at > i.now AS elsewhere
	FROM (SELECT * FROM inp ORDER BY event_id, email_key) i
	CROSS JOIN LATERAL (SELECT * FROM otp_codes c WHERE c.event_id = i.event_id AND c.email_key = i.email_key FOR UPDATE) c
	WHERE NOT EXISTS (SELECT 1 FROM prev p WHERE p.ord = i.ord)
), ins AS (
	INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, tickets,
		previous_applications, group_code, status, risk_score, risk_decision, risk_reasons, created_at, updated_at,
		person_key, client_ip, user_agent, device_id, fingerprint, signals,
		recorded_applications, claimed_applications, claim_note, claim_status, ticket_record, lang, answers)
	SELECT i.id, i.event_id, i.subqueue_id, i.name, i.email, i.email_key, i.phone, i.birth_date, i.tickets,
		i.previous_applications, '', i.status, i.risk_score, i.risk_decision, i.risk_reasons, i.now, i.now,
		i.person_key, i.client_ip, i.user_agent, i.device_id, i.fingerprint, i.signals,
		i.recorded_applications, i.claimed_applications, i.claim_note, i.claim_status, i.ticket_record, i.lang, i.answers
	FROM inp i JOIN code k ON k.ord = i.ord AND k.consumes
	JOIN events ev ON ev.id = i.event_id AND ev.status = 'published' AND ev.opens_at <= i.now AND ev.closes_at > i.now
	ORDER BY i.ord
	ON CONFLICT DO NOTHING
	RETURNING id
), tried AS (
	UPDATE otp_codes c SET attempts = c.attempts + 1,
		used_at = CASE WHEN k.made THEN i.now ELSE c.used_at END,
		used_by = CASE WHEN k.made THEN i.id ELSE c.used_by END
	FROM inp i JOIN (SELECT k.*, k.ord IN (SELECT i.ord FROM inp i JOIN ins n ON n.id = i.id) AS made FROM code k) k
		ON k.ord = i.ord
	WHERE c.event_id = i.event_id AND c.email_key = i.email_key AND (k.made OR NOT (k.consumes OR k.elsewhere))
), consents AS (
	INSERT INTO entry_consents (entry_id, document, version, accepted_at)
	SELECT i.id, x.document, x.version, x.accepted_at
	FROM inp i JOIN ins n ON n.id = i.id, jsonb_to_recordset(i.consents) AS x(document text, version text, accepted_at timestamptz)
), logs AS (
	INSERT INTO event_log (event_id, entry_id, kind, to_status, actor, details)
	SELECT i.event_id, i.id, 'entry.created', i.status, 'runner', i.log_details FROM inp i JOIN ins n ON n.id = i.id ORDER BY i.ord
), mail AS (
	INSERT INTO outbox (to_addr, subject, body, kind, intent, event_id, entry_id, detail)
	SELECT i.email, '', '', 'entry', i.mail_kind, i.event_id, i.id, i.mail_detail FROM inp i JOIN ins n ON n.id = i.id ORDER BY i.ord
	RETURNING id, entry_id
), idem AS (
	INSERT INTO idempotency_keys (event_id, key, request_hash, entry_id, status)
	SELECT i.event_id, i.idem_key, i.req_hash, i.id, i.status FROM inp i JOIN ins n ON n.id = i.id WHERE i.idem_key IS NOT NULL
)
SELECT i.ord, p.ord IS NOT NULL, p.request_hash, coalesce(p.entry_id::text, ''), coalesce(p.status, ''),
	coalesce(p.subqueue_key, ''), k.ord IS NOT NULL, coalesce(k.match, false), coalesce(k.used, false),
	coalesce(k.attempts, 0), coalesce(k.expires_at, 'epoch'), coalesce(k.consumes, false), n.id IS NOT NULL, m.id
FROM inp i LEFT JOIN prev p ON p.ord = i.ord LEFT JOIN code k ON k.ord = i.ord LEFT JOIN ins n ON n.id = i.id
LEFT JOIN mail m ON m.entry_id = i.id
ORDER BY i.ord`

// batchRow is one application as applyBatchSQL reads it.
type batchRow struct {
	Ord                  int             `json:"ord"`
	ID                   string          `json:"id"`
	EventID              int64           `json:"event_id"`
	SubqueueID           int64           `json:"subqueue_id"`
	Name                 string          `json:"name"`
	Email                string          `json:"email"`
	EmailKey             string          `json:"email_key"`
	Phone                string          `json:"phone"`
	BirthDate            string          `json:"birth_date"`
	Tickets              int             `json:"tickets"`
	PreviousApplications int             `json:"previous_applications"`
	Status               string          `json:"status"`
	RiskScore            int             `json:"risk_score"`
	RiskDecision         string          `json:"risk_decision"`
	RiskReasons          json.RawMessage `json:"risk_reasons"`
	Now                  time.Time       `json:"now"`
	PersonKey            string          `json:"person_key"`
	ClientIP             *string         `json:"client_ip"`
	UserAgent            string          `json:"user_agent"`
	DeviceID             string          `json:"device_id"`
	Fingerprint          string          `json:"fingerprint"`
	Signals              json.RawMessage `json:"signals"`
	RecordedApplications int             `json:"recorded_applications"`
	ClaimedApplications  *int            `json:"claimed_applications"`
	ClaimNote            string          `json:"claim_note"`
	ClaimStatus          string          `json:"claim_status"`
	TicketRecord         json.RawMessage `json:"ticket_record"`
	Lang                 string          `json:"lang"`
	Answers              json.RawMessage `json:"answers"`
	OTPHash              string          `json:"otp_hash"` // bytea input: \x and hex
	MaxAttempts          int             `json:"max_attempts"`
	IdemKey              *string         `json:"idem_key"`
	ReqHash              *string         `json:"req_hash"`
	Consents             []batchConsent  `json:"consents"`
	LogDetails           json.RawMessage `json:"log_details"`
	MailKind             string          `json:"mail_kind"`
	MailDetail           string          `json:"mail_detail"`
}

type batchConsent struct {
	Document   string    `json:"document"`
	Version    string    `json:"version"`
	AcceptedAt time.Time `json:"accepted_at"`
}

// applyNow is the apply's time as applyTx stores it.
func applyNow(a registration.ApplyTx) time.Time { return a.Now.UTC().Truncate(time.Microsecond) }

// toBatchRow encodes an application the way applyTx binds it.
func toBatchRow(ord int, a registration.ApplyTx) batchRow {
	e := a.Entry
	risk, _ := json.Marshal(riskDoc{Reasons: e.Risk.Reasons, RulesVersion: e.Risk.RulesVersion})
	record, _ := json.Marshal(e.TicketRecord)
	signals := json.RawMessage("{}")
	if len(e.Signals) > 0 && json.Valid(e.Signals) {
		signals = json.RawMessage(e.Signals)
	}
	r := batchRow{Ord: ord, ID: e.ID, EventID: e.EventID, SubqueueID: e.SubQueueID, Name: e.Name, Email: e.Email,
		EmailKey: e.EmailKey, Phone: e.Phone, BirthDate: e.BirthDate.Format(time.DateOnly), Tickets: e.Tickets,
		PreviousApplications: e.PreviousApplications, Status: string(e.Status), RiskScore: e.Risk.Score,
		RiskDecision: string(e.Risk.Decision), RiskReasons: risk, Now: applyNow(a), PersonKey: e.PersonKey,
		UserAgent: e.UserAgent, DeviceID: e.DeviceID, Fingerprint: e.Fingerprint, Signals: signals,
		RecordedApplications: e.RecordedApplications, ClaimedApplications: e.ClaimedApplications, ClaimNote: e.ClaimNote,
		ClaimStatus: cmp.Or(e.ClaimStatus, lottery.ClaimNone), TicketRecord: record, Lang: entryLang(e.Lang),
		Answers: json.RawMessage(answersDoc(e.Answers)), OTPHash: `\x` + hex.EncodeToString(a.OTPHash),
		MaxAttempts: a.MaxOTPAttempts, Consents: make([]batchConsent, 0, len(e.Consents)),
		LogDetails: jsonb(map[string]any{"subqueue": e.SubQueue, "risk_score": e.Risk.Score, "decision": e.Risk.Decision,
			"tickets": e.Tickets, "recorded_applications": e.RecordedApplications, "claim": e.ClaimStatus})}
	if net.ParseIP(e.ClientIP) != nil {
		ip := e.ClientIP
		r.ClientIP = &ip
	}
	if a.IdempotencyKey != "" {
		k, h := a.IdempotencyKey, `\x`+hex.EncodeToString(a.RequestHash)
		r.IdemKey, r.ReqHash = &k, &h
	}
	for _, c := range e.Consents {
		r.Consents = append(r.Consents, batchConsent{Document: c.Document, Version: c.Version, AcceptedAt: c.AcceptedAt.UTC()})
	}
	r.MailKind, r.MailDetail = receiptOf(e.Status)
	return r
}

// receiptOf is the mail an entry is owed when it commits: the receipt with
// its status at apply, or the rejection (its category comes from the
// entry's reasons).
func receiptOf(st lottery.EntryStatus) (kind, detail string) {
	if st == lottery.EntryRejected {
		return mails.EntryRejected, ""
	}
	return mails.EntryReceived, string(st)
}

// batchResult is what applyBatchSQL says of one application.
type batchResult struct {
	Replayed   bool
	PrevHash   []byte
	PrevEntry  string
	PrevStatus string
	PrevSubQ   string
	Found      bool // the address has a code
	Match      bool
	Used       bool // used_by set before this try
	Attempts   int  // before this try
	ExpiresAt  time.Time
	Consumes   bool
	Inserted   bool
	MailID     sql.NullInt64
}

// followUp is what an application's answer still needs after the commit.
type followUp int

const (
	answered       followUp = iota
	explainRefusal          // consumed, not inserted: closed window or duplicate (whyNotInserted)
	explainUsed             // the right code used by another request: replay, duplicate or code used
)

// batchOutcome maps one application's row to its answer, as applyTx decides
// it; a follow-up reads what the statement could not see (rows committed
// by others while it ran).
func batchOutcome(a registration.ApplyTx, r batchResult) (registration.ApplyOutcome, followUp, error) {
	if r.Replayed {
		var out registration.ApplyOutcome
		err := replay(idemRow{RequestHash: r.PrevHash, EntryID: r.PrevEntry, Status: r.PrevStatus, SubqueueKey: r.PrevSubQ},
			a.RequestHash, &out)
		return out, answered, err
	}
	if !r.Found {
		return registration.ApplyOutcome{}, answered, lottery.ErrNoCode
	}
	now := applyNow(a)
	v := lottery.CheckCode(lottery.CodeTry{Match: r.Match, Used: r.Used, Attempts: r.Attempts, ExpiresAt: r.ExpiresAt},
		now, a.MaxOTPAttempts)
	switch {
	case v.Consumed != r.Consumes:
		return registration.ApplyOutcome{}, answered, fmt.Errorf("check otp: the statement and lottery.CodeConsumes disagree (consumed %t)", r.Consumes)
	case v.Consumed && r.Inserted:
		out := registration.ApplyOutcome{EntryID: a.Entry.ID, Status: a.Entry.Status, SubQueue: a.Entry.SubQueue}
		if r.MailID.Valid {
			out.Mails = []int64{r.MailID.Int64}
		}
		return out, answered, nil
	case v.Consumed:
		return registration.ApplyOutcome{}, explainRefusal, nil
	case v.UsedElsewhere:
		return registration.ApplyOutcome{}, explainUsed, nil
	default:
		return registration.ApplyOutcome{}, answered, v.Err // its attempt is committed
	}
}

// flushApplies writes one batch and answers each caller. A statement that
// fails writes nothing, so every member is then written by applyTx on its
// own.
func (s *Store) flushApplies(batch []*applyCall) {
	live := make([]*applyCall, 0, len(batch))
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil { // gave up before its write began: as applyTx would
			c.done <- applyAnswer{err: fmt.Errorf("apply: %w", unavailable(err))}
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), applyBatchTimeout)
	defer cancel()
	results, err := s.execApplyBatch(ctx, live)
	if err != nil {
		// Nothing was written. Even a lost connection goes to applyTx: the
		// session may have been a stale kept one while the database is up;
		// in a real outage each member's transaction fails fast (503).
		s.applyEach(live)
		return
	}
	var wg sync.WaitGroup
	for i, c := range live {
		out, next, err := batchOutcome(c.a, results[i])
		if next == answered {
			c.done <- applyAnswer{out: out, err: err}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.explainApply(c.ctx, c.a, next, &out)
			c.done <- applyAnswer{out: out, err: err}
		}()
	}
	wg.Wait()
}

// applyEach writes every member of a failed batch in its own transaction.
func (s *Store) applyEach(calls []*applyCall) {
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := s.applyTx(c.ctx, c.a)
			c.done <- applyAnswer{out: out, err: err}
		}()
	}
	wg.Wait()
}

// execApplyBatch runs applyBatchSQL, one round trip and one commit: the
// statement is its own transaction, and rows.Err reports a failed commit,
// so a result here is committed.
func (s *Store) execApplyBatch(ctx context.Context, calls []*applyCall) ([]batchResult, error) {
	in := make([]batchRow, len(calls))
	for i, c := range calls {
		in[i] = toBatchRow(i, c.a)
	}
	doc, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("apply batch: %w", err)
	}
	conn, err := s.batchConn(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply batch: %w", err)
	}
	out, err := readApplyBatch(ctx, conn, string(doc), len(calls))
	s.releaseBatchConn(conn, err)
	return out, err
}

// readApplyBatch runs applyBatchSQL on conn and reads its row per application.
func readApplyBatch(ctx context.Context, conn *sql.Conn, doc string, n int) ([]batchResult, error) {
	rows, err := conn.QueryContext(ctx, applyBatchSQL, doc)
	if err != nil {
		return nil, fmt.Errorf("apply batch: %w", err)
	}
	defer rows.Close()
	out := make([]batchResult, n)
	got := 0
	for rows.Next() {
		var ord int
		var r batchResult
		if err := rows.Scan(&ord, &r.Replayed, &r.PrevHash, &r.PrevEntry, &r.PrevStatus, &r.PrevSubQ, &r.Found, &r.Match,
			&r.Used, &r.Attempts, &r.ExpiresAt, &r.Consumes, &r.Inserted, &r.MailID); err != nil {
			return nil, fmt.Errorf("apply batch: %w", err)
		}
		if ord < 0 || ord >= len(out) {
			return nil, fmt.Errorf("apply batch: row %d of %d", ord, len(out))
		}
		out[ord] = r
		got++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("apply batch: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("apply batch: %w", err)
	}
	if got != n {
		return nil, fmt.Errorf("apply batch: %d rows for %d applications", got, n)
	}
	return out, nil
}

// explainApply answers an application the batch did not insert, reading
// what was committed by then (the statement's snapshot may predate the
// entry it collided with).
func (s *Store) explainApply(ctx context.Context, a registration.ApplyTx, next followUp, out *registration.ApplyOutcome) error {
	db := s.db.WithContext(ctx)
	switch next {
	case explainRefusal:
		return whyNotInserted(db, a.Entry, applyNow(a))
	case explainUsed:
		// As applyTx: a retry with the same Idempotency-Key whose twin used
		// the code answers with that twin's receipt.
		if a.IdempotencyKey != "" {
			if prev, ok, err := findIdempotent(db, a.Entry.EventID, a.IdempotencyKey); err != nil || ok {
				if err != nil {
					return err
				}
				return replay(prev, a.RequestHash, out)
			}
		}
		var n int64
		if err := db.Raw("SELECT count(*) FROM entries WHERE event_id = ? AND email_key = ?", a.Entry.EventID, a.Entry.EmailKey).
			Scan(&n).Error; err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		if n > 0 {
			return lottery.ErrDuplicateEntry
		}
		return lottery.ErrCodeUsed
	}
	return nil
}
