package checkin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

func TestCheckPickup(t *testing.T) {
	now := time.Date(2027, 4, 4, 7, 0, 0, 0, time.UTC)
	earlier := now.Add(-20 * time.Minute)
	for _, tc := range []struct {
		name   string
		e      Entry
		code   string // "" ok
		reason string
	}{
		{"confirmed", Entry{Status: lottery.EntryConfirmed}, "", ""},
		{"already picked up", Entry{Status: lottery.EntryConfirmed, PickedUpAt: &earlier}, CodeAlreadyPickedUp, ""},
		{"withdrawn or given back", Entry{Status: lottery.EntryWithdrawn}, CodeNotConfirmed, ReasonWithdrawn},
		{"erased", Entry{Status: lottery.EntryConfirmed, Erased: true}, CodeNotConfirmed, ReasonErased},
		{"offered, not paid", Entry{Status: lottery.EntryOffered}, CodeNotConfirmed, ReasonNotAccepted},
		{"expired", Entry{Status: lottery.EntryExpired}, CodeNotConfirmed, ReasonNotAccepted},
		{"declined", Entry{Status: lottery.EntryDeclined}, CodeNotConfirmed, ReasonNotAccepted},
		{"selected", Entry{Status: lottery.EntrySelected}, CodeNotConfirmed, ReasonNotAccepted},
		{"waitlisted", Entry{Status: lottery.EntryWaitlisted}, CodeNotConfirmed, ReasonNotAccepted},
		{"rejected", Entry{Status: lottery.EntryRejected}, CodeNotConfirmed, ReasonNotAccepted},
		{"event cancelled, paid slots refunded", Entry{Status: lottery.EntryConfirmed, EventState: lottery.EventCancelled}, CodeNotConfirmed, ReasonCancelled},
		{"transferred away", Entry{Status: lottery.EntryTransferred}, CodeNotConfirmed, ReasonTransferred},
		{"deferred to the next edition", Entry{Status: lottery.EntryDeferred}, CodeNotConfirmed, ReasonDeferred},
		{"a status check-in does not know", Entry{Status: "archived"}, CodeNotConfirmed, ReasonNoLonger},
		{"withdrawn after pickup", Entry{Status: lottery.EntryWithdrawn, PickedUpAt: &earlier}, CodeNotConfirmed, ReasonWithdrawn},
	} {
		err := CheckPickup(tc.e, now)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v, want ok", tc.name, err)
			}
			continue
		}
		var r *Refusal
		if !errors.As(err, &r) || r.Code != tc.code || r.Reason != tc.reason {
			t.Errorf("%s: %v, want %s %s", tc.name, err, tc.code, tc.reason)
			continue
		}
		if tc.code == CodeAlreadyPickedUp && (r.At == nil || !r.At.Equal(earlier)) {
			t.Errorf("%s: refusal says when %v, want %v", tc.name, r.At, earlier)
		}
	}
}

func TestCheckinCode(t *testing.T) {
	s := NewSigner([]byte("k1"))
	id := "0b7c5a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21"
	code, err := s.Code(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 43 || strings.ToUpper(code) != code {
		t.Fatalf("code %q: want 43 upper-case characters", code)
	}
	for _, typed := range []string{code, strings.ToLower(code), code[:10] + " " + code[10:20] + "-" + code[20:]} {
		got, err := s.Entry(typed)
		if err != nil || got != id {
			t.Errorf("Entry(%q) = %q, %v; want %q", typed, got, err, id)
		}
	}
	flip := []byte(code)
	flip[5] = map[bool]byte{true: 'B', false: 'A'}[flip[5] == 'A']
	for _, bad := range []string{"", "1", "2" + code[1:], string(flip), code[:42]} {
		if _, err := s.Entry(bad); !errors.Is(err, ErrBadCode) {
			t.Errorf("Entry(%q): %v, want ErrBadCode", bad, err)
		}
	}
	if _, err := NewSigner([]byte("k2")).Entry(code); !errors.Is(err, ErrBadCode) {
		t.Errorf("another key's signer read the code: %v", err)
	}
	if _, err := s.Code("not-a-uuid"); err == nil {
		t.Error("a non-uuid id got a code")
	}
}
