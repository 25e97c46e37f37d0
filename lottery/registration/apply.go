package registration

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/internal/textin"
	"github.com/startline/startline/lottery"
)

// ApplyRequest is the runner's application as received (API.md fields).
type ApplyRequest struct {
	Course               string
	PaceGroup            string
	Name                 string
	Email                string
	Phone                string
	BirthDate            string
	OTP                  string
	GroupCode            string
	PreviousApplications *int   // the runner's claim; the record decides unless a reviewer accepts it
	ClaimNote            string // why the runner claims more than the record shows
	Altcha               string
	AdmissionToken       string
	Website              string // honeypot
	Signals              json.RawMessage
	// NoBrowserCheck marks an application the web form sent without the
	// proof of work (JavaScript off): scored antibot.ReasonNoBrowserCheck,
	// so it is taken for review only. The API never sets it.
	NoBrowserCheck bool
	// Answers to the event's questions by id (lottery.Form.CheckAnswers);
	// Consents the accepted documents' versions ({"privacy","waiver"}).
	Answers  map[string]any
	Consents map[string]string
	// Lang is the language the runner applied in ("ko"; anything else is
	// English): the entry keeps it and every mail about it is written in it.
	Lang string
	// CardSetupID is the confirmed card setup where the event has card on
	// file (cards.go); ignored elsewhere.
	CardSetupID string
}

// ApplyResult is the receipt of an accepted application.
type ApplyResult struct {
	EntryID      string
	ReceiptToken string
	Status       lottery.EntryStatus
	SubQueue     string
	Replayed     bool
}

// Apply validates and stores an application in one transaction. Validation
// failures are field errors and change nothing. idemKey and body implement
// the Idempotency-Key contract: the same key and body answer the same.
func (s *Service) Apply(ctx context.Context, slug string, req ApplyRequest, client lottery.ClientInfo, idemKey string, body []byte) (ApplyResult, error) {
	ev, err := s.events.PublicEvent(ctx, slug)
	if err != nil {
		return ApplyResult{}, err
	}
	now := s.clock.Now()
	if err := ev.CheckOpen(now); err != nil {
		return ApplyResult{}, err
	}
	entry, err := s.validate(&ev, req, now)
	if err != nil {
		return ApplyResult{}, err
	}
	// Ordered sub-queues take only runners the waiting room admitted: the
	// token is bound to this sub-queue and e-mail address here, and used
	// once, before it lapses, in the apply transaction.
	var admission *AdmissionUse
	joinFlagged := false
	if sq, _ := ev.SubQueue(req.Course, req.PaceGroup); sq.Mode == lottery.ModeOrdered {
		if req.AdmissionToken == "" {
			return ApplyResult{}, lottery.ErrAdmissionRequired
		}
		ticket, review, ok := s.admissions.Check(req.AdmissionToken, sq.ID, entry.EmailKey)
		if !ok {
			return ApplyResult{}, &lottery.Error{Code: lottery.CodeAdmissionRequired, Field: "admission_token",
				Message: "this admission token is not for this pace group and e-mail address"}
		}
		admission, joinFlagged = &AdmissionUse{TicketID: ticket, Offers: lottery.OfferTx{Now: s.clock.Now(), Hold: ev.OfferHold}}, review
	}
	if len(idemKey) > 255 {
		return ApplyResult{}, lottery.Fieldf("Idempotency-Key", "use at most 255 characters")
	}
	if err := s.countTickets(ctx, &ev, req, &entry); err != nil {
		return ApplyResult{}, err
	}
	entry.Risk = s.assess(&ev, req, client, entry)
	if entry.ClaimStatus == lottery.ClaimPending {
		entry.Risk.Reasons = append(entry.Risk.Reasons, antibot.Reason{Code: lottery.ReasonTicketClaim,
			Detail: fmt.Sprintf("claims %d earlier applications; the record shows %d", *entry.ClaimedApplications, entry.RecordedApplications)})
		if entry.Risk.Decision == antibot.Accept {
			entry.Risk.Decision = antibot.Review
		}
	}
	if joinFlagged && entry.Risk.Decision == antibot.Accept {
		// The join's own reasons are on its ticket; the entry says why it waits.
		entry.Risk.Reasons = append(entry.Risk.Reasons, antibot.Reason{Code: "queue_join_flagged",
			Detail: "the waiting-room join that admitted this entry was flagged for review"})
		entry.Risk.Decision = antibot.Review
	}
	entry.Status = lottery.ApplyStatus(entry.Risk.Decision, admission != nil)
	entry.ClientIP, entry.DeviceID = client.IP, client.DeviceID
	entry.UserAgent = textin.Cut(client.UserAgent, 512)
	if len(req.Signals) > 0 && json.Valid(req.Signals) {
		entry.Signals = req.Signals
		var sig struct {
			Fingerprint string `json:"fingerprint"`
		}
		_ = json.Unmarshal(req.Signals, &sig) // a non-object simply has no fingerprint
		entry.Fingerprint = textin.Cut(sig.Fingerprint, 128)
	}
	var reqHash []byte
	if idemKey != "" {
		h := sha256.Sum256(body)
		reqHash = h[:]
	}
	tx := ApplyTx{Entry: entry, OTPHash: s.keys.OTPHash(ev.ID, entry.EmailKey, req.OTP),
		MaxOTPAttempts: lottery.OTPMaxAttempts, MaxGroupSize: ev.MaxGroupSize, Now: now, IdempotencyKey: idemKey, RequestHash: reqHash,
		Admission: admission}
	if err := s.applyCard(ctx, &ev, req, &tx); err != nil {
		return ApplyResult{}, err
	}
	out, err := s.store.Apply(ctx, tx)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply %s: %w", slug, err)
	}
	if s.observer != nil && !out.Replayed {
		codes := make([]string, len(entry.Risk.Reasons))
		for i, r := range entry.Risk.Reasons {
			codes[i] = r.Code
		}
		s.observer.Applied(entry.Risk.Decision, codes)
	}
	lottery.NotifyOffers(ctx, s.notify, s.log, out.Issued)
	s.notifyMails(ctx, out.Mails)
	return ApplyResult{EntryID: out.EntryID, ReceiptToken: s.keys.ReceiptToken(out.EntryID), Status: out.Status,
		SubQueue: out.SubQueue, Replayed: out.Replayed}, nil
}

