package offers

import (
	"context"
	"testing"

	"github.com/startline/startline/lottery"
)

// TestInputChecks: requests the service refuses before it reads anything
// (a nil store would panic if it were reached).
func TestInputChecks(t *testing.T) {
	s := NewService(nil, nil, nil, lottery.SystemClock{}, nil, nil)
	org := lottery.StaffAccount{Role: lottery.RoleOrganizer}
	rev := lottery.StaffAccount{Role: lottery.RoleReviewer}
	ctx := context.Background()
	const id = "0b7c3a52-4f0e-4d52-9a8e-2b1f3c4d5e6f"
	tests := []struct {
		name string
		run  func() error
		code string
	}{
		{"action expire is not the runner's", func() error {
			_, err := s.OfferAction(ctx, id, "tok", lottery.OfferActionExpire)
			return err
		}, lottery.CodeNotFound},
		{"unknown action", func() error { _, err := s.OfferAction(ctx, id, "tok", "pay"); return err }, lottery.CodeNotFound},
		{"offer id not a UUID", func() error {
			_, err := s.OfferAction(ctx, "1 OR 1=1", "tok", lottery.OfferActionAccept)
			return err
		}, lottery.CodeNotFound},
		{"pay without a provider", func() error { _, err := s.Pay(ctx, id, "tok", ""); return err }, lottery.CodeUnavailable},
		{"checkout of a non-UUID", func() error { return s.CheckPayable(ctx, "x") }, lottery.CodeNotFound},
		{"webhook without a provider", func() error {
			return s.HandlePaymentWebhook(ctx, "stripe", nil, nil)
		}, lottery.CodeNotFound},
		{"capacity by a reviewer", func() error { _, err := s.SetCapacity(ctx, rev, "e", "a:b", 5); return err }, lottery.CodeForbidden},
		{"capacity below zero", func() error { _, err := s.SetCapacity(ctx, org, "e", "a:b", -1); return err }, lottery.CodeInvalidField},
		{"capacity above a million", func() error {
			_, err := s.SetCapacity(ctx, org, "e", "a:b", 1_000_001)
			return err
		}, lottery.CodeInvalidField},
		{"offer stats by a reviewer", func() error { _, err := s.OfferStats(ctx, rev, "e"); return err }, lottery.CodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lottery.CodeOf(tt.run()); got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
		})
	}
}
