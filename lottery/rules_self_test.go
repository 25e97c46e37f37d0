package lottery

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckWithdraw(t *testing.T) {
	opens := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	open := Event{Status: EventPublished, OpensAt: opens, ClosesAt: opens.Add(24 * time.Hour)}
	closed := open
	closed.Status = EventClosed
	frozen := open
	frozen.Status = EventFrozen
	in := opens.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		ev      Event
		st      EntryStatus
		now     time.Time
		already bool
		code    string
	}{
		{"received, open", open, EntryReceived, in, false, ""},
		{"in review, open", open, EntryInReview, in, false, ""},
		{"ordered waitlist, open", open, EntryWaitlisted, in, false, ""},
		{"withdrawn again", closed, EntryWithdrawn, in, true, ""},
		{"after closes_at", open, EntryReceived, open.ClosesAt, false, CodeRegistrationClosed},
		{"closed early", closed, EntryReceived, in, false, CodeRegistrationClosed},
		{"frozen", frozen, EntryReceived, in, false, CodeRegistrationClosed},
		{"holds an ordered slot", open, EntryOffered, in, false, CodeEntryHoldsSlot},
		{"paid an ordered slot", open, EntryConfirmed, in, false, CodeEntryHoldsSlot},
		{"rejected", open, EntryRejected, in, false, CodeInvalidTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			already, err := CheckWithdraw(tc.ev, tc.st, tc.now)
			got := ""
			if err != nil {
				got = CodeOf(err)
			}
			if already != tc.already || got != tc.code {
				t.Errorf("got (%v, %q), want (%v, %q)", already, got, tc.already, tc.code)
			}
		})
	}
}

func TestCheckErase(t *testing.T) {
	for _, tc := range []struct {
		offers []OfferStatus
		want   bool // refused
	}{
		{nil, false}, {[]OfferStatus{OfferDeclined}, false}, {[]OfferStatus{OfferExpired}, false},
		{[]OfferStatus{OfferPending}, true}, {[]OfferStatus{OfferAccepted}, true}, {[]OfferStatus{OfferPaid}, true},
	} {
		if got := CheckErase(tc.offers) != nil; got != tc.want {
			t.Errorf("CheckErase(%v) refused = %v, want %v", tc.offers, got, tc.want)
		}
	}
}

func TestErasedStatus(t *testing.T) {
	for _, tc := range []struct {
		ev       EventStatus
		st, want EntryStatus
	}{
		{EventPublished, EntryReceived, EntryWithdrawn},
		{EventClosed, EntryInReview, EntryWithdrawn},
		{EventPublished, EntryRejected, EntryRejected},
		{EventFrozen, EntryReceived, EntryReceived},
		{EventDrawn, EntryReceived, EntryReceived},
	} {
		if got := ErasedStatus(Event{Status: tc.ev}, tc.st); got != tc.want {
			t.Errorf("ErasedStatus(%s, %s) = %s, want %s", tc.ev, tc.st, got, tc.want)
		}
	}
}

func TestRetentionDue(t *testing.T) {
	closes := time.Date(2027, 3, 8, 0, 0, 0, 0, time.UTC)
	ev := Event{Status: EventSettled, ClosesAt: closes}
	for _, tc := range []struct {
		ev   Event
		now  time.Time
		want bool
	}{
		{ev, closes.Add(24*time.Hour - time.Second), false},
		{ev, closes.Add(24 * time.Hour), true},
		{Event{Status: EventDraft, ClosesAt: closes}, closes.Add(48 * time.Hour), false},
		// With a race date, retention counts from the end of race day in
		// the event's zone: 2027-04-05 ends at 2027-04-05T15:00Z in Seoul.
		{Event{Status: EventSettled, ClosesAt: closes, RaceDate: "2027-04-04", TimeZone: "Asia/Seoul"},
			time.Date(2027, 4, 5, 14, 59, 59, 0, time.UTC), false},
		{Event{Status: EventSettled, ClosesAt: closes, RaceDate: "2027-04-04", TimeZone: "Asia/Seoul"},
			time.Date(2027, 4, 5, 15, 0, 0, 0, time.UTC), true},
	} {
		if got := RetentionDue(tc.ev, 24*time.Hour, tc.now); got != tc.want {
			t.Errorf("RetentionDue(%s, %s) = %v, want %v", tc.ev.Status, tc.now, got, tc.want)
		}
	}
}

func TestCheckMeCode(t *testing.T) {
	now := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	live := now.Add(time.Minute)
	for _, tc := range []struct {
		name string
		try  CodeTry
		want string // "" consumed, else a word of the message
	}{
		{"right", CodeTry{Match: true, ExpiresAt: live}, ""},
		{"wrong", CodeTry{ExpiresAt: live}, "wrong"},
		{"expired", CodeTry{Match: true, ExpiresAt: now}, "expired"},
		{"used", CodeTry{Match: true, Used: true, Attempts: 1, ExpiresAt: live}, "used"},
		{"right after the cap", CodeTry{Match: true, Attempts: 5, ExpiresAt: live}, "too many"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := CheckMeCode(tc.try, now, 5)
			switch {
			case tc.want == "" && !v.Consumed:
				t.Errorf("not consumed: %v", v.Err)
			case tc.want != "" && (v.Consumed || v.Err == nil || !strings.Contains(v.Err.Message, tc.want)):
				t.Errorf("got %+v, want an error saying %q", v, tc.want)
			}
		})
	}
}

func TestAppealRules(t *testing.T) {
	open, frozen := Event{Status: EventClosed}, Event{Status: EventFrozen}
	for _, tc := range []struct {
		name  string
		ev    Event
		st    EntryStatus
		filed bool
		code  string
	}{
		{"rejected, before freeze", open, EntryRejected, false, ""},
		{"not rejected", open, EntryReceived, false, CodeInvalidTransition},
		{"frozen", frozen, EntryRejected, false, CodeAppealClosed},
		{"second", open, EntryRejected, true, CodeAppealExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if err := CheckAppeal(tc.ev, tc.st, tc.filed); err != nil {
				got = CodeOf(err)
			}
			if got != tc.code {
				t.Errorf("got %q, want %q", got, tc.code)
			}
		})
	}
	for _, tc := range []struct {
		decision, note, outcome string
		field                   string
	}{
		{"reinstate", "", AppealReinstated, ""},
		{"uphold", "shared device", AppealUpheld, ""},
		{"uphold", " ", "", "note"},
		{"maybe", "x", "", "decision"},
	} {
		outcome, _, err := CheckAppealDecision(tc.decision, tc.note)
		var e *Error
		if tc.field != "" {
			if err == nil || !errors.As(err, &e) || e.Field != tc.field {
				t.Errorf("%s %q: %v, want a field error on %s", tc.decision, tc.note, err, tc.field)
			}
			continue
		}
		if err != nil || outcome != tc.outcome {
			t.Errorf("%s %q: %q %v, want %q", tc.decision, tc.note, outcome, err, tc.outcome)
		}
	}
}
