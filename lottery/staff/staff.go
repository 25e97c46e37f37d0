// Package staff is who may act as staff: accounts (organizers and
// reviewers) with a bcrypt password and a sealed TOTP secret, bearer tokens
// for scripts, browser sessions, the risk-scored login with its known
// devices, and the access commands (disable, enable, revoke, reset). The
// account type itself (lottery.StaffAccount) is shared; this package owns
// how one is created, signed in and locked out.
package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/lottery"
)

// Store is what staff access asks of persistence. Accounts are looked up by
// their lower-cased address.
type Store interface {
	// CreateStaff stores an account (in the default organization when
	// its OrgID is 0); lottery.ErrStaffExists.
	CreateStaff(ctx context.Context, s lottery.StaffAccount) (lottery.StaffAccount, error)
	// EnsureOrganization returns the organization with the slug, creating
	// it (named name, or the slug) when missing.
	EnsureOrganization(ctx context.Context, slug, name string) (lottery.Organization, error)
	// OrganizationByID returns an organization; lottery.ErrNotFound.
	OrganizationByID(ctx context.Context, id int64) (lottery.Organization, error)
	// StaffByEmail returns an enabled account; lottery.ErrNotFound.
	StaffByEmail(ctx context.Context, email string) (lottery.StaffAccount, error)
	// StaffAccountByEmail returns an account, disabled or not; lottery.ErrNotFound.
	StaffAccountByEmail(ctx context.Context, email string) (lottery.StaffAccount, error)
	// CreateStaffToken stores a bearer token's hash and t's prefix and
	// expiry with its audit record, and returns t with its id and creation time.
	CreateStaffToken(ctx context.Context, staffID int64, hash []byte, t Token, a lottery.AuditRecord) (Token, error)
	// StaffByToken returns the enabled account a live token hash, unexpired
	// at now, belongs to, and notes the token's use; lottery.ErrNotFound.
	StaffByToken(ctx context.Context, hash []byte, now time.Time) (lottery.StaffAccount, error)
	// StaffTokens lists an account's bearer tokens, newest first.
	StaffTokens(ctx context.Context, staffID int64) ([]Token, error)
	// ChangeStaffAccess applies c with its audit record in one transaction;
	// lottery.ErrNotFound for an unknown account or token.
	ChangeStaffAccess(ctx context.Context, c AccessChange) (AccessResult, error)
	// CreateSession stores a session token's hash.
	CreateSession(ctx context.Context, staffID int64, hash []byte, expires time.Time) error
	// StaffBySession returns the live account of a live session; lottery.ErrNotFound.
	StaffBySession(ctx context.Context, hash []byte, now time.Time) (lottery.StaffAccount, error)
	// RevokeSession ends a session.
	RevokeSession(ctx context.Context, hash []byte) error
	// UseTOTPStep records a TOTP time step as used; false when it (or a
	// later one) was used already, so each code works once.
	UseTOTPStep(ctx context.Context, staffID int64, step int64) (bool, error)
	// StaffLoginHistory summarises an account's audited login attempts for
	// risk scoring: failed and blocked attempts within the last window, the
	// countries of its successful logins, and whether it ever logged in.
	StaffLoginHistory(ctx context.Context, staffID int64, window time.Duration) (LoginHistory, error)
	// StaffDeviceKnown reports whether a device (its hash) signed in to the
	// enabled account with this address before (false for unknown addresses).
	StaffDeviceKnown(ctx context.Context, email string, deviceHash []byte) (bool, error)
	// RememberStaffDevice records a device's successful sign-in.
	RememberStaffDevice(ctx context.Context, staffID int64, deviceHash []byte, at time.Time) error
	// Audit appends a staff action to the audit log.
	Audit(ctx context.Context, staffID int64, action, target string, details map[string]any) error
	InviteStore
}

// Outbox queues the alert mail of an unusual sign-in (the outbox every
// concept shares).
type Outbox interface {
	// QueueMail puts one message in the outbox and returns its id.
	QueueMail(ctx context.Context, m lottery.Mail) (int64, error)
}

// Notifier asks for a queued mail to be sent now; a failure is not fatal
// (the outbox sweep retries). The worker client is one.
type Notifier interface {
	MailQueued(ctx context.Context, outboxID int64) error
}

