package lottery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"
)

// SessionTTL is how long a staff browser session lasts.
const SessionTTL = 12 * time.Hour

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
	Decide(ctx context.Context, d Decision) ([]string, error)
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
	Entry  Entry
	Event  Event
	Linked []Entry
}

// StaffLogin checks a password and a TOTP code and opens a browser session.
// Every failure is ErrInvalidCredentials, whichever part was wrong.
func (s *Service) StaffLogin(ctx context.Context, email, password, code string) (string, StaffAccount, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	acct, err := s.store.StaffByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", StaffAccount{}, fmt.Errorf("login: %w", err)
	}
	hash := []byte(acct.PasswordHash)
	if acct.ID == 0 {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || acct.ID == 0 {
		if acct.ID != 0 {
			_ = s.store.Audit(ctx, acct.ID, "staff.login_failed", email, map[string]any{"why": "password"})
		}
		return "", StaffAccount{}, ErrInvalidCredentials
	}
	secret, err := s.TOTPSecret(acct)
	if err != nil {
		return "", StaffAccount{}, fmt.Errorf("login: %w", err)
	}
	now := s.clock.Now()
	step, ok := totpStep(secret, strings.TrimSpace(code), now)
	if !ok {
		_ = s.store.Audit(ctx, acct.ID, "staff.login_failed", email, map[string]any{"why": "totp"})
		return "", StaffAccount{}, ErrInvalidCredentials
	}
	fresh, err := s.store.UseTOTPStep(ctx, acct.ID, step)
	if err != nil {
		return "", StaffAccount{}, fmt.Errorf("login: %w", err)
	}
	if !fresh {
		_ = s.store.Audit(ctx, acct.ID, "staff.login_failed", email, map[string]any{"why": "totp_reused"})
		return "", StaffAccount{}, ErrInvalidCredentials
	}
	tok := sessionPrefix + randomToken(32)
	if err := s.store.CreateSession(ctx, acct.ID, hashToken(tok), now.Add(SessionTTL)); err != nil {
		return "", StaffAccount{}, fmt.Errorf("login: %w", err)
	}
	if err := s.store.Audit(ctx, acct.ID, "staff.login", email, nil); err != nil {
		return "", StaffAccount{}, fmt.Errorf("login: %w", err)
	}
	return tok, acct, nil
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
	if err := s.store.Audit(ctx, actor.ID, "review.view", e.ID, nil); err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	return ReviewDetail{Entry: e, Event: ev, Linked: linked}, nil
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
	changed, err := s.store.Decide(ctx, Decision{EntryID: strings.ToLower(id), Decision: decision, Note: note, Actor: actor})
	if err != nil {
		return nil, fmt.Errorf("decide %s: %w", id, err)
	}
	return changed, nil
}
