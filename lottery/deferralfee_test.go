package lottery

import (
	"testing"
	"time"
)

func TestDeferralStart(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		fee       int64
		deadline  time.Time
		wantState DeferralState
		wantPayBy time.Time
	}{
		{"free", 0, now.Add(48 * time.Hour), DeferralHeld, time.Time{}},
		{"fee", 5000, now.Add(48 * time.Hour), DeferralPending, now.Add(DeferralPayWindow)},
		{"fee, deadline sooner", 5000, now.Add(10 * time.Minute), DeferralPending, now.Add(10 * time.Minute)},
		{"fee, no deadline", 1, time.Time{}, DeferralPending, now.Add(DeferralPayWindow)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, by := DeferralStart(tt.fee, now, tt.deadline)
			if st != tt.wantState || !by.Equal(tt.wantPayBy) {
				t.Errorf("got %s %v, want %s %v", st, by, tt.wantState, tt.wantPayBy)
			}
		})
	}
}

func TestDeferralFeePayable(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		state DeferralState
		payBy time.Time
		ok    bool
	}{
		{"pending, in time", DeferralPending, now.Add(time.Minute), true},
		{"pending, at its end", DeferralPending, now, false},
		{"pending, late", DeferralPending, now.Add(-time.Minute), false},
		{"held", DeferralHeld, now.Add(time.Minute), false},
		{"cancelled", DeferralCancelled, now.Add(time.Minute), false},
		{"used", DeferralUsed, time.Time{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := DeferralFeePayable(tt.state, tt.payBy, now)
			if (err == nil) != tt.ok || err != nil && CodeOf(err) != CodeInvalidTransition {
				t.Errorf("got %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
