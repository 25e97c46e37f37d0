package lottery_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

// fakeIntents serves one offer and its event, no database.
type fakeIntents struct {
	offer lottery.Offer
	event lottery.Event
}

func (f fakeIntents) Offer(_ context.Context, id string) (lottery.Offer, error) {
	if id != f.offer.ID {
		return lottery.Offer{}, lottery.ErrNotFound
	}
	return f.offer, nil
}

func (f fakeIntents) EventByID(_ context.Context, id int64) (lottery.Event, error) {
	if id != f.event.ID {
		return lottery.Event{}, lottery.ErrNotFound
	}
	return f.event, nil
}

// TestMailRenderer renders intents from the ids they carry, and leaves
// mails rendered at write time as they are.
func TestMailRenderer(t *testing.T) {
	keys, _ := lottery.NewKeys([]byte("render-test-secret-key-render-test-key"))
	src := fakeIntents{offer: lottery.Offer{ID: "o1", EventID: 3, EntryID: "e1", SubQueue: "10k/open",
		ExpiresAt: time.Date(2027, 3, 3, 6, 30, 0, 0, time.UTC)}, event: lottery.Event{ID: 3, Name: "Han River 10K", TimeZone: "Asia/Seoul"}}
	intent := lottery.Mail{ID: 9, To: "a@example.com", Kind: "offer", Intent: mails.OfferIssued, EventID: 3, EntryID: "e1", OfferID: "o1"}
	link := "/entries/e1?token=" + keys.ReceiptToken("e1")
	tests := []struct {
		name    string
		zone    string // the event's time zone; empty: Asia/Seoul
		baseURL string
		in      lottery.Mail
		subject string
		body    []string
		err     error
	}{
		{"offer, absolute link, event's zone", "", "https://run.example/", intent,
			"You have a place in Han River 10K: accept by 2027-03-03 15:30 KST",
			[]string{"(10k/open) is held for you until Wed, 03 Mar 2027 15:30:00 KST.", "here: https://run.example" + link + "\n"}, nil},
		{"offer, no public URL: site-relative link", "", "", intent,
			"You have a place in Han River 10K: accept by 2027-03-03 15:30 KST", []string{"here: " + link + "\n"}, nil},
		{"offer of an unknown zone: UTC", "Mars/Olympus", "", intent,
			"You have a place in Han River 10K: accept by 2027-03-03 06:30 UTC", []string{"until Wed, 03 Mar 2027 06:30:00 UTC."}, nil},
		{"rendered at write time: unchanged", "", "https://run.example", lottery.Mail{Intent: mails.OTPCode, Subject: "s", Body: "b"},
			"s", []string{"b"}, nil},
		{"unknown kind", "", "", lottery.Mail{Intent: "offer.nope"}, "", nil, lottery.ErrUnrenderable},
		{"offer gone", "", "", lottery.Mail{Intent: mails.OfferIssued, OfferID: "o2"}, "", nil, lottery.ErrUnrenderable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := src
			if tt.zone != "" {
				s.event.TimeZone = tt.zone
			}
			got, err := lottery.NewMailRenderer(s, keys, tt.baseURL).Render(context.Background(), tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != tt.subject {
				t.Errorf("subject %q, want %q", got.Subject, tt.subject)
			}
			for _, part := range tt.body {
				if !strings.Contains(got.Body, part) {
					t.Errorf("body lacks %q:\n%s", part, got.Body)
				}
			}
			if got.Pending() {
				t.Error("still pending after rendering")
			}
		})
	}
}
