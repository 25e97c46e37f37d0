package waitroom

import (
	"testing"

	"github.com/startline/startline/lottery"
)

func TestAdmissions(t *testing.T) {
	tests := []struct {
		name         string
		open, paused bool
		credit, free int64
		want         int64
	}{
		{"open, credit below free slots", true, false, 3, 10, 3},
		{"open, free slots below credit", true, false, 10, 4, 4},
		{"paused admits nobody", true, true, 10, 10, 0},
		{"paused and closed", false, true, 10, 10, 0},
		{"closed admits nobody", false, false, 10, 10, 0},
		{"no credit yet", true, false, 0, 10, 0},
		{"no free slot", true, false, 10, 0, 0},
		{"negative free (over-claimed)", true, false, 10, -3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Admissions(tt.open, tt.paused, tt.credit, tt.free); got != tt.want {
				t.Errorf("Admissions(%v, %v, %d, %d) = %d, want %d", tt.open, tt.paused, tt.credit, tt.free, got, tt.want)
			}
		})
	}
}

func TestCheckControl(t *testing.T) {
	ev := lottery.Event{Status: lottery.EventPublished, Courses: []lottery.Course{{Code: "5k", PaceGroups: []lottery.PaceGroup{
		{Code: "walk", Mode: lottery.ModeOrdered}, {Code: "run", Mode: lottery.ModeLottery}}}}}
	with := func(st lottery.EventStatus) lottery.Event { e := ev; e.Status = st; return e }
	tests := []struct {
		name string
		ev   lottery.Event
		key  string
		code string // "" when allowed
	}{
		{"ordered group", ev, "5k:walk", ""},
		{"closed event still controls its line", with(lottery.EventClosed), "5k:walk", ""},
		{"drawn group has no waiting room", ev, "5k:run", lottery.CodeInvalidField},
		{"unknown group", ev, "5k:fly", lottery.CodeNotFound},
		{"cancelled event", with(lottery.EventCancelled), "5k:walk", lottery.CodeInvalidTransition},
		{"settled event", with(lottery.EventSettled), "5k:walk", lottery.CodeInvalidTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckControl(tt.ev, tt.key)
			if got := lottery.CodeOf(err); err != nil && got != tt.code || err == nil && tt.code != "" {
				t.Errorf("CheckControl(%s) = %v, want code %q", tt.key, err, tt.code)
			}
		})
	}
}

func TestCheckAdmitRate(t *testing.T) {
	for _, tt := range []struct {
		n  int
		ok bool
	}{{0, false}, {1, true}, {60, true}, {100_000, true}, {100_001, false}, {-5, false}} {
		if err := CheckAdmitRate(tt.n); (err == nil) != tt.ok {
			t.Errorf("CheckAdmitRate(%d) = %v, want ok %v", tt.n, err, tt.ok)
		}
	}
}
