package lottery

import (
	"errors"
	"testing"
	"time"
)

func TestCheckDeferral(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	open := DeferralSettings{Deadline: now.Add(time.Hour), FeeMinor: 5000, Cap: 2}
	tests := []struct {
		name string
		c    DeferralCase
		want error
	}{
		{"confirmed before deadline under cap", DeferralCase{Status: EntryConfirmed, InSeries: true, Settings: open, Deferred: 1, Now: now}, nil},
		{"no cap", DeferralCase{Status: EntryConfirmed, InSeries: true, Settings: DeferralSettings{Deadline: now.Add(time.Minute)}, Deferred: 500, Now: now}, nil},
		{"offered, not confirmed", DeferralCase{Status: EntryOffered, InSeries: true, Settings: open, Now: now}, ErrNotConfirmed},
		{"already deferred", DeferralCase{Status: EntryDeferred, InSeries: true, Settings: open, Now: now}, ErrNotConfirmed},
		{"bib picked up", DeferralCase{Status: EntryConfirmed, InSeries: true, Settings: open, Now: now, PickedUp: true}, ErrDeferralPickedUp},
		{"transfer open", DeferralCase{Status: EntryConfirmed, InSeries: true, Settings: open, Now: now, TransferOpen: true}, ErrDeferralTransferOpen},
		{"no series", DeferralCase{Status: EntryConfirmed, Settings: open, Now: now}, ErrNoNextEdition},
		{"not offered", DeferralCase{Status: EntryConfirmed, InSeries: true, Now: now}, ErrDeferralClosed},
		{"at the deadline", DeferralCase{Status: EntryConfirmed, InSeries: true, Settings: open, Now: open.Deadline}, ErrDeferralClosed},
		{"after the deadline", DeferralCase{Status: EntryConfirmed, InSeries: true, Settings: open, Now: open.Deadline.Add(time.Second)}, ErrDeferralClosed},
		{"cap reached", DeferralCase{Status: EntryConfirmed, InSeries: true, Settings: open, Deferred: 2, Now: now}, ErrDeferralFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckDeferral(tt.c); !errors.Is(got, tt.want) {
				t.Errorf("CheckDeferral() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDrawCapacity(t *testing.T) {
	tests := []struct{ capacity, deferred, want int }{
		{100, 0, 100},
		{100, 3, 97},
		{3, 3, 0},
		{2, 5, 0},
		{0, 0, 0},
		{10, -1, 10},
	}
	for _, tt := range tests {
		if got := DrawCapacity(tt.capacity, tt.deferred); got != tt.want {
			t.Errorf("DrawCapacity(%d, %d) = %d, want %d", tt.capacity, tt.deferred, got, tt.want)
		}
	}
}

func TestDeferralTarget(t *testing.T) {
	keys := []string{"full:sub-330", "full:open", "10k:open"}
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"full:open", "full:open", true},
		{"full:sub-300", "full:sub-330", true},
		{"10k:fast", "10k:open", true},
		{"half:open", "", false},
	}
	for _, tt := range tests {
		got, ok := DeferralTarget(tt.key, keys)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("DeferralTarget(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestCheckDeferralSettings(t *testing.T) {
	d := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		s     DeferralSettings
		field string
	}{
		{"ok", DeferralSettings{Deadline: d, FeeMinor: 1000, Cap: 5}, ""},
		{"no deadline", DeferralSettings{}, "deadline"},
		{"negative fee", DeferralSettings{Deadline: d, FeeMinor: -1}, "fee_minor"},
		{"negative cap", DeferralSettings{Deadline: d, Cap: -1}, "cap"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDeferralSettings(tt.s)
			var e *Error
			got := ""
			if errors.As(err, &e) {
				got = e.Field
			}
			if got != tt.field {
				t.Errorf("field = %q, want %q (%v)", got, tt.field, err)
			}
		})
	}
}
