package review

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/startline/startline/lottery"
)

// TestCheckDecision: the ruling rule, table-driven.
func TestCheckDecision(t *testing.T) {
	for _, tc := range []struct {
		name, decision, note string
		wantNote, wantField  string // wantField "" for a valid ruling
	}{
		{"approve without a note", DecisionApprove, "", "", ""},
		{"approve, note trimmed", DecisionApprove, "  looks fine \n", "looks fine", ""},
		{"reject with a reason", DecisionReject, " bot farm ", "bot farm", ""},
		{"reject cluster with a reason", DecisionRejectCluster, "one device", "one device", ""},
		{"reject without a reason", DecisionReject, "   ", "", "note"},
		{"reject cluster without a reason", DecisionRejectCluster, "", "", "note"},
		{"note too long", DecisionApprove, strings.Repeat("x", 1001), "", "note"},
		{"note at the limit", DecisionReject, strings.Repeat("x", 1000), strings.Repeat("x", 1000), ""},
		{"unknown decision", "maybe", "hmm", "", "decision"},
		{"empty decision", "", "", "", "decision"},
		{"case matters", "Approve", "", "", "decision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckDecision(tc.decision, tc.note)
			if tc.wantField != "" {
				var e *lottery.Error
				if lottery.CodeOf(err) != lottery.CodeInvalidField || !errors.As(err, &e) || e.Field != tc.wantField {
					t.Fatalf("CheckDecision(%q, %.20q) = %v, want invalid_field on %s", tc.decision, tc.note, err, tc.wantField)
				}
				return
			}
			if err != nil || got != tc.wantNote {
				t.Errorf("CheckDecision(%q, %.20q) = %q, %v; want %q", tc.decision, tc.note, got, err, tc.wantNote)
			}
		})
	}
}

// TestRefusedBeforePersistence: a role that may not review, a bad ruling or
// an entry id that is not a UUID is answered before the store is asked
// anything (the store here is nil and would panic).
func TestRefusedBeforePersistence(t *testing.T) {
	s := NewService(nil, &lottery.FixedClock{}, nil, slog.New(slog.DiscardHandler), nil)
	ctx := context.Background()
	rev := lottery.StaffAccount{ID: 1, Role: lottery.RoleReviewer}
	nobody := lottery.StaffAccount{ID: 2, Role: "intern"}
	const id = "5f0c7a2e-8a55-4a39-9a8a-3b8f0f6f2d10"
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"queue, no review role", func() error { _, _, err := s.Queue(ctx, nobody, "spring", Filter{}); return err }, lottery.CodeForbidden},
		{"entry, no review role", func() error { _, err := s.Entry(ctx, nobody, id); return err }, lottery.CodeForbidden},
		{"entry, not a UUID", func() error { _, err := s.Entry(ctx, rev, "42"); return err }, lottery.CodeNotFound},
		{"decide, no review role", func() error { _, err := s.Decide(ctx, nobody, id, DecisionApprove, ""); return err }, lottery.CodeForbidden},
		{"decide, bad ruling", func() error { _, err := s.Decide(ctx, rev, id, "maybe", "x"); return err }, lottery.CodeInvalidField},
		{"decide, not a UUID", func() error { _, err := s.Decide(ctx, rev, "42", DecisionApprove, ""); return err }, lottery.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lottery.CodeOf(tc.call()); got != tc.want {
				t.Errorf("code %q, want %q", got, tc.want)
			}
		})
	}
}
