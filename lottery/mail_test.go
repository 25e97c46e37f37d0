package lottery_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

// fakeIntents serves one entry, its offer, its event and its draw place, no
// database.
type fakeIntents struct {
	entry lottery.Entry
	offer lottery.Offer
	event lottery.Event
	place lottery.DrawPlace
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

func (f fakeIntents) Entry(_ context.Context, id string) (lottery.Entry, error) {
	if id != f.entry.ID {
		return lottery.Entry{}, lottery.ErrNotFound
	}
	return f.entry, nil
}

func (f fakeIntents) EntryPlace(_ context.Context, id string) (lottery.DrawPlace, error) {
	if id != f.entry.ID || f.place.WaitlistPosition == 0 {
		return lottery.DrawPlace{}, lottery.ErrNotFound
	}
	return f.place, nil
}

// TestMailRenderer renders intents from the ids they carry, in the entry's
// language, with names not keys, the price, absolute links and the event's
// zone; it leaves mails rendered at write time as they are.
func TestMailRenderer(t *testing.T) {
	keys, _ := lottery.NewKeys([]byte("render-test-secret-key-render-test-key"))
	ev := lottery.Event{ID: 3, Name: "Han River 10K", TimeZone: "Asia/Seoul", Currency: "krw",
		Courses: []lottery.Course{{Code: "10k", Name: "10 km", PaceGroups: []lottery.PaceGroup{{Code: "open", Label: "Open", Price: 50000}}}}}
	entry := lottery.Entry{ID: "e1", EventID: 3, SubQueue: "10k:open", Name: "Kim Minji", Lang: "en", Status: lottery.EntryRejected,
		Risk: antibot.Assessment{Reasons: []antibot.Reason{{Code: "webdriver", Detail: "navigator.webdriver was true"}}}}
	src := fakeIntents{entry: entry, event: ev, place: lottery.DrawPlace{WaitlistPosition: 42},
		offer: lottery.Offer{ID: "o1", EventID: 3, EntryID: "e1", SubQueue: "10k:open", ExpiresAt: time.Date(2027, 3, 3, 6, 30, 0, 0, time.UTC)}}
	intent := lottery.Mail{ID: 9, To: "a@example.com", Kind: "offer", Intent: mails.OfferIssued, EventID: 3, EntryID: "e1", OfferID: "o1"}
	token := keys.ReceiptToken("e1")
	tests := []struct {
		name    string
		zone    string // the event's time zone; empty: Asia/Seoul
		lang    string // the entry's; empty: en
		baseURL string
		in      lottery.Mail
		subject string
		body    []string
		not     []string
		err     error
	}{
		{"offer, absolute link, event's zone", "", "", "https://run.example/", intent,
			"You have a place in Han River 10K: accept by 3 Mar 15:30 KST",
			[]string{"10 km · Open", "until Wed 3 Mar 2027, 15:30 KST.", "Entry fee: ₩50,000", "https://run.example/entries/e1?lang=en&token=" + token + "\n"},
			[]string{"10k:open"}, nil},
		{"offer in Korean", "", "ko", "https://run.example", intent,
			"Han River 10K 참가 자리가 예약되었습니다: 3월 3일 15:30 KST까지 수락하세요",
			[]string{"2027년 3월 3일 (수) 15:30 KST까지", "https://run.example/entries/e1?lang=ko&token="}, []string{"Accept"}, nil},
		{"no public URL: site-relative link", "", "", "", intent,
			"You have a place in Han River 10K: accept by 3 Mar 15:30 KST", []string{"\n/entries/e1?lang=en&token=" + token + "\n"}, nil, nil},
		{"unknown zone: UTC", "Mars/Olympus", "", "", intent,
			"You have a place in Han River 10K: accept by 3 Mar 06:30 UTC", []string{"until Wed 3 Mar 2027, 06:30 UTC."}, nil, nil},
		{"rejected: the category, not the reason", "", "", "https://run.example", lottery.Mail{Intent: mails.EntryRejected, EntryID: "e1"},
			"Your entry was not accepted: Han River 10K", []string{"sent by a program", "appeal"}, []string{"webdriver"}, nil},
		{"rejected with the cluster: the decision's category", "", "", "https://run.example",
			lottery.Mail{Intent: mails.EntryRejected, EntryID: "e1", Detail: lottery.RejectLinked},
			"Your entry was not accepted: Han River 10K", []string{"linked to other entries"}, []string{"sent by a program"}, nil},
		{"receipt held for review at apply", "", "", "https://run.example",
			lottery.Mail{Intent: mails.EntryReceived, EntryID: "e1", Detail: string(lottery.EntryInReview)},
			"Entry received, held for review: Han River 10K", []string{"held for review"}, nil, nil},
		{"refund: the amount refunded, else the price", "", "", "https://run.example",
			lottery.Mail{Intent: mails.EntryRefunded, EntryID: "e1", Detail: "45000"},
			"Refund issued: Han River 10K", []string{"We refunded ₩45,000"}, []string{"₩50,000"}, nil},
		{"waitlisted: the position", "", "ko", "https://run.example", lottery.Mail{Intent: mails.EntryWaitlisted, EntryID: "e1"},
			"추첨 결과: Han River 10K 대기 42번", []string{"대기 순번은 42번"}, nil, nil},
		{"rendered at write time: unchanged", "", "", "https://run.example", lottery.Mail{Intent: mails.OTPCode, Subject: "s", Body: "b"},
			"s", []string{"b"}, nil, nil},
		{"unknown kind", "", "", "", lottery.Mail{Intent: "offer.nope", EntryID: "e1"}, "", nil, nil, lottery.ErrUnrenderable},
		{"offer gone", "", "", "", lottery.Mail{Intent: mails.OfferIssued, OfferID: "o2"}, "", nil, nil, lottery.ErrUnrenderable},
		{"entry gone", "", "", "", lottery.Mail{Intent: mails.EntryReceived, EntryID: "e2"}, "", nil, nil, lottery.ErrUnrenderable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := src
			if tt.zone != "" {
				s.event.TimeZone = tt.zone
			}
			if tt.lang != "" {
				s.entry.Lang = tt.lang
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
			for _, part := range tt.not {
				if strings.Contains(got.Body, part) || strings.Contains(got.HTML, part) {
					t.Errorf("mail shows %q:\n%s", part, got.Body)
				}
			}
			if got.Pending() {
				t.Error("still pending after rendering")
			}
			if tt.in.Pending() && tt.baseURL != "" && !strings.Contains(got.HTML, "<a href=\"https://run.example/entries/e1?") {
				t.Errorf("html has no link:\n%s", got.HTML)
			}
		})
	}
}
