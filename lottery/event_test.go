package lottery

import (
	"errors"
	"testing"
	"time"
)

func TestPhase(t *testing.T) {
	opens := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	ev := Event{Status: EventPublished, OpensAt: opens, ClosesAt: opens.Add(time.Hour)}
	tests := []struct {
		name   string
		status EventStatus
		at     time.Time
		want   EventStatus
		open   error
	}{
		{"draft", EventDraft, opens.Add(time.Minute), EventDraft, ErrNotOpen},
		{"published, before window", EventPublished, opens.Add(-time.Nanosecond), EventPublished, ErrNotOpen},
		{"published, at opens_at", EventPublished, opens, EventOpen, nil},
		{"published, just before closes_at", EventPublished, opens.Add(time.Hour - time.Nanosecond), EventOpen, nil},
		{"published, at closes_at", EventPublished, opens.Add(time.Hour), EventClosed, ErrClosed},
		{"closed early", EventClosed, opens.Add(time.Minute), EventClosed, ErrClosed},
		{"frozen", EventFrozen, opens.Add(time.Minute), EventFrozen, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev.Status = tt.status
			if got := ev.Phase(tt.at); got != tt.want {
				t.Errorf("Phase = %s, want %s", got, tt.want)
			}
			if err := ev.CheckOpen(tt.at); !errors.Is(err, tt.open) && !(err == nil && tt.open == nil) {
				t.Errorf("CheckOpen = %v, want %v", err, tt.open)
			}
		})
	}
}

func TestTickets(t *testing.T) {
	tests := []struct {
		rule     string
		previous int
		want     int
	}{
		{TicketRuleNone, 0, 1}, {TicketRuleNone, 5, 1},
		{TicketRuleDoubling, 0, 1}, {TicketRuleDoubling, 1, 2}, {TicketRuleDoubling, 3, 8},
		{TicketRuleDoubling, 11, 2048}, {TicketRuleDoubling, 12, 4096}, {TicketRuleDoubling, 100, 4096},
	}
	for _, tt := range tests {
		ev := Event{TicketRule: tt.rule}
		if got := ev.Tickets(tt.previous); got != tt.want {
			t.Errorf("%s, %d previous: got %d tickets, want %d", tt.rule, tt.previous, got, tt.want)
		}
	}
}

func TestNextStatus(t *testing.T) {
	tests := []struct {
		from   EventStatus
		action string
		want   EventStatus
		ok     bool
	}{
		{EventDraft, "publish", EventPublished, true},
		{EventPublished, "publish", "", false},
		{EventPublished, "close", EventClosed, true},
		{EventDraft, "close", "", false},
		{EventClosed, "close", "", false},
		{EventDraft, "teleport", "", false},
	}
	for _, tt := range tests {
		got, err := NextStatus(tt.from, tt.action)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("%s %s: got %s %v, want %s", tt.action, tt.from, got, err, tt.want)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidTransition) {
			t.Errorf("%s %s: got %v, want invalid_transition", tt.action, tt.from, err)
		}
	}
}

func TestParsePace(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"", 0, true}, {"5:30", 330, true}, {"4:05", 245, true},
		{"5:3", 0, false}, {"5", 0, false}, {"a:bc", 0, false}, {"0:00", 0, false}, {"5:60", 0, false},
	}
	for _, tt := range tests {
		got, err := parsePace(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parsePace(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if got := FormatPace(330); got != "5:30" {
		t.Errorf("FormatPace(330) = %q", got)
	}
	if got := FormatHold(48 * time.Hour); got != "48h" {
		t.Errorf("FormatHold(48h) = %q", got)
	}
}

func TestKeys(t *testing.T) {
	k, err := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewKeys([]byte("short")); err == nil {
		t.Error("short master key accepted")
	}
	tok := k.ReceiptToken("entry-1")
	if !k.CheckReceipt("entry-1", tok) || k.CheckReceipt("entry-2", tok) || k.CheckReceipt("entry-1", tok+"x") {
		t.Error("receipt token check wrong")
	}
	sealed, err := k.Seal([]byte("seed"), "seed:spring")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Open(sealed, "seed:spring"); err != nil || string(got) != "seed" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := k.Open(sealed, "seed:autumn"); err == nil {
		t.Error("sealed value opened under another label")
	}
	other, _ := NewKeys([]byte("another-master-key-of-32-bytes!!"))
	if other.ReceiptToken("entry-1") == tok {
		t.Error("receipt token does not depend on the key")
	}
}
