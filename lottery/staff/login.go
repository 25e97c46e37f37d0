package staff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/lottery"
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

// Session is an open staff browser session.
type Session struct {
	Token     string
	Account   lottery.StaffAccount
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

// Login checks a password and a TOTP code and opens a browser session.
// Every failure is lottery.ErrInvalidCredentials, whichever part was wrong,
// except a right password with a TOTP code already used in its window:
// lottery.ErrTOTPReused. Each
// attempt on an account is risk-scored first: a reject is refused with the
// same error even when the credentials are right (and the code is not
// used up); a review gets a short session. Every attempt is audited with its
// assessment and network country, never the address.
func (s *Service) Login(ctx context.Context, email, password, code string, client lottery.ClientInfo) (Session, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	acct, err := s.store.StaffByEmail(ctx, email)
	if err != nil && !errors.Is(err, lottery.ErrNotFound) {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	// Read the history for unknown addresses too, so both take as long.
	hist, err := s.store.StaffLoginHistory(ctx, acct.ID, staffFailureWindow)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	known, err := s.DeviceKnown(ctx, email, client.DeviceID)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	network := s.network(client.IP)
	risk := s.cfg.Rules.AssessStaffLogin(antibot.StaffLoginInput{UserAgent: client.UserAgent, Network: network,
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
		return Session{}, lottery.ErrInvalidCredentials
	}
	if !passwordOK {
		if acct.ID != 0 {
			_ = audit("staff.login_failed", map[string]any{"why": "password"})
		}
		return Session{}, lottery.ErrInvalidCredentials
	}
	secret, err := s.TOTPSecret(acct)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	now := s.clock.Now()
	step, ok := totpStep(secret, strings.TrimSpace(code), now)
	if !ok {
		_ = audit("staff.login_failed", map[string]any{"why": "totp"})
		return Session{}, lottery.ErrInvalidCredentials
	}
	fresh, err := s.store.UseTOTPStep(ctx, acct.ID, step)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	if !fresh {
		_ = audit("staff.login_failed", map[string]any{"why": "totp_reused"})
		// Said apart from a wrong code: only someone with the password
		// and a code valid this minute gets here, and a staff member who
		// signs in twice within one code's window must know to wait.
		return Session{}, lottery.ErrTOTPReused
	}
	ttl := SessionTTL
	if risk.Decision == antibot.Review {
		ttl = RiskySessionTTL
		s.log.WarnContext(ctx, "staff login on a short session", "staff_id", acct.ID, "score", risk.Score,
			"reasons", reasonCodes(risk), "rules", risk.RulesVersion, "country", network.Country)
	}
	tok, err := s.randomToken(32)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	sess := Session{Token: sessionPrefix + tok, Account: acct, ExpiresAt: now.Add(ttl), Risk: risk}
	if err := s.store.CreateSession(ctx, acct.ID, hashToken(sess.Token), sess.ExpiresAt); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	if err := audit("staff.login", map[string]any{"session_expires_at": sess.ExpiresAt,
		"short_session": ttl != SessionTTL}); err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	// Only an unremarkable login makes its device known: one that needed a
	// short session may be an intruder's.
	if client.DeviceID != "" && risk.Decision == antibot.Accept {
		if err := s.store.RememberStaffDevice(ctx, acct.ID, staffDeviceHash(client.DeviceID), now); err != nil {
			return Session{}, fmt.Errorf("login: %w", err)
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
func (s *Service) alertStaff(ctx context.Context, acct lottery.StaffAccount, n ipintel.Network, risk antibot.Assessment, at time.Time) {
	why := make([]string, len(risk.Reasons))
	for i, r := range risk.Reasons {
		why[i] = r.Detail
	}
	m, err := mails.Render(mails.StaffAlert, "en", mails.StaffAlertData{Email: acct.Email, At: at, Country: n.Country,
		SessionMinutes: int(RiskySessionTTL.Minutes()), Reasons: why})
	var id int64
	if err == nil {
		id, err = s.outbox.QueueMail(ctx, lottery.Mail{To: acct.Email, Subject: m.Subject, Body: m.Body, HTML: m.HTML, Kind: "staff_alert",
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

// Authenticate accepts a script's bearer token or a browser session.
func (s *Service) Authenticate(ctx context.Context, token string) (lottery.StaffAccount, error) {
	if strings.HasPrefix(token, tokenPrefix) {
		return s.AuthenticateToken(ctx, token)
	}
	if !strings.HasPrefix(token, sessionPrefix) || len(token) > 128 {
		return lottery.StaffAccount{}, lottery.ErrUnauthorized
	}
	acct, err := s.store.StaffBySession(ctx, hashToken(token), s.clock.Now())
	if errors.Is(err, lottery.ErrNotFound) {
		return lottery.StaffAccount{}, lottery.ErrUnauthorized
	}
	if err != nil {
		return lottery.StaffAccount{}, fmt.Errorf("authenticate: %w", err)
	}
	return acct, nil
}

// Logout ends a browser session.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.store.RevokeSession(ctx, hashToken(token))
}

func reasonCodes(a antibot.Assessment) []string {
	out := make([]string, len(a.Reasons))
	for i, r := range a.Reasons {
		out[i] = r.Code
	}
	return out
}
