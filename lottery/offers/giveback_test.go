package offers

import (
	"fmt"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

func TestGiveBackable(t *testing.T) {
	now := time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)
	ev := lottery.Event{TimeZone: "Asia/Seoul", RaceDate: "2027-04-18", RaceStart: "07:30"}
	noDay := lottery.Event{TimeZone: "Asia/Seoul"}
	dayOnly := lottery.Event{TimeZone: "Asia/Seoul", RaceDate: "2027-03-10"} // midnight KST is 15:00 UTC the day before
	tests := []struct {
		name    string
		status  lottery.OfferStatus
		expires time.Time
		ev      lottery.Event
		now     time.Time
		want    string
	}{
		{"paid", lottery.OfferPaid, now.Add(-time.Hour), ev, now, ""},
		{"accepted, held", lottery.OfferAccepted, now.Add(time.Hour), ev, now, ""},
		{"accepted, hold over", lottery.OfferAccepted, now, ev, now, lottery.CodeOfferExpired},
		{"pending: decline instead", lottery.OfferPending, now.Add(time.Hour), ev, now, lottery.CodeNoSlotHeld},
		{"declined", lottery.OfferDeclined, now.Add(time.Hour), ev, now, lottery.CodeNoSlotHeld},
		{"void", lottery.OfferVoid, now.Add(time.Hour), ev, now, lottery.CodeNoSlotHeld},
		{"expired", lottery.OfferExpired, now, ev, now, lottery.CodeOfferExpired},
		{"race started", lottery.OfferPaid, now, ev, time.Date(2027, 4, 17, 22, 30, 0, 0, time.UTC), lottery.CodeInvalidTransition},
		{"a minute before the start", lottery.OfferPaid, now, ev, time.Date(2027, 4, 17, 22, 29, 0, 0, time.UTC), ""},
		{"race day without a time: from its midnight", lottery.OfferPaid, now, dayOnly, now, lottery.CodeInvalidTransition},
		{"no race day", lottery.OfferPaid, now, noDay, now.Add(1000 * time.Hour), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := GiveBackable(lottery.Offer{Status: tt.status, ExpiresAt: tt.expires}, tt.ev, tt.now)
			got := ""
			if err != nil {
				got = lottery.CodeOf(err)
			}
			if got != tt.want {
				t.Errorf("GiveBackable = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestGivenBack(t *testing.T) {
	tests := []struct {
		status lottery.EntryStatus
		want   string
	}{
		{lottery.EntryWithdrawn, ""},
		{lottery.EntryTransferred, lottery.CodeInvalidTransition},
		{lottery.EntryConfirmed, lottery.CodeNoSlotHeld},
		{lottery.EntryExpired, lottery.CodeNoSlotHeld},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			got := ""
			if err := GivenBack(tt.status); err != nil {
				got = lottery.CodeOf(err)
			}
			if got != tt.want {
				t.Errorf("GivenBack(%s) = %q, want %q", tt.status, got, tt.want)
			}
		})
	}
}

func TestGiveBackEntry(t *testing.T) {
	tests := []struct {
		status   lottery.EntryStatus
		pickedUp bool
		want     string
	}{
		{lottery.EntryConfirmed, false, ""},
		{lottery.EntryOffered, false, ""},
		{lottery.EntryConfirmed, true, lottery.CodeInvalidTransition},
		{lottery.EntryTransferred, false, lottery.CodeInvalidTransition},
		{lottery.EntryDeferred, false, lottery.CodeInvalidTransition},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s picked up %v", tt.status, tt.pickedUp), func(t *testing.T) {
			got := ""
			if err := GiveBackEntry(tt.status, tt.pickedUp); err != nil {
				got = lottery.CodeOf(err)
			}
			if got != tt.want {
				t.Errorf("GiveBackEntry(%s, %v) = %q, want %q", tt.status, tt.pickedUp, got, tt.want)
			}
		})
	}
}