// validate checks every field in form order and builds the entry.
func (s *Service) validate(ev *lottery.Event, req ApplyRequest, now time.Time) (lottery.Entry, error) {
	sq, err := ev.Pick(req.Course, req.PaceGroup)
	if err != nil {
		return lottery.Entry{}, err
	}
	name, ok := cleanName(req.Name)
	if !ok {
		return lottery.Entry{}, lottery.Fieldf("name", "give your name (1 to 100 characters)")
	}
	addr, err := identity.NormalizeEmail(req.Email)
	if err != nil {
		return lottery.Entry{}, lottery.Fieldf("email", "give a valid e-mail address")
	}
	phone, err := identity.NormalizePhone(req.Phone, s.cfg.PhoneRegion)
	if err != nil {
		return lottery.Entry{}, lottery.Fieldf("phone", "give a valid phone number, e.g. +82 10 1234 5678")
	}
	birth, err := parseBirthDate(req.BirthDate, now)
	if err != nil {
		return lottery.Entry{}, err
	}
	answers, consents, err := s.checkForm(ev, req.Answers, req.Consents, now)
	if err != nil {
		return lottery.Entry{}, err
	}
	if !otpRe.MatchString(req.OTP) {
		return lottery.Entry{}, lottery.Fieldf("otp", "give the 6-digit code we e-mailed you")
	}
	group, err := lottery.GroupCode(req.GroupCode, ev.MaxGroupSize)
	if err != nil {
		return lottery.Entry{}, err
	}
	if p := req.PreviousApplications; p != nil && (*p < 0 || *p > lottery.MaxRecordedApplications) {
		return lottery.Entry{}, lottery.Fieldf("previous_applications", "give a number from 0 to %d", lottery.MaxRecordedApplications)
	}
	if len(req.ClaimNote) > 2000 || !utf8.ValidString(req.ClaimNote) {
		return lottery.Entry{}, lottery.Fieldf("claim_note", "keep the note under 2000 bytes")
	}
	if len(req.Signals) > 4096 {
		return lottery.Entry{}, lottery.Fieldf("signals", "signals are limited to 4 KiB")
	}
	id, err := uuid.NewRandomFromReader(s.random)
	if err != nil {
		return lottery.Entry{}, fmt.Errorf("entry id: %w", err)
	}
	return lottery.Entry{ID: id.String(), EventID: ev.ID, SubQueueID: sq.ID, SubQueue: sq.Key, Name: name, Email: addr.Address,
		EmailKey: addr.Key, Phone: phone, BirthDate: birth, Tickets: 1,
		GroupCode: group, PersonKey: identity.PersonKey(name, birth), Answers: answers, Consents: consents,
		Lang: Lang(req.Lang)}, nil
}

