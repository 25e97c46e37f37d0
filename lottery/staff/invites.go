package staff

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

// Invitations (issue 14): an organizer invites a reviewer or another
// organizer to the organization from the console. The invitee gets a mail
// with a link carrying a one-time token (only its hash is stored), sets a
// password on the accept page and enrols an authenticator there; the
// account is created in the inviting organization with the invited role.

// InviteTTL is how long an invitation's link works.
const InviteTTL = 7 * 24 * time.Hour

// Invitation states (InviteState).
const (
	InvitePending  = "pending"
	InviteAccepted = "accepted"
	InviteRevoked  = "revoked"
	InviteExpired  = "expired"
)

// Invite is an invitation to join an organization.
type Invite struct {
	ID             int64
	OrgID          int64
	Email          string
	Role           lottery.Role
	InvitedBy      int64
	InvitedByEmail string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	AcceptedAt     *time.Time
	RevokedAt      *time.Time
}

// InviteStore is what invitations ask of persistence; lottery/postgres
// implements it with the rest of Store.
type InviteStore interface {
	// CreateInvite stores an invitation (its token's hash), its audit row
	// (staff.invited) and its mail in one transaction, and returns the
	// invitation and the mail's outbox id.
	CreateInvite(ctx context.Context, inv Invite, tokenHash []byte, m lottery.Mail) (Invite, int64, error)
	// OrgInvites lists an organization's invitations that were neither
	// accepted nor revoked (expired ones included), newest first.
	OrgInvites(ctx context.Context, orgID int64, limit int) ([]Invite, error)
	// RevokeInvite revokes an organization's invitation under a lock after
	// allow, with its audit row; lottery.ErrNotFound (also for another
	// organization's), or allow's error.
	RevokeInvite(ctx context.Context, orgID, id int64, by lottery.StaffAccount, now time.Time, allow func(Invite) error) (Invite, error)
	// InviteByToken returns the invitation with the token's hash; lottery.ErrNotFound.
	InviteByToken(ctx context.Context, tokenHash []byte) (Invite, error)
	// AcceptInvite, under a lock on the invitation, calls allow, creates the
	// account (in the invitation's organization with its role), marks the
	// invitation accepted and audits staff.created, in one transaction;
	// lottery.ErrNotFound, lottery.ErrStaffExists, or allow's error.
	AcceptInvite(ctx context.Context, tokenHash []byte, acct lottery.StaffAccount, now time.Time, allow func(Invite) error) (lottery.StaffAccount, error)
	// OrgStaff lists an organization's accounts, disabled ones included, by address.
	OrgStaff(ctx context.Context, orgID int64) ([]lottery.StaffAccount, error)
}

// InviteState is what an invitation is at now: accepted or revoked once
// that happened, else expired from ExpiresAt on, else pending.
func InviteState(inv Invite, now time.Time) string {
	switch {
	case inv.AcceptedAt != nil:
		return InviteAccepted
	case inv.RevokedAt != nil:
		return InviteRevoked
	case !now.Before(inv.ExpiresAt):
		return InviteExpired
	}
	return InvitePending
}

// CheckInvite is the rule for an invitation's input: a plain e-mail address
// (returned lower-cased) and the role organizer or reviewer. Errors are
// field errors (email, role).
func CheckInvite(email string, role lottery.Role) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Name != "" || len(addr.Address) > 254 {
		return "", lottery.Fieldf("email", "give a plain e-mail address")
	}
	if role != lottery.RoleOrganizer && role != lottery.RoleReviewer {
		return "", lottery.Fieldf("role", "choose organizer or reviewer")
	}
	return normalEmail(addr.Address), nil
}

// ErrInviteUnusable refuses an invitation that is no longer pending
// (accepted, revoked or expired); the accept page says which.
var ErrInviteUnusable = &lottery.Error{Code: lottery.CodeConflict, Field: "invite",
	Message: "this invitation can no longer be used; ask your organizer for a new one"}

// usable is the rule an invitation must pass to be accepted or revoked.
func usable(now time.Time) func(Invite) error {
	return func(inv Invite) error {
		if InviteState(inv, now) != InvitePending {
			return ErrInviteUnusable
		}
		return nil
	}
}

// InviteRequest is an organizer's invitation from the console.
type InviteRequest struct {
	Email string
	Role  lottery.Role
	Lang  string // the mail's language: "ko", else English
	// Origin is the site's public scheme and host (STARTLINE_PUBLIC_URL,
	// else what the browser used): the mail's link is absolute.
	Origin string
}

// InvitePath is where an invitation's link points (with the token after it).
const InvitePath = "/staff/invite/"