// Config tunes a Service; zero values take the defaults.
type Config struct {
	Rules    antibot.StaffRules // login scoring (default antibot.DefaultStaffRules)
	Networks *ipintel.DB        // where client addresses are; nil: the embedded tables
	// Random is where tokens, sessions, generated passwords and TOTP
	// secrets come from; nil: crypto/rand. It must be safe for concurrent
	// use. Tests may fix it.
	Random io.Reader
}

// Service runs staff accounts, tokens, sessions and logins.
type Service struct {
	store  Store
	outbox Outbox
	keys   *lottery.Keys
	clock  lottery.Clock
	notify Notifier
	log    *slog.Logger
	cfg    Config
	random io.Reader
}

// NewService wires a Service. notify may be nil (alerts wait for the
// outbox sweep).
func NewService(store Store, outbox Outbox, keys *lottery.Keys, clock lottery.Clock, notify Notifier, log *slog.Logger, cfg Config) *Service {
	if cfg.Rules.Version == "" {
		cfg.Rules = antibot.DefaultStaffRules
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	return &Service{store: store, outbox: outbox, keys: keys, clock: clock, notify: notify, log: log, cfg: cfg,
		random: cfg.Random}
}

// network is what the IP tables know of a client address (country and
// network kind), for scoring.
func (s *Service) network(ip string) ipintel.Network {
	db := s.cfg.Networks
	if db == nil {
		db = ipintel.Default() // loaded on first use
	}
	return db.LookupString(ip)
}

// Enrolment is what `staff add` prints once: the password (if generated) and
// the otpauth:// URL to scan into an authenticator app.
type Enrolment struct {
	Account  lottery.StaffAccount
	Password string
	TOTPURL  string
}

const tokenPrefix = "slt_"

// Add creates a staff account in the default organization (AddTo).
func (s *Service) Add(ctx context.Context, email string, role lottery.Role, password string) (Enrolment, error) {
	return s.AddTo(ctx, lottery.DefaultOrg, email, role, password)
}

// AddTo creates a staff account of the organization org (a slug; created
// when missing) with a bcrypt password and a fresh TOTP secret (sealed at
// rest). An empty password is generated.
func (s *Service) AddTo(ctx context.Context, org, email string, role lottery.Role, password string) (Enrolment, error) {
	org = strings.ToLower(strings.TrimSpace(org))
	if org == "" {
		org = lottery.DefaultOrg
	}
	if !ValidOrgSlug(org) {
		return Enrolment{}, lottery.Fieldf("org", "use lower-case letters, digits and dashes (up to 64)")
	}
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Name != "" {
		return Enrolment{}, lottery.Fieldf("email", "give a plain e-mail address")
	}
	email = strings.ToLower(addr.Address)
	if role != lottery.RoleOrganizer && role != lottery.RoleReviewer {
		return Enrolment{}, lottery.Fieldf("role", "use organizer or reviewer")
	}
	cred, err := s.newCredentials(email, password)
	if err != nil {
		return Enrolment{}, fmt.Errorf("add staff: %w", err)
	}
	o, err := s.store.EnsureOrganization(ctx, org, "")
	if err != nil {
		return Enrolment{}, fmt.Errorf("add staff: %w", err)
	}
	acct, err := s.store.CreateStaff(ctx, lottery.StaffAccount{Email: email, Role: role, PasswordHash: cred.hash,
		TOTPSealed: cred.sealed, OrgID: o.ID})
	if err != nil {
		return Enrolment{}, fmt.Errorf("add staff %s: %w", role, err)
	}
	if err := s.store.Audit(ctx, acct.ID, "staff.created", email, map[string]any{"role": role, "via": "cli", "org": org}); err != nil {
		return Enrolment{}, fmt.Errorf("add staff: %w", err)
	}
	return Enrolment{Account: acct, Password: cred.generated, TOTPURL: cred.totpURL}, nil
}

// ValidOrgSlug reports whether s may name an organization: 1–64 lower-case
// letters, digits and dashes, not starting with a dash.
func ValidOrgSlug(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// Organization returns the organization of an account; ErrNotFound.
func (s *Service) Organization(ctx context.Context, a lottery.StaffAccount) (lottery.Organization, error) {
	o, err := s.store.OrganizationByID(ctx, a.OrgID)
	if err != nil {
		return lottery.Organization{}, fmt.Errorf("organization of staff %d: %w", a.ID, err)
	}
	return o, nil
}

// credentials are a new password hash and TOTP secret for an account.
type credentials struct {
	hash      string // bcrypt of the password
	sealed    []byte // the TOTP secret, sealed to the address
	generated string // the password when it was generated, else ""
	totpURL   string // the otpauth:// enrolment URL
}

// newCredentials hashes password (generated when empty; at least 12
// characters) and makes a fresh TOTP secret for email. Errors are
// ErrInvalidField for a short password.
func (s *Service) newCredentials(email, password string) (credentials, error) {
	var c credentials
	if password == "" {
		var err error
		if c.generated, err = s.randomToken(15); err != nil {
			return c, fmt.Errorf("generate password: %w", err)
		}
		password = c.generated
	}
	if len(password) < 12 {
		return c, lottery.Fieldf("password", "use at least 12 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return c, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Startline", AccountName: email, Rand: s.random})
	if err != nil {
		return c, fmt.Errorf("totp: %w", err)
	}
	if c.sealed, err = s.keys.Seal([]byte(key.Secret()), "totp:"+email); err != nil {
		return c, err
	}
	c.hash, c.totpURL = string(hash), key.URL()
	return c, nil
}

func normalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Bearer token lifetimes: a token that leaks from a script or a CI log stops
// working on its own.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 366 * 24 * time.Hour
	MinTokenTTL     = time.Minute
)

// tokenDisplayLen is how much of a token `staff tokens` shows: the "slt_"
// prefix and 4 random characters (24 of its 256 bits), enough to tell a
// script's token from another's, useless to an attacker.
const tokenDisplayLen = len(tokenPrefix) + 4

// Token describes a bearer token; the token itself is never stored.
type Token struct {
	ID         int64
	Prefix     string // the token's first characters ("" for tokens issued before prefixes were kept)
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// IssueToken creates a bearer token for scripts valid for
// DefaultTokenTTL; only its hash is kept.
func (s *Service) IssueToken(ctx context.Context, email string) (string, error) {
	tok, _, err := s.IssueTokenTTL(ctx, email, DefaultTokenTTL)
	return tok, err
}

// IssueTokenTTL creates a bearer token for scripts that expires after
// ttl (MinTokenTTL to MaxTokenTTL), audited as staff.token_issued.
func (s *Service) IssueTokenTTL(ctx context.Context, email string, ttl time.Duration) (string, Token, error) {
	if ttl < MinTokenTTL || ttl > MaxTokenTTL {
		return "", Token{}, lottery.Fieldf("ttl", "give a lifetime between %s and %d days", MinTokenTTL, int(MaxTokenTTL.Hours()/24))
	}
	acct, err := s.store.StaffByEmail(ctx, normalEmail(email))
	if err != nil {
		return "", Token{}, fmt.Errorf("issue token: %w", err)
	}
	tok, err := s.randomToken(32)
	if err != nil {
		return "", Token{}, fmt.Errorf("issue token: %w", err)
	}
	tok = tokenPrefix + tok
	meta := Token{Prefix: tok[:tokenDisplayLen], ExpiresAt: s.clock.Now().Add(ttl).Truncate(time.Second)}
	meta, err = s.store.CreateStaffToken(ctx, acct.ID, hashToken(tok), meta, lottery.AuditRecord{Action: "staff.token_issued",
		Target: acct.Email, Details: map[string]any{"via": "cli", "expires_at": meta.ExpiresAt, "prefix": meta.Prefix}})
	if err != nil {
		return "", Token{}, fmt.Errorf("issue token: %w", err)
	}
	return tok, meta, nil
}

// AuthenticateToken returns the staff account behind a live, unexpired
// bearer token of an enabled account, or ErrUnauthorized.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (lottery.StaffAccount, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return lottery.StaffAccount{}, lottery.ErrUnauthorized
	}
	acct, err := s.store.StaffByToken(ctx, hashToken(token), s.clock.Now())
	if errors.Is(err, lottery.ErrNotFound) {
		return lottery.StaffAccount{}, lottery.ErrUnauthorized
	}
	if err != nil {
		return lottery.StaffAccount{}, fmt.Errorf("authenticate: %w", err)
	}
	return acct, nil
}

// TOTPSecret opens an account's sealed TOTP secret (for login checks).
func (s *Service) TOTPSecret(acct lottery.StaffAccount) (string, error) {
	b, err := s.keys.Open(acct.TOTPSealed, "totp:"+acct.Email)
	return string(b), err
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// randomToken returns n bytes of the service's random source, base64url.
func (s *Service) randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.random, b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