// Lang is the language a runner's mail is written in: "ko" or "en".
func Lang(l string) string {
	if l == "ko" {
		return "ko"
	}
	return "en"
}

// notifyMails asks the workers to send queued mail now; a failure is only
// logged, as the outbox sweep sends what was not enqueued.
func (s *Service) notifyMails(ctx context.Context, ids []int64) {
	if s.notify == nil {
		return
	}
	for _, id := range ids {
		if err := s.notify.MailQueued(ctx, id); err != nil {
			s.log.WarnContext(ctx, "mail enqueue failed; the outbox sweeper will retry", "outbox_id", id, "err", err)
			return
		}
	}
}

// countTickets sets the entry's tickets from the runner's record in the
// event's series (lottery.EarnedApplications); a claim above the record is
// kept, pending review, and does not count until a reviewer accepts it
// (lottery.CountTickets).
func (s *Service) countTickets(ctx context.Context, ev *lottery.Event, req ApplyRequest, e *lottery.Entry) error {
	e.ClaimStatus = lottery.ClaimNone
	if ev.TicketRule != lottery.TicketRuleDoubling {
		e.Tickets = ev.Tickets(0)
		return nil
	}
	matches, err := s.store.TicketHistory(ctx, *ev, e.EmailKey, e.Phone, e.PersonKey)
	if err != nil {
		return fmt.Errorf("ticket history: %w", err)
	}
	e.TicketRecord = lottery.EarnedApplications(matches)
	e.RecordedApplications = e.TicketRecord.Count
	c := lottery.CountTickets(ev.TicketRule, e.RecordedApplications, req.PreviousApplications)
	e.PreviousApplications, e.ClaimStatus = c.Counted, c.Claim
	e.Tickets = ev.Tickets(c.Counted)
	if c.Claim == lottery.ClaimPending {
		claimed := *req.PreviousApplications
		e.ClaimedApplications = &claimed
		e.ClaimNote = strings.TrimSpace(req.ClaimNote)
	}
	return nil
}

// assess scores an application with the event's rules (antibot).
func (s *Service) assess(ev *lottery.Event, req ApplyRequest, client lottery.ClientInfo, e lottery.Entry) antibot.Assessment {
	in := antibot.ApplyInput{Honeypot: req.Website, UserAgent: client.UserAgent, AcceptLanguage: client.AcceptLanguage,
		UAPlatform: client.UAPlatform, NoBrowserCheck: req.NoBrowserCheck}
	if len(req.Signals) > 0 && string(req.Signals) != "null" {
		if err := json.Unmarshal(req.Signals, &in.Signals); err == nil {
			in.HasSignals = true
		}
	}
	if at := strings.LastIndexByte(e.EmailKey, '@'); at >= 0 {
		in.DisposableMail = s.cfg.Disposable.IsDisposable(e.EmailKey[at+1:])
	}
	in.Network = s.events.Network(client.IP)
	return ev.Scorer(s.scorer).AssessApply(in)
}
