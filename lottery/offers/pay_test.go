package offers

import (
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

func TestPayable(t *testing.T) {
	now := time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)
	held := now.Add(time.Hour)
	tests := []struct {
		name    string
		status  lottery.OfferStatus
		expires time.Time
		entry   lottery.EntryStatus
		want    string // error code, "" when payable
	}{
		{"accepted, held", lottery.OfferAccepted, held, lottery.EntryOffered, ""},
		{"pending, held", lottery.OfferPending, held, lottery.EntryOffered, ""},
		{"accepted, hold ends now", lottery.OfferAccepted, now, lottery.EntryOffered, lottery.CodeOfferExpired},
		{"pending, hold over", lottery.OfferPending, now.Add(-time.Second), lottery.EntryOffered, lottery.CodeOfferExpired},
		{"expired", lottery.OfferExpired, held, lottery.EntryExpired, lottery.CodeOfferExpired},
		{"paid", lottery.OfferPaid, held, lottery.EntryConfirmed, lottery.CodeInvalidTransition},
		{"declined", lottery.OfferDeclined, held, lottery.EntryDeclined, lottery.CodeInvalidTransition},
		{"void", lottery.OfferVoid, held, lottery.EntryRejected, lottery.CodeInvalidTransition},
		{"entry in review", lottery.OfferAccepted, held, lottery.EntryInReview, lottery.CodeInvalidTransition},
		{"entry in review, hold over", lottery.OfferAccepted, now, lottery.EntryInReview, lottery.CodeOfferExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Payable(lottery.Offer{Status: tt.status, ExpiresAt: tt.expires}, tt.entry, now)
			got := ""
			if err != nil {
				got = lottery.CodeOf(err)
			}
			if got != tt.want {
				t.Errorf("Payable = %v (code %q), want code %q", err, got, tt.want)
			}
		})
	}
}
