package lottery

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDisputeWindowRules(t *testing.T) {
	frozen := time.Date(2027, 3, 9, 9, 0, 0, 0, time.UTC)
	revealed := frozen.Add(25 * time.Hour)
	ev := func(status EventStatus, window time.Duration, f, r *time.Time) Event {
		return Event{Status: status, DisputeWindow: window, FrozenAt: f, RevealedAt: r}
	}
	for _, c := range []struct {
		name       string
		ev         Event
		now        time.Time
		open       bool // disputes taken
		revealCode string
	}{
		{"before freeze", ev(EventClosed, 24*time.Hour, nil, nil), frozen, false, ""},
		{"just frozen", ev(EventFrozen, 24*time.Hour, &frozen, nil), frozen, true, CodeDisputeWindowOpen},
		{"a second before the end", ev(EventFrozen, 24*time.Hour, &frozen, nil), frozen.Add(24*time.Hour - time.Second), true, CodeDisputeWindowOpen},
		{"at the end", ev(EventFrozen, 24*time.Hour, &frozen, nil), frozen.Add(24 * time.Hour), false, ""},
		{"no window", ev(EventFrozen, 0, &frozen, nil), frozen, false, ""},
		{"revealed", ev(EventFrozen, 48*time.Hour, &frozen, &revealed), revealed, false, CodeDisputeWindowOpen},
		{"drawn", ev(EventDrawn, 24*time.Hour, &frozen, &revealed), frozen.Add(time.Hour), false, CodeDisputeWindowOpen},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := DisputeWindowOpen(c.ev, c.now); got != c.open {
				t.Errorf("DisputeWindowOpen = %v, want %v", got, c.open)
			}
			err := CheckRevealWindow(c.ev, c.now)
			if got := codeOrEmpty(err); got != c.revealCode {
				t.Errorf("CheckRevealWindow = %v, want code %q", err, c.revealCode)
			}
			if err != nil && !strings.Contains(err.Error(), c.ev.FrozenAt.Add(c.ev.DisputeWindow).Format(time.RFC3339)) {
				t.Errorf("the refusal does not say when the window ends: %v", err)
			}
		})
	}
}

func TestNextStatusRevealWaitsForTheWindow(t *testing.T) {
	frozen := time.Date(2027, 3, 9, 9, 0, 0, 0, time.UTC)
	e := Event{Status: EventFrozen, FrozenAt: &frozen, DisputeWindow: time.Hour}
	if _, err := e.NextStatus(ActionReveal, frozen.Add(59*time.Minute)); !errors.Is(err, ErrDisputeWindowOpen) {
		t.Errorf("reveal inside the window: %v", err)
	}
	if to, err := e.NextStatus(ActionReveal, frozen.Add(time.Hour)); err != nil || to != EventFrozen {
		t.Errorf("reveal after the window: %v %v", to, err)
	}
}

func TestCheckDispute(t *testing.T) {
	frozen := time.Date(2027, 3, 9, 9, 0, 0, 0, time.UTC)
	open := Event{Status: EventFrozen, FrozenAt: &frozen, DisputeWindow: 24 * time.Hour}
	for _, c := range []struct {
		name  string
		ev    Event
		filed int
		now   time.Time
		want  error
	}{
		{"first", open, 0, frozen.Add(time.Hour), nil},
		{"last allowed", open, MaxDisputesPerEntry - 1, frozen.Add(time.Hour), nil},
		{"over the limit", open, MaxDisputesPerEntry, frozen.Add(time.Hour), ErrDisputeLimit},
		{"window over", open, 0, frozen.Add(24 * time.Hour), ErrDisputeWindowClosed},
		{"not frozen", Event{Status: EventClosed, DisputeWindow: 24 * time.Hour}, 0, frozen, ErrDisputeWindowClosed},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckDispute(c.ev, c.filed, c.now)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("CheckDispute = %v, want %v", err, c.want)
			}
		})
	}
}

func TestDisputeMessage(t *testing.T) {
	for _, c := range []struct {
		name, in, want, field string
	}{
		{"plain", "My tickets should be 4.", "My tickets should be 4.", ""},
		{"trimmed", "  two lines\nof text \n", "two lines\nof text", ""},
		{"Korean cut on a character", strings.Repeat("가", MaxDisputeRunes+3), strings.Repeat("가", MaxDisputeRunes), ""},
		{"exactly the limit", strings.Repeat("a", MaxDisputeRunes), strings.Repeat("a", MaxDisputeRunes), ""},
		{"empty", "", "", "message"},
		{"blank", " \u200b\u3164 ", "", "message"},
		{"control character", "a\x00b", "", "message"},
		{"invalid UTF-8", "a\xffb", "", "message"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := DisputeMessage(c.in)
			if c.field != "" {
				var e *Error
				if !errors.As(err, &e) || e.Field != c.field {
					t.Fatalf("DisputeMessage(%q) = %q, %v; want a %s error", c.in, got, err, c.field)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("DisputeMessage = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestCheckAnswer(t *testing.T) {
	for _, c := range []struct {
		outcome, text, field string
	}{
		{DisputeUpheld, "Your earlier application was missed; the organizer will correct it.", ""},
		{DisputeDenied, "The record shows no earlier application.", ""},
		{"maybe", "text", "outcome"},
		{"", "text", "outcome"},
		{DisputeDenied, "   ", "answer"},
	} {
		_, err := CheckAnswer(c.outcome, c.text)
		var e *Error
		if got := ""; errors.As(err, &e) {
			got = e.Field
			if got != c.field {
				t.Errorf("CheckAnswer(%q, %q) field %q, want %q", c.outcome, c.text, got, c.field)
			}
		} else if c.field != "" || err != nil {
			t.Errorf("CheckAnswer(%q, %q) = %v, want field %q", c.outcome, c.text, err, c.field)
		}
	}
}

func codeOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return CodeOf(err)
}