// Invite invites an address to the organizer's organization: an
// organizer only; an address with an account already is
// lottery.ErrStaffExists. The mail (mails.StaffInvite) is rendered now, as
// the plain token exists only in it, and queued with the invitation.
func (s *Service) Invite(ctx context.Context, actor lottery.StaffAccount, req InviteRequest) (Invite, error) {
	if actor.Role != lottery.RoleOrganizer || actor.OrgID == 0 {
		return Invite{}, lottery.ErrForbidden
	}
	email, err := CheckInvite(req.Email, req.Role)
	if err != nil {
		return Invite{}, err
	}
	if _, err := s.store.StaffAccountByEmail(ctx, email); err == nil {
		return Invite{}, &lottery.Error{Code: lottery.CodeStaffExists, Field: "email",
			Message: "this address already has a staff account"}
	} else if !errors.Is(err, lottery.ErrNotFound) {
		return Invite{}, fmt.Errorf("invite: %w", err)
	}
	org, err := s.store.OrganizationByID(ctx, actor.OrgID)
	if err != nil {
		return Invite{}, fmt.Errorf("invite: %w", err)
	}
	tok, err := s.randomToken(32)
	if err != nil {
		return Invite{}, fmt.Errorf("invite: %w", err)
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	inv := Invite{OrgID: actor.OrgID, Email: email, Role: req.Role, InvitedBy: actor.ID, InvitedByEmail: actor.Email,
		CreatedAt: now, ExpiresAt: now.Add(InviteTTL)}
	msg, err := mails.Render(mails.StaffInvite, req.Lang, mails.StaffInviteData{Org: org.Name, InvitedBy: actor.Email,
		Role: string(req.Role), Link: strings.TrimRight(req.Origin, "/") + InvitePath + tok, ExpiresAt: inv.ExpiresAt})
	if err != nil {
		return Invite{}, fmt.Errorf("invite: %w", err)
	}
	inv, id, err := s.store.CreateInvite(ctx, inv, hashToken(tok), lottery.Mail{To: email, Subject: msg.Subject,
		Body: msg.Body, HTML: msg.HTML, Kind: "staff_invite", Intent: mails.StaffInvite})
	if err != nil {
		return Invite{}, fmt.Errorf("invite: %w", err)
	}
	if s.notify != nil {
		_ = s.notify.MailQueued(ctx, id) // the outbox sweep retries
	}
	return inv, nil
}

// Team is an organization's members and open invitations: the console's
// Team page.
type Team struct {
	Org     lottery.Organization
	Members []lottery.StaffAccount
	Invites []Invite // neither accepted nor revoked, newest first
}

// Team returns the organizer's organization's members and invitations.
func (s *Service) Team(ctx context.Context, actor lottery.StaffAccount) (Team, error) {
	if actor.Role != lottery.RoleOrganizer || actor.OrgID == 0 {
		return Team{}, lottery.ErrForbidden
	}
	var t Team
	var err error
	if t.Org, err = s.store.OrganizationByID(ctx, actor.OrgID); err != nil {
		return Team{}, fmt.Errorf("team: %w", err)
	}
	if t.Members, err = s.store.OrgStaff(ctx, actor.OrgID); err != nil {
		return Team{}, fmt.Errorf("team: %w", err)
	}
	if t.Invites, err = s.store.OrgInvites(ctx, actor.OrgID, 200); err != nil {
		return Team{}, fmt.Errorf("team: %w", err)
	}
	return t, nil
}

// RevokeInvite withdraws a pending invitation of the organizer's
// organization (audited staff.invite_revoked); another organization's is
// lottery.ErrNotFound, one no longer pending ErrInviteUnusable.
func (s *Service) RevokeInvite(ctx context.Context, actor lottery.StaffAccount, id int64) (Invite, error) {
	if actor.Role != lottery.RoleOrganizer || actor.OrgID == 0 {
		return Invite{}, lottery.ErrForbidden
	}
	inv, err := s.store.RevokeInvite(ctx, actor.OrgID, id, actor, s.clock.Now().UTC(), usable(s.clock.Now()))
	if err != nil {
		return Invite{}, fmt.Errorf("revoke invite %d: %w", id, err)
	}
	return inv, nil
}

// Invitation returns the invitation a link's token names, in whatever
// state (InviteState); an unknown token is lottery.ErrNotFound.
func (s *Service) Invitation(ctx context.Context, token string) (Invite, error) {
	if token == "" || len(token) > 128 {
		return Invite{}, lottery.ErrNotFound
	}
	inv, err := s.store.InviteByToken(ctx, hashToken(token))
	if err != nil {
		return Invite{}, fmt.Errorf("invitation: %w", err)
	}
	return inv, nil
}

// AcceptInvite creates the invited account with password (at least 12
// characters; required) and a fresh TOTP secret, and returns the
// enrolment to show once. lottery.ErrNotFound for an unknown token,
// ErrInviteUnusable for one no longer pending, lottery.ErrStaffExists when
// the address got an account meanwhile, field errors on password.
func (s *Service) AcceptInvite(ctx context.Context, token, password string) (Enrolment, error) {
	inv, err := s.Invitation(ctx, token)
	if err != nil {
		return Enrolment{}, err
	}
	now := s.clock.Now()
	if err := usable(now)(inv); err != nil {
		return Enrolment{}, err
	}
	if password == "" {
		return Enrolment{}, lottery.Fieldf("password", "use at least 12 characters")
	}
	cred, err := s.newCredentials(inv.Email, password)
	if err != nil {
		return Enrolment{}, err
	}
	acct, err := s.store.AcceptInvite(ctx, hashToken(token), lottery.StaffAccount{Email: inv.Email, Role: inv.Role,
		PasswordHash: cred.hash, TOTPSealed: cred.sealed, OrgID: inv.OrgID}, now.UTC(), usable(now))
	if err != nil {
		return Enrolment{}, fmt.Errorf("accept invite: %w", err)
	}
	return Enrolment{Account: acct, TOTPURL: cred.totpURL}, nil
}
