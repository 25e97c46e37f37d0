package lottery

import (
	"testing"
	"time"
)

func TestPayable(t *testing.T) {
	now := time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)
	held := now.Add(time.Hour)
	tests := []struct {
		name    string
		status  OfferStatus
		expires time.Time
		entry   EntryStatus
		want    string // error code, "" when payable
	}{
		{"accepted, held", OfferAccepted, held, EntryOffered, ""},
		{"pending, held", OfferPending, held, EntryOffered, ""},
		{"accepted, hold ends now", OfferAccepted, now, EntryOffered, CodeOfferExpired},
		{"pending, hold over", OfferPending, now.Add(-time.Second), EntryOffered, CodeOfferExpired},
		{"expired", OfferExpired, held, EntryExpired, CodeOfferExpired},
		{"paid", OfferPaid, held, EntryConfirmed, CodeInvalidTransition},
		{"declined", OfferDeclined, held, EntryDeclined, CodeInvalidTransition},
		{"void", OfferVoid, held, EntryRejected, CodeInvalidTransition},
		{"entry in review", OfferAccepted, held, EntryInReview, CodeInvalidTransition},
		{"entry in review, hold over", OfferAccepted, now, EntryInReview, CodeOfferExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Payable(Offer{Status: tt.status, ExpiresAt: tt.expires}, tt.entry, now)
			got := ""
			if err != nil {
				got = CodeOf(err)
			}
			if got != tt.want {
				t.Errorf("Payable = %v (code %q), want code %q", err, got, tt.want)
			}
		})
	}
}
