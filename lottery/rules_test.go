package lottery

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery/fairdraw"
)

func TestCodeConsumes(t *testing.T) {
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	live := now.Add(time.Minute)
	tests := []struct {
		name string
		try  CodeTry
		want bool
	}{
		{"right code, first try", CodeTry{Match: true, ExpiresAt: live}, true},
		{"right code, last allowed try", CodeTry{Match: true, Attempts: 4, ExpiresAt: live}, true},
		{"right code after the cap", CodeTry{Match: true, Attempts: 5, ExpiresAt: live}, false},
		{"wrong code", CodeTry{ExpiresAt: live}, false},
		{"right code, used", CodeTry{Match: true, Used: true, ExpiresAt: live}, false},
		{"right code at expiry", CodeTry{Match: true, ExpiresAt: now}, false},
		{"right code a microsecond before expiry", CodeTry{Match: true, ExpiresAt: now.Add(time.Microsecond)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeConsumes(tt.try, now, OTPMaxAttempts); got != tt.want {
				t.Errorf("CodeConsumes(%+v) = %t, want %t", tt.try, got, tt.want)
			}
		})
	}
}

func TestCheckCode(t *testing.T) {
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	live, gone := now.Add(time.Minute), now.Add(-time.Minute)
	const (
		wrong   = "the code is wrong"
		expired = "the code has expired; request a new one"
		tooMany = "too many attempts; request a new code"
	)
	tests := []struct {
		name          string
		try           CodeTry
		consumed      bool
		usedElsewhere bool
		msg           string // the failed try's message; empty: no error
	}{
		{"right code", CodeTry{Match: true, ExpiresAt: live}, true, false, ""},
		{"right code on the fifth try", CodeTry{Match: true, Attempts: 4, ExpiresAt: live}, true, false, ""},
		{"wrong code", CodeTry{ExpiresAt: live}, false, false, wrong},
		{"wrong code on the fifth try", CodeTry{Attempts: 4, ExpiresAt: live}, false, false, wrong},
		{"wrong code on the sixth try", CodeTry{Attempts: 5, ExpiresAt: live}, false, false, tooMany},
		{"wrong code, expired", CodeTry{ExpiresAt: gone}, false, false, expired},
		{"right code, expired", CodeTry{Match: true, ExpiresAt: gone}, false, false, expired},
		{"right code, expired, too many", CodeTry{Match: true, Attempts: 7, ExpiresAt: gone}, false, false, tooMany},
		{"right code used by another request", CodeTry{Match: true, Used: true, Attempts: 1, ExpiresAt: live}, false, true, ""},
		// The request that consumed the code did so on the fifth try: its
		// retry is a duplicate, not "too many attempts".
		{"right code used on the last try", CodeTry{Match: true, Used: true, Attempts: 5, ExpiresAt: live}, false, true, ""},
		{"right code unused on the sixth try", CodeTry{Match: true, Attempts: 5, ExpiresAt: live}, false, true, ""},
		{"right code used, tried past the cap", CodeTry{Match: true, Used: true, Attempts: 6, ExpiresAt: live}, false, false, tooMany},
		{"right code used, expired", CodeTry{Match: true, Used: true, Attempts: 1, ExpiresAt: gone}, false, false, expired},
		{"wrong code after the right one was used", CodeTry{Used: true, Attempts: 1, ExpiresAt: live}, false, false, wrong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := CheckCode(tt.try, now, OTPMaxAttempts)
			if v.Consumed != tt.consumed || v.UsedElsewhere != tt.usedElsewhere {
				t.Errorf("CheckCode(%+v) = consumed %t, used elsewhere %t; want %t, %t",
					tt.try, v.Consumed, v.UsedElsewhere, tt.consumed, tt.usedElsewhere)
			}
			got := ""
			if v.Err != nil {
				if v.Err.Code != CodeInvalidOTP || v.Err.Field != "otp" {
					t.Errorf("error %v: want code %s on field otp", v.Err, CodeInvalidOTP)
				}
				got = v.Err.Message
			}
			if got != tt.msg {
				t.Errorf("message %q, want %q", got, tt.msg)
			}
			if v.Consumed != CodeConsumes(tt.try, now, OTPMaxAttempts) {
				t.Errorf("CheckCode and CodeConsumes disagree")
			}
		})
	}
}

