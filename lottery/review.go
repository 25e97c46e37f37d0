package lottery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/lottery/mails"
)

// SessionTTL is how long a staff browser session lasts.
const SessionTTL = 12 * time.Hour

// RiskySessionTTL is how long a session lasts when its login scored for
// review: a stolen password buys little time, a real staff member signs in
// again soon.
const RiskySessionTTL = 30 * time.Minute

const sessionPrefix = "sls_"

// dummyHash is compared against when an account does not exist, so a login
// takes as long for an unknown address as for a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("startline-dummy-password"), bcrypt.DefaultCost)

// Review decisions.
const (
	DecisionApprove       = "approve"
	DecisionReject        = "reject"
	DecisionRejectCluster = "reject_cluster"
)

// ReviewStore keeps staff sessions and review decisions.
type ReviewStore interface {
	// CreateSession stores a session token's hash.
	CreateSession(ctx context.Context, staffID int64, hash []byte, expires time.Time) error
	// StaffBySession returns the live account of a live session; ErrNotFound.
	StaffBySession(ctx context.Context, hash []byte, now time.Time) (StaffAccount, error)
	// RevokeSession ends a session.
	RevokeSession(ctx context.Context, hash []byte) error
	// UseTOTPStep records a TOTP time step as used; false when it (or a
	// later one) was used already, so each code works once.
	UseTOTPStep(ctx context.Context, staffID int64, step int64) (bool, error)
	// ReviewQueue lists an event's entries in review, riskiest first.
	ReviewQueue(ctx context.Context, eventID int64, f ReviewFilter) ([]Entry, error)
	// LinkedEntries lists entries of the same event sharing an identity or
	// device key with e, or its cluster.
	LinkedEntries(ctx context.Context, e Entry, limit int) ([]Entry, error)
	// Decide applies a review decision in one transaction with its log and
	// audit records and returns the entries it changed.
	// ErrInvalidTransition when the entry is not in review (or the event is frozen).
	Decide(ctx context.Context, d Decision, o OfferTx) ([]string, []OfferIssue, error)
}

// ReviewFilter narrows the review queue.
type ReviewFilter struct {
	Reason    string // a reason code, e.g. "webdriver"
	ClusterID string
	Limit     int
}

// Decision is a reviewer's ruling on an entry.
type Decision struct {
	EntryID  string
	Decision string
	Note     string
	Actor    StaffAccount
}

// ReviewDetail is everything a reviewer sees about one entry.
type ReviewDetail struct {
	Entry   Entry
	Event   Event
	Linked  []Entry
	Network ipintel.Network // where the entry's address is, looked up now
	// QueueJoin is the assessment of the waiting-room join that admitted
	// the entry (ordered sub-queues); nil for drawn ones.
	QueueJoin *antibot.Assessment
	// OTPRequests are the address's latest code requests for the event,
	// newest first, with their assessments (refused ones included).
	OTPRequests []OTPRequest
}

// StaffSession is an open staff browser session.
type StaffSession struct {
	Token     string
	Account   StaffAccount
	ExpiresAt time.Time
	Risk      antibot.Assessment
}

// LoginHistory is what the audit log tells about an account's logins.
type LoginHistory struct {
	Failures       int      // failed and blocked attempts within the window asked for
	Countries      []string // network countries of its successful logins
	LoggedInBefore bool
}

// staffFailureWindow is how far back failed logins count towards a login's risk.
const staffFailureWindow = time.Hour

