package lottery

import (
	"testing"
	"time"
)

func TestSharedCard(t *testing.T) {
	for _, c := range []struct {
		count, allowed int
		want           bool
	}{
		{1, 1, false},
		{2, 1, true},
		{2, 2, false},
		{3, 2, true},
		{1, 0, false}, // no number: the default, one entry per card
		{2, 0, true},
		{1000, 1000, false},
	} {
		if got := SharedCard(c.count, c.allowed); got != c.want {
			t.Errorf("SharedCard(%d, %d) = %t, want %t", c.count, c.allowed, got, c.want)
		}
	}
}

func TestCheckCardPolicy(t *testing.T) {
	for _, c := range []struct {
		name  string
		p     CardPolicy
		field string
	}{
		{"defaults", CardPolicy{Enabled: true}.WithDefaults(), ""},
		{"bounds", CardPolicy{EntriesPerCard: 1000, ChargePerMinute: 100000, MaxAttempts: 10}, ""},
		{"no entries", CardPolicy{EntriesPerCard: 0, ChargePerMinute: 1, MaxAttempts: 1}, "entries_per_card"},
		{"too many entries", CardPolicy{EntriesPerCard: 1001, ChargePerMinute: 1, MaxAttempts: 1}, "entries_per_card"},
		{"no rate", CardPolicy{EntriesPerCard: 1, ChargePerMinute: 0, MaxAttempts: 1}, "charge_per_minute"},
		{"too many attempts", CardPolicy{EntriesPerCard: 1, ChargePerMinute: 1, MaxAttempts: 11}, "max_attempts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckCardPolicy(c.p)
			if got := cardErrField(err); got != c.field {
				t.Errorf("field = %q, want %q (%v)", got, c.field, err)
			}
		})
	}
}

func TestCheckCardPolicyChange(t *testing.T) {
	opens := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	ev := Event{Status: EventPublished, OpensAt: opens, ClosesAt: opens.Add(time.Hour)}
	for _, c := range []struct {
		name string
		ev   Event
		now  time.Time
		ok   bool
	}{
		{"draft", Event{Status: EventDraft}, opens, true},
		{"published, before opening", ev, opens.Add(-time.Second), true},
		{"open", ev, opens, false},
		{"closed", ev, opens.Add(2 * time.Hour), false},
	} {
		if err := c.ev.CheckCardPolicyChange(c.now); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// cardErrField is the field a coded error names ("" for none).
func cardErrField(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Field
	}
	return ""
}
