package staff

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/startline/startline/lottery"
)

// AccessChange is one change to who may act as a staff account,
// applied by the store in one transaction together with its audit record,
// so an access change is never half done nor unrecorded.
type AccessChange struct {
	StaffID int64
	// Disable sets disabled_at; Enable clears it (never both).
	Disable, Enable bool
	// PasswordHash and TOTPSealed, when set, replace the credentials (and
	// clear the used TOTP step: the new secret's codes are all unused).
	PasswordHash string
	TOTPSealed   []byte
	// RevokeTokens revokes every live bearer token; TokenID, when set
	// instead, only that one (lottery.ErrNotFound when it is not a live token of
	// the account).
	RevokeTokens bool
	TokenID      int64
	// RevokeSessions ends every browser session.
	RevokeSessions bool
	// ForgetDevices drops the account's known devices, so a device an
	// intruder signed in from loses its standing.
	ForgetDevices bool
	Audit         lottery.AuditRecord
}

// AccessResult counts what an AccessChange ended.
type AccessResult struct {
	Tokens   int // bearer tokens revoked
	Sessions int // browser sessions ended
}

// staffAccess loads an account (disabled ones too) for an access command.
func (s *Service) staffAccess(ctx context.Context, email string) (lottery.StaffAccount, error) {
	acct, err := s.store.StaffAccountByEmail(ctx, normalEmail(email))
	if errors.Is(err, lottery.ErrNotFound) {
		return lottery.StaffAccount{}, &lottery.Error{Code: lottery.CodeNotFound, Field: "email", Message: "no staff account has this address"}
	}
	if err != nil {
		return lottery.StaffAccount{}, err
	}
	return acct, nil
}

// Disable disables an account: its bearer tokens and sessions stop
// working at once (and are revoked, so enabling it again does not bring a
// stolen one back), and it can no longer sign in. Audited as staff.disabled.
func (s *Service) Disable(ctx context.Context, email string) (AccessResult, error) {
	acct, err := s.staffAccess(ctx, email)
	if err != nil {
		return AccessResult{}, fmt.Errorf("disable: %w", err)
	}
	res, err := s.store.ChangeStaffAccess(ctx, AccessChange{StaffID: acct.ID, Disable: true, RevokeTokens: true,
		RevokeSessions: true, Audit: lottery.AuditRecord{Action: "staff.disabled", Target: acct.Email,
			Details: map[string]any{"via": "cli", "was_disabled": acct.DisabledAt != nil}}})
	if err != nil {
		return AccessResult{}, fmt.Errorf("disable: %w", err)
	}
	return res, nil
}

// Enable lets a disabled account sign in again; its old tokens stay
// revoked. Audited as staff.enabled.
func (s *Service) Enable(ctx context.Context, email string) error {
	acct, err := s.staffAccess(ctx, email)
	if err != nil {
		return fmt.Errorf("enable: %w", err)
	}
	_, err = s.store.ChangeStaffAccess(ctx, AccessChange{StaffID: acct.ID, Enable: true,
		Audit: lottery.AuditRecord{Action: "staff.enabled", Target: acct.Email,
			Details: map[string]any{"via": "cli", "was_disabled": acct.DisabledAt != nil}}})
	if err != nil {
		return fmt.Errorf("enable: %w", err)
	}
	return nil
}

// RevokeTokens revokes one bearer token (tokenID > 0) or, with
// tokenID 0, every bearer token and browser session of the account: a
// sign-out everywhere. Audited as staff.token_revoked or staff.tokens_revoked.
func (s *Service) RevokeTokens(ctx context.Context, email string, tokenID int64) (AccessResult, error) {
	acct, err := s.staffAccess(ctx, email)
	if err != nil {
		return AccessResult{}, fmt.Errorf("revoke tokens: %w", err)
	}
	c := AccessChange{StaffID: acct.ID, RevokeTokens: true, RevokeSessions: true,
		Audit: lottery.AuditRecord{Action: "staff.tokens_revoked", Target: acct.Email, Details: map[string]any{"via": "cli"}}}
	if tokenID > 0 {
		c = AccessChange{StaffID: acct.ID, TokenID: tokenID, Audit: lottery.AuditRecord{Action: "staff.token_revoked",
			Target: acct.Email, Details: map[string]any{"via": "cli", "token_id": tokenID}}}
	}
	res, err := s.store.ChangeStaffAccess(ctx, c)
	if err != nil {
		return AccessResult{}, fmt.Errorf("revoke tokens: %w", err)
	}
	return res, nil
}

// Reset gives an account a new password (generated when empty) and a
// new TOTP secret, revokes its tokens and sessions and forgets its known
// devices: what to do when a password or an authenticator may be in the
// wrong hands, or is lost. It does not enable a disabled account. Audited
// as staff.reset.
func (s *Service) Reset(ctx context.Context, email, password string) (Enrolment, AccessResult, error) {
	acct, err := s.staffAccess(ctx, email)
	if err != nil {
		return Enrolment{}, AccessResult{}, fmt.Errorf("reset: %w", err)
	}
	cred, err := s.newCredentials(acct.Email, password)
	if err != nil {
		return Enrolment{}, AccessResult{}, fmt.Errorf("reset: %w", err)
	}
	res, err := s.store.ChangeStaffAccess(ctx, AccessChange{StaffID: acct.ID, PasswordHash: cred.hash,
		TOTPSealed: cred.sealed, RevokeTokens: true, RevokeSessions: true, ForgetDevices: true,
		Audit: lottery.AuditRecord{Action: "staff.reset", Target: acct.Email,
			Details: map[string]any{"via": "cli", "password_generated": cred.generated != ""}}})
	if err != nil {
		return Enrolment{}, AccessResult{}, fmt.Errorf("reset: %w", err)
	}
	return Enrolment{Account: acct, Password: cred.generated, TOTPURL: cred.totpURL}, res, nil
}

// Tokens lists an account's bearer tokens (never the tokens themselves).
func (s *Service) Tokens(ctx context.Context, email string) (lottery.StaffAccount, []Token, error) {
	acct, err := s.staffAccess(ctx, email)
	if err != nil {
		return lottery.StaffAccount{}, nil, fmt.Errorf("list tokens: %w", err)
	}
	toks, err := s.store.StaffTokens(ctx, acct.ID)
	if err != nil {
		return lottery.StaffAccount{}, nil, fmt.Errorf("list tokens: %w", err)
	}
	return acct, toks, nil
}

// staffDeviceHash names a device in staff_devices: the sl_device cookie id
// is a bearer secret of sorts (with the signature), so only a hash is kept.
func staffDeviceHash(id string) []byte {
	h := sha256.Sum256([]byte("staff-device|" + id))
	return h[:]
}

// DeviceKnown reports whether the device with the signed cookie id
// deviceID signed in to the staff account at email before, with an
// accepted risk score. Such a device's attempts are counted apart from
// strangers' (gate.StaffLogin) and ignore the account's recent failures.
// It answers false, with the same one query, for addresses that are not
// staff.
func (s *Service) DeviceKnown(ctx context.Context, email, deviceID string) (bool, error) {
	if deviceID == "" {
		return false, nil
	}
	known, err := s.store.StaffDeviceKnown(ctx, normalEmail(email), staffDeviceHash(deviceID))
	if err != nil {
		return false, fmt.Errorf("staff device: %w", err)
	}
	return known, nil
}
