package lottery

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"
)

// Role is a staff member's permission set.
type Role string

// Staff roles.
const (
	RoleOrganizer Role = "organizer"
	RoleReviewer  Role = "reviewer"
)

// StaffAccount is an organizer or reviewer.
type StaffAccount struct {
	ID           int64
	Email        string
	Role         Role
	PasswordHash string
	TOTPSealed   []byte
	CreatedAt    time.Time
	DisabledAt   *time.Time // set while the account is disabled
}

// Actor returns the log identity of the account.
func (s StaffAccount) Actor() Actor {
	return Actor{StaffID: s.ID, Label: fmt.Sprintf("staff:%d", s.ID)}
}

// Enrolment is what `staff add` prints once: the password (if generated) and
// the otpauth:// URL to scan into an authenticator app.
type Enrolment struct {
	Account  StaffAccount
	Password string
	TOTPURL  string
}

const tokenPrefix = "slt_"

// AddStaff creates a staff account with a bcrypt password and a fresh TOTP
// secret (sealed at rest). An empty password is generated.
func (s *Service) AddStaff(ctx context.Context, email string, role Role, password string) (Enrolment, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Name != "" {
		return Enrolment{}, Fieldf("email", "give a plain e-mail address")
	}
	email = strings.ToLower(addr.Address)
	if role != RoleOrganizer && role != RoleReviewer {
		return Enrolment{}, Fieldf("role", "use organizer or reviewer")
	}
	cred, err := s.newCredentials(email, password)
	if err != nil {
		return Enrolment{}, fmt.Errorf("add staff: %w", err)
	}
	acct, err := s.store.CreateStaff(ctx, StaffAccount{Email: email, Role: role, PasswordHash: cred.hash, TOTPSealed: cred.sealed})
	if err != nil {
		return Enrolment{}, fmt.Errorf("add staff %s: %w", role, err)
	}
	if err := s.store.Audit(ctx, acct.ID, "staff.created", email, map[string]any{"role": role, "via": "cli"}); err != nil {
		return Enrolment{}, fmt.Errorf("add staff: %w", err)
	}
	return Enrolment{Account: acct, Password: cred.generated, TOTPURL: cred.totpURL}, nil
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
		return c, Fieldf("password", "use at least 12 characters")
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

func normalStaffEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

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

// StaffToken describes a bearer token; the token itself is never stored.
type StaffToken struct {
	ID         int64
	Prefix     string // the token's first characters ("" for tokens issued before prefixes were kept)
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// IssueStaffToken creates a bearer token for scripts valid for
// DefaultTokenTTL; only its hash is kept.
func (s *Service) IssueStaffToken(ctx context.Context, email string) (string, error) {
	tok, _, err := s.IssueStaffTokenTTL(ctx, email, DefaultTokenTTL)
	return tok, err
}

// IssueStaffTokenTTL creates a bearer token for scripts that expires after
// ttl (MinTokenTTL to MaxTokenTTL), audited as staff.token_issued.
func (s *Service) IssueStaffTokenTTL(ctx context.Context, email string, ttl time.Duration) (string, StaffToken, error) {
	if ttl < MinTokenTTL || ttl > MaxTokenTTL {
		return "", StaffToken{}, Fieldf("ttl", "give a lifetime between %s and %d days", MinTokenTTL, int(MaxTokenTTL.Hours()/24))
	}
	acct, err := s.store.StaffByEmail(ctx, normalStaffEmail(email))
	if err != nil {
		return "", StaffToken{}, fmt.Errorf("issue token: %w", err)
	}
	tok, err := s.randomToken(32)
	if err != nil {
		return "", StaffToken{}, fmt.Errorf("issue token: %w", err)
	}
	tok = tokenPrefix + tok
	meta := StaffToken{Prefix: tok[:tokenDisplayLen], ExpiresAt: s.clock.Now().Add(ttl).Truncate(time.Second)}
	meta, err = s.store.CreateStaffToken(ctx, acct.ID, hashToken(tok), meta, AuditRecord{Action: "staff.token_issued",
		Target: acct.Email, Details: map[string]any{"via": "cli", "expires_at": meta.ExpiresAt, "prefix": meta.Prefix}})
	if err != nil {
		return "", StaffToken{}, fmt.Errorf("issue token: %w", err)
	}
	return tok, meta, nil
}

// AuthenticateToken returns the staff account behind a live, unexpired
// bearer token of an enabled account, or ErrUnauthorized.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (StaffAccount, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return StaffAccount{}, ErrUnauthorized
	}
	acct, err := s.store.StaffByToken(ctx, hashToken(token), s.clock.Now())
	if errors.Is(err, ErrNotFound) {
		return StaffAccount{}, ErrUnauthorized
	}
	if err != nil {
		return StaffAccount{}, fmt.Errorf("authenticate: %w", err)
	}
	return acct, nil
}

// TOTPSecret opens an account's sealed TOTP secret (for login checks).
func (s *Service) TOTPSecret(acct StaffAccount) (string, error) {
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
