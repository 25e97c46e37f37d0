package lottery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
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
	generated := ""
	if password == "" {
		generated = randomToken(15)
		password = generated
	}
	if len(password) < 12 {
		return Enrolment{}, Fieldf("password", "use at least 12 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return Enrolment{}, fmt.Errorf("add staff: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Startline", AccountName: email})
	if err != nil {
		return Enrolment{}, fmt.Errorf("add staff: totp: %w", err)
	}
	sealed, err := s.keys.Seal([]byte(key.Secret()), "totp:"+email)
	if err != nil {
		return Enrolment{}, fmt.Errorf("add staff: %w", err)
	}
	acct, err := s.store.CreateStaff(ctx, StaffAccount{Email: email, Role: role, PasswordHash: string(hash), TOTPSealed: sealed})
	if err != nil {
		return Enrolment{}, fmt.Errorf("add staff %s: %w", role, err)
	}
	if err := s.store.Audit(ctx, acct.ID, "staff.created", email, map[string]any{"role": role, "via": "cli"}); err != nil {
		return Enrolment{}, fmt.Errorf("add staff: %w", err)
	}
	return Enrolment{Account: acct, Password: generated, TOTPURL: key.URL()}, nil
}

// IssueStaffToken creates a bearer token for scripts; only its hash is kept.
func (s *Service) IssueStaffToken(ctx context.Context, email string) (string, error) {
	acct, err := s.store.StaffByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return "", fmt.Errorf("issue token for %s: %w", email, err)
	}
	tok := tokenPrefix + randomToken(32)
	if err := s.store.CreateStaffToken(ctx, acct.ID, hashToken(tok)); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	if err := s.store.Audit(ctx, acct.ID, "staff.token_issued", acct.Email, map[string]any{"via": "cli"}); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return tok, nil
}

// AuthenticateToken returns the staff account behind a bearer token, or
// ErrUnauthorized.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (StaffAccount, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return StaffAccount{}, ErrUnauthorized
	}
	acct, err := s.store.StaffByToken(ctx, hashToken(token))
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

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