// StaffLogin checks a password and a TOTP code and opens a browser session.
// Every failure is ErrInvalidCredentials, whichever part was wrong. Each
// attempt on an account is risk-scored first: a reject is refused with the
// same error even when the credentials are right (and the code is not
// used up); a review gets a short session. Every attempt is audited with its
// assessment and network country, never the address.
func (s *Service) StaffLogin(ctx context.Context, email, password, code string, client ClientInfo) (StaffSession, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	acct, err := s.store.StaffByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return StaffSession{}, fmt.Errorf("login: %w", err)
	}
	// Read the history for unknown addresses too, so both take as long.
	hist, err := s.store.StaffLoginHistory(ctx, acct.ID, staffFailureWindow)
	if err != nil {
		return StaffSession{}, fmt.Errorf("login: %w", err)
	}
	known, err := s.StaffDeviceKnown(ctx, email, client.DeviceID)
	if err != nil {
		return StaffSession{}, fmt.Errorf("login: %w", err)
	}
	network := s.Network(client.IP)
	risk := s.cfg.StaffRules.AssessStaffLogin(antibot.StaffLoginInput{UserAgent: client.UserAgent, Network: network,
		RecentFailures: hist.Failures, KnownCountries: hist.Countries, FirstLogin: !hist.LoggedInBefore, KnownDevice: known})
	audit := func(action string, details map[string]any) error {
		details["risk"], details["country"], details["known_device"] = risk, network.Country, known
		return s.store.Audit(ctx, acct.ID, action, email, details)
	}
	hash := []byte(acct.PasswordHash)
	if acct.ID == 0 {
		hash = dummyHash
	}
	// The password is checked even when the risk refuses the login, so a
	// refusal takes as long as a wrong password.
	passwordOK := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && acct.ID != 0
	if acct.ID != 0 && risk.Decision == antibot.Reject {
		_ = audit("staff.login_blocked", map[string]any{"password_ok": passwordOK})
		s.log.WarnContext(ctx, "staff login refused on risk", "staff_id", acct.ID, "score", risk.Score,
			"reasons", reasonCodes(risk), "rules", risk.RulesVersion, "country", network.Country)
		return StaffSession{}, ErrInvalidCredentials
	}
	if !passwordOK {
		if acct.ID != 0 {
			_ = audit("staff.login_failed", map[string]any{"why": "password"})
		}
		return StaffSession{}, ErrInvalidCredentials
	}
	secret, err := s.TOTPSecret(acct)
	if err != nil {
		return StaffSession{}, fmt.Errorf("login: %w", err)
	}
	now := s.clock.Now()
	step, ok := totpStep(secret, strings.TrimSpace(code), now)
	if !ok {
		_ = audit("staff.login_failed", map[string]any{"why": "totp"})
		return StaffSession{}, ErrInvalidCredentials
	}
	fresh, err := s.store.UseTOTPStep(ctx, acct.ID, step)
	if err != nil {
		return StaffSession{}, fmt.Errorf("login: %w", err)
	}
	if !fresh {
		_ = audit("staff.login_failed", map[string]any{"why": "totp_reused"})
		return StaffSession{}, ErrInvalidCredentials
	}
	ttl := SessionTTL
	if risk.Decision == antibot.Review {
		ttl = RiskySessionTTL
		s.log.WarnContext(ctx, "staff login on a short session", "staff_id", acct.ID, "score", risk.Score,
			"reasons", reasonCodes(risk), "rules", risk.RulesVersion, "country", network.Country)
	}
	tok, err := s.randomToken(32)
	if err != nil {
		return StaffSession{}, fmt.Errorf("login: %w", err)
	}
	sess := StaffSession{Token: sessionPrefix + tok, Account: acct, ExpiresAt: now.Add(ttl), Risk: risk}
	if err := s.store.CreateSession(ctx, acct.ID, hashToken(sess.Token), sess.ExpiresAt); err != nil {
		return StaffSession{}, fmt.Errorf("login: %w", err)
	}
	if err := audit("staff.login", map[string]any{"session_expires_at": sess.ExpiresAt,
		"short_session": ttl != SessionTTL}); err != nil {
		return StaffSession{}, fmt.Errorf("login: %w", err)
	}
	// Only an unremarkable login makes its device known: one that needed a
	// short session may be an intruder's.
	if client.DeviceID != "" && risk.Decision == antibot.Accept {
		if err := s.store.RememberStaffDevice(ctx, acct.ID, staffDeviceHash(client.DeviceID), now); err != nil {
			return StaffSession{}, fmt.Errorf("login: %w", err)
		}
	}
	if ttl != SessionTTL {
		s.alertStaff(ctx, acct, network, risk, now)
	}
	return sess, nil
}

// alertStaff tells a staff member that their account was signed in to on a
// short session because the sign-in looked unusual, so a stolen password and
// TOTP seed are noticed by their owner. A mail that cannot be queued is
// logged, not fatal: the login itself is audited.
func (s *Service) alertStaff(ctx context.Context, acct StaffAccount, n ipintel.Network, risk antibot.Assessment, at time.Time) {
	why := make([]string, len(risk.Reasons))
	for i, r := range risk.Reasons {
		why[i] = r.Detail
	}
	m, err := mails.Render(mails.StaffAlert, "en", mails.StaffAlertData{Email: acct.Email, At: at, Country: n.Country,
		SessionMinutes: int(RiskySessionTTL.Minutes()), Reasons: why})
	var id int64
	if err == nil {
		id, err = s.store.QueueMail(ctx, Mail{To: acct.Email, Subject: m.Subject, Body: m.Body, Kind: "staff_alert",
			Intent: mails.StaffAlert})
	}
	if err != nil {
		s.log.ErrorContext(ctx, "staff alert not queued", "staff_id", acct.ID, "err", err)
		return
	}
	if s.notify != nil {
		_ = s.notify.MailQueued(ctx, id) // the outbox sweep retries
	}
}

