package staff

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

func TestInviteState(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	at := now.Add(-time.Hour)
	for _, tc := range []struct {
		name string
		inv  Invite
		want string
	}{
		{"open", Invite{ExpiresAt: now.Add(time.Second)}, InvitePending},
		{"expires now", Invite{ExpiresAt: now}, InviteExpired},
		{"expired", Invite{ExpiresAt: now.Add(-InviteTTL)}, InviteExpired},
		{"accepted", Invite{ExpiresAt: now.Add(time.Hour), AcceptedAt: &at}, InviteAccepted},
		{"accepted, since expired", Invite{ExpiresAt: now.Add(-time.Minute), AcceptedAt: &at}, InviteAccepted},
		{"revoked", Invite{ExpiresAt: now.Add(time.Hour), RevokedAt: &at}, InviteRevoked},
		{"revoked, since expired", Invite{ExpiresAt: now.Add(-time.Minute), RevokedAt: &at}, InviteRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := InviteState(tc.inv, now); got != tc.want {
				t.Errorf("InviteState = %q, want %q", got, tc.want)
			}
			if err := usable(now)(tc.inv); (err == nil) != (tc.want == InvitePending) {
				t.Errorf("usable: %v with state %s", err, tc.want)
			}
		})
	}
}

func TestCheckInvite(t *testing.T) {
	for _, tc := range []struct {
		name, email string
		role        lottery.Role
		want, field string
	}{
		{"reviewer", " Ji.Woo@Example.com ", lottery.RoleReviewer, "ji.woo@example.com", ""},
		{"organizer", "boss@example.com", lottery.RoleOrganizer, "boss@example.com", ""},
		{"a name with the address", "Ji Woo <jiwoo@example.com>", lottery.RoleReviewer, "", "email"},
		{"not an address", "jiwoo", lottery.RoleReviewer, "", "email"},
		{"empty", "", lottery.RoleReviewer, "", "email"},
		{"unknown role", "jiwoo@example.com", "admin", "", "role"},
		{"no role", "jiwoo@example.com", "", "", "role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckInvite(tc.email, tc.role)
			if tc.field != "" {
				if e, ok := err.(*lottery.Error); !ok || e.Code != lottery.CodeInvalidField || e.Field != tc.field {
					t.Fatalf("CheckInvite(%q, %q) = %v, want a field error on %s", tc.email, tc.role, err, tc.field)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("CheckInvite(%q, %q) = %q, %v; want %q", tc.email, tc.role, got, err, tc.want)
			}
		})
	}
}

// TestInviteRefusedBeforePersistence: only an organizer with an
// organization invites, lists the team or revokes; bad input is refused
// before the store is asked (it is nil here and would panic).
func TestInviteRefusedBeforePersistence(t *testing.T) {
	s := NewService(nil, nil, nil, &lottery.FixedClock{}, nil, slog.New(slog.DiscardHandler), Config{})
	ctx := context.Background()
	rev := lottery.StaffAccount{ID: 1, Role: lottery.RoleReviewer, OrgID: 1}
	orphan := lottery.StaffAccount{ID: 2, Role: lottery.RoleOrganizer}
	org := lottery.StaffAccount{ID: 3, Role: lottery.RoleOrganizer, OrgID: 1}
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"reviewer invites", func() error {
			_, err := s.Invite(ctx, rev, InviteRequest{Email: "a@example.com", Role: lottery.RoleReviewer})
			return err
		}, lottery.CodeForbidden},
		{"organizer without an organization", func() error {
			_, err := s.Invite(ctx, orphan, InviteRequest{Email: "a@example.com", Role: lottery.RoleReviewer})
			return err
		}, lottery.CodeForbidden},
		{"bad address", func() error {
			_, err := s.Invite(ctx, org, InviteRequest{Email: "nope", Role: lottery.RoleReviewer})
			return err
		}, lottery.CodeInvalidField},
		{"reviewer's team", func() error { _, err := s.Team(ctx, rev); return err }, lottery.CodeForbidden},
		{"reviewer revokes", func() error { _, err := s.RevokeInvite(ctx, rev, 1); return err }, lottery.CodeForbidden},
		{"empty token", func() error { _, err := s.Invitation(ctx, ""); return err }, lottery.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lottery.CodeOf(tc.call()); got != tc.want {
				t.Errorf("code %q, want %q", got, tc.want)
			}
		})
	}
}