func TestGroupCode(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		max     int
		want    string
		wantErr string // the message of the field error; empty: none
	}{
		{"solo", "", 4, "", ""},
		{"solo, blank", "   ", 1, "", ""},
		{"normalized", "  Team-A7 ", 4, "team-a7", ""},
		{"no groups at this event", "team", 1, "", "this event does not take group entries"},
		{"bad characters", "team a", 4, "", "use 1 to 64 letters, digits and dashes"},
		{"too long", "a234567890123456789012345678901234567890123456789012345678901234x", 4, "",
			"use 1 to 64 letters, digits and dashes"},
		{"64 characters", "a234567890123456789012345678901234567890123456789012345678901234", 4,
			"a234567890123456789012345678901234567890123456789012345678901234", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GroupCode(tt.raw, tt.max)
			msg := ""
			var e *Error
			if errors.As(err, &e) {
				msg = e.Message
				if e.Code != CodeInvalidField || e.Field != "group_code" {
					t.Errorf("error %v: want invalid_field on group_code", e)
				}
			} else if err != nil {
				t.Fatalf("error %v is not a coded error", err)
			}
			if got != tt.want || msg != tt.wantErr {
				t.Errorf("GroupCode(%q, %d) = %q, %q; want %q, %q", tt.raw, tt.max, got, msg, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCheckGroupJoin(t *testing.T) {
	const here, there = 7, 8
	tests := []struct {
		name    string
		members []GroupMembers
		max     int
		want    string // error code; empty: may join
	}{
		{"new group", nil, 4, ""},
		{"room for one more", []GroupMembers{{here, 3}}, 4, ""},
		{"full", []GroupMembers{{here, 4}}, 4, CodeGroupFull},
		{"over full (the size was lowered)", []GroupMembers{{here, 5}}, 4, CodeGroupFull},
		{"in another sub-queue", []GroupMembers{{there, 1}}, 4, CodeInvalidField},
		{"another sub-queue wins over full", []GroupMembers{{here, 4}, {there, 1}}, 4, CodeInvalidField},
		{"pairs only", []GroupMembers{{here, 1}}, 2, ""},
		{"pair full", []GroupMembers{{here, 2}}, 2, CodeGroupFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckGroupJoin(tt.members, here, tt.max)
			got := ""
			if err != nil {
				got = CodeOf(err)
				if f := err.(*Error).Field; f != "group_code" {
					t.Errorf("field %q, want group_code", f)
				}
			}
			if got != tt.want {
				t.Errorf("CheckGroupJoin(%v, max %d) = %v, want code %q", tt.members, tt.max, err, tt.want)
			}
		})
	}
}

func TestDuplicateEntry(t *testing.T) {
	tests := []struct {
		name  string
		taken IdentityTaken
		field string
		msg   string
	}{
		{"e-mail", IdentityTaken{Email: true}, "email", ErrDuplicateEntry.Message},
		{"e-mail named before phone and person", IdentityTaken{Email: true, Phone: true, Person: true}, "email",
			ErrDuplicateEntry.Message},
		{"phone", IdentityTaken{Phone: true}, "phone", "an entry with this phone number exists for this event"},
		{"phone named before person", IdentityTaken{Phone: true, Person: true}, "phone",
			"an entry with this phone number exists for this event"},
		{"name and birth date", IdentityTaken{Person: true}, "name",
			"an entry for this name and birth date exists for this event"},
		{"none found", IdentityTaken{}, "", ErrDuplicateEntry.Message},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DuplicateEntry(tt.taken)
			want := &Error{Code: CodeDuplicateEntry, Field: tt.field, Message: tt.msg}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("DuplicateEntry(%+v) (-want +got):\n%s", tt.taken, diff)
			}
		})
	}
	if ErrDuplicateEntry.Field != "" {
		t.Errorf("DuplicateEntry changed the sentinel: %+v", ErrDuplicateEntry)
	}
}

func TestFreeSlots(t *testing.T) {
	for _, tt := range []struct{ capacity, live, want int }{{10, 0, 10}, {10, 4, 6}, {10, 10, 0}, {3, 5, 0}, {0, 0, 0}} {
		if got := FreeSlots(tt.capacity, tt.live); got != tt.want {
			t.Errorf("FreeSlots(%d, %d) = %d, want %d", tt.capacity, tt.live, got, tt.want)
		}
	}
}