// totpStep validates a 6-digit code with one step of clock skew and returns
// the time step it belongs to.
func totpStep(secret, code string, now time.Time) (int64, bool) {
	for _, skew := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(skew*30) * time.Second)
		ok, err := totp.ValidateCustom(code, secret, t, totp.ValidateOpts{Period: 30, Skew: 0, Digits: otp.DigitsSix,
			Algorithm: otp.AlgorithmSHA1})
		if err == nil && ok {
			return t.Unix() / 30, true
		}
	}
	return 0, false
}

// AuthenticateStaff accepts a script's bearer token or a browser session.
func (s *Service) AuthenticateStaff(ctx context.Context, token string) (StaffAccount, error) {
	if strings.HasPrefix(token, tokenPrefix) {
		return s.AuthenticateToken(ctx, token)
	}
	if !strings.HasPrefix(token, sessionPrefix) || len(token) > 128 {
		return StaffAccount{}, ErrUnauthorized
	}
	acct, err := s.store.StaffBySession(ctx, hashToken(token), s.clock.Now())
	if errors.Is(err, ErrNotFound) {
		return StaffAccount{}, ErrUnauthorized
	}
	if err != nil {
		return StaffAccount{}, fmt.Errorf("authenticate: %w", err)
	}
	return acct, nil
}

// Logout ends a browser session.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.store.RevokeSession(ctx, hashToken(token))
}

// CanReview reports whether a role may work the review queue.
func CanReview(r Role) bool { return r == RoleReviewer || r == RoleOrganizer }

// ReviewQueue lists an event's flagged entries, riskiest first.
func (s *Service) ReviewQueue(ctx context.Context, actor StaffAccount, slug string, f ReviewFilter) (Event, []Entry, error) {
	if !CanReview(actor.Role) {
		return Event{}, nil, ErrForbidden
	}
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return Event{}, nil, fmt.Errorf("review queue %s: %w", slug, err)
	}
	if f.ClusterID != "" {
		if _, err := uuid.Parse(f.ClusterID); err != nil {
			return Event{}, nil, Fieldf("cluster", "give a cluster id from the queue")
		}
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	entries, err := s.store.ReviewQueue(ctx, ev.ID, f)
	if err != nil {
		return Event{}, nil, fmt.Errorf("review queue %s: %w", slug, err)
	}
	return ev, entries, nil
}

// ReviewEntry shows one entry with every signal, its reasons and the entries
// linked to it.
func (s *Service) ReviewEntry(ctx context.Context, actor StaffAccount, id string) (ReviewDetail, error) {
	if !CanReview(actor.Role) {
		return ReviewDetail{}, ErrForbidden
	}
	if _, err := uuid.Parse(id); err != nil {
		return ReviewDetail{}, ErrNotFound // an entry id is a UUID
	}
	e, err := s.store.Entry(ctx, strings.ToLower(id))
	if err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	ev, err := s.store.EventBySlug(ctx, e.EventSlug)
	if err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	linked, err := s.store.LinkedEntries(ctx, e, 50)
	if err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	d := ReviewDetail{Entry: e, Event: ev, Linked: linked, Network: s.Network(e.ClientIP)}
	if t, err := s.store.EntryTicket(ctx, e.ID); err == nil {
		d.QueueJoin = &t.Risk
	} else if !errors.Is(err, ErrNotFound) {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	if d.OTPRequests, err = s.store.OTPRequests(ctx, e.EventID, e.EmailKey, 10); err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	if err := s.store.Audit(ctx, actor.ID, "review.view", e.ID, nil); err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	return d, nil
}

// Decide applies a reviewer's decision: approve (into the draw), reject,
// or reject the entry's whole cluster. Each change is logged and audited.
func (s *Service) Decide(ctx context.Context, actor StaffAccount, id, decision, note string) ([]string, error) {
	if !CanReview(actor.Role) {
		return nil, ErrForbidden
	}
	switch decision {
	case DecisionApprove, DecisionReject, DecisionRejectCluster:
	default:
		return nil, Fieldf("decision", "use approve, reject or reject_cluster")
	}
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return nil, Fieldf("note", "keep the note under 1000 characters")
	}
	if decision != DecisionApprove && note == "" {
		return nil, Fieldf("note", "say why the entry is rejected")
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrNotFound // an entry id is a UUID
	}
	e, err := s.store.Entry(ctx, strings.ToLower(id))
	if err != nil {
		return nil, fmt.Errorf("decide %s: %w", id, err)
	}
	ev, err := s.cachedEvent(ctx, e.EventSlug)
	if err != nil {
		return nil, fmt.Errorf("decide %s: %w", id, err)
	}
	// A rejection can free a slot an entry held in an ordered group.
	changed, issued, err := s.store.Decide(ctx, Decision{EntryID: e.ID, Decision: decision, Note: note, Actor: actor},
		s.offerTx(ev, "", ""))
	s.notifyOffers(ctx, issued)
	if err != nil {
		return nil, fmt.Errorf("decide %s: %w", id, err)
	}
	return changed, nil
}