func unit(pos int, id string, selected, offered bool, members ...string) WaitlistUnit {
	if len(members) == 0 {
		members = []string{id}
	}
	return WaitlistUnit{OrderItem: fairdraw.OrderItem{Position: pos, UnitID: id, EntryIDs: members, Selected: selected},
		Offered: offered}
}

func TestReleasedSlots(t *testing.T) {
	order := []WaitlistUnit{
		unit(1, "a", true, true),
		unit(2, "b", true, true),
		unit(3, "c", false, true),                           // offered once, declined: not again
		unit(4, "g1", false, false, "g1-1", "g1-2", "g1-3"), // a group of three
		unit(5, "d", false, false),
		unit(6, "g2", false, false, "g2-1", "g2-2"),
		unit(7, "e", false, false),
	}
	tests := []struct {
		name          string
		free          int
		want          []string // unit ids offered, in order
		wantRemaining int
	}{
		{"no slot", 0, nil, 0},
		{"one slot skips the group of three", 1, []string{"d"}, 0},
		{"two slots: the solo, then the pair does not fit", 2, []string{"d", "e"}, 0},
		{"three slots: the group first", 3, []string{"g1"}, 0},
		{"four slots", 4, []string{"g1", "d"}, 0},
		{"six slots", 6, []string{"g1", "d", "g2"}, 0},
		{"more slots than waiting", 10, []string{"g1", "d", "g2", "e"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offered, remaining := ReleasedSlots(order, tt.free)
			var got []string
			for _, it := range offered {
				got = append(got, it.UnitID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || remaining != tt.wantRemaining {
				t.Errorf("ReleasedSlots(free %d): remaining %d (want %d), units (-want +got):\n%s",
					tt.free, remaining, tt.wantRemaining, diff)
			}
		})
	}
	// The order given does not matter: the walk is by draw position.
	shuffled := []WaitlistUnit{order[6], order[4], order[3], order[5], order[0]}
	offered, _ := ReleasedSlots(shuffled, 1)
	if len(offered) != 1 || offered[0].UnitID != "d" {
		t.Errorf("shuffled waitlist: offered %+v, want unit d", offered)
	}
}

func TestOrderedOffers(t *testing.T) {
	entries := []OrderedEntry{
		{EntryID: "late", Status: EntryWaitlisted, Place: 40},
		{EntryID: "first", Status: EntryWaitlisted, Place: 3},
		{EntryID: "approved", Status: EntryReceived, Place: 10}, // a reviewer cleared it
		{EntryID: "in-review", Status: EntryInReview, Place: 1},
		{EntryID: "rejected", Status: EntryRejected, Place: 2},
		{EntryID: "declined", Status: EntryDeclined, Place: 4, Offered: true},
		{EntryID: "offered", Status: EntryOffered, Place: 5, Offered: true},
		{EntryID: "offered-then-flagged", Status: EntryWaitlisted, Place: 6, Offered: true},
	}
	tests := []struct {
		free int
		want []string
	}{
		{0, nil},
		{-2, nil},
		{1, []string{"first"}},
		{2, []string{"first", "approved"}},
		{5, []string{"first", "approved", "late"}},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range OrderedOffers(entries, tt.free) {
			got = append(got, e.EntryID)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("OrderedOffers(free %d) (-want +got):\n%s", tt.free, diff)
		}
	}
}

func TestApplyStatus(t *testing.T) {
	tests := []struct {
		decision antibot.Decision
		ordered  bool
		want     EntryStatus
	}{
		{antibot.Accept, false, EntryReceived},
		{antibot.Accept, true, EntryWaitlisted},
		{antibot.Review, false, EntryInReview},
		{antibot.Review, true, EntryInReview},
		{antibot.Reject, false, EntryRejected},
		{antibot.Reject, true, EntryRejected},
		{"", false, EntryReceived},
	}
	for _, tt := range tests {
		if got := ApplyStatus(tt.decision, tt.ordered); got != tt.want {
			t.Errorf("ApplyStatus(%q, ordered %t) = %s, want %s", tt.decision, tt.ordered, got, tt.want)
		}
	}
}
