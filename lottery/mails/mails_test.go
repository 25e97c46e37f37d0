package mails_test

import (
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery/mails"
)

// TestRender pins the code, offer and staff mails' text. The English code
// mail's text is byte for byte what runners and botsim have always
// received; the Korean one is now Korean only (the page's language).
func TestRender(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Date(2027, 3, 3, 6, 30, 0, 0, time.UTC).In(seoul)
	offer := mails.OfferData{Event: "Han River 10K", Name: "Kim Minji", SubQueue: "10K · Open", ExpiresAt: expires,
		Amount: "₩50,000", Link: "https://race.example/entries/e1?token=t1"}
	otp := mails.OTPData{Event: "Han River 10K", Code: "123456"}
	otpEn := "Your code to apply for Han River 10K is 123456.\nIt is valid for 10 minutes and can be used once.\n" +
		"If you did not ask for it, ignore this message.\n"
	otpKo := "Han River 10K 신청 인증 코드는 123456 입니다.\n10분 동안 한 번만 사용할 수 있습니다.\n요청하지 않으셨다면 이 메일을 무시하세요.\n"
	offerEn := "Hello Kim Minji,\n\nGood news: a slot in Han River 10K (10K · Open) is held for you until Wed 3 Mar 2027, 15:30 KST.\n\n" +
		"Entry fee: ₩50,000\n\nAccept and pay, or decline, on your entry's page before then. If you do nothing, the slot goes to " +
		"the next runner on the waitlist when the hold ends.\nhttps://race.example/entries/e1?token=t1\n\n" +
		"— Startline, for Han River 10K. This mail was sent because an entry was made with this address.\n"
	offerKo := "Kim Minji 님, 안녕하세요.\n\n축하합니다. Han River 10K (10K · Open) 참가 자리가 2027년 3월 3일 (수) 15:30 KST까지 예약되어 있습니다.\n\n" +
		"참가비: ₩50,000\n\n그 전에 신청 페이지에서 수락·결제하거나 거절하세요. 아무것도 하지 않으면 예약 기한이 끝날 때 자리가 다음 대기자에게 넘어갑니다.\n" +
		"https://race.example/entries/e1?token=t1\n\n— Han River 10K 접수 시스템 Startline. 이 주소로 신청이 접수되어 보내는 메일입니다.\n"
	alert := mails.StaffAlertData{Email: "rev@example.com", At: time.Date(2027, 3, 1, 9, 5, 0, 0, seoul), SessionMinutes: 30,
		Reasons: []string{"a scripting user agent (curl)", "2 failed attempts"}}
	alertBody := "Someone signed in to your Startline staff account (rev@example.com) at 2027-03-01 00:05 UTC from a network in an unknown country.\n" +
		"The sign-in looked unusual, so its session ends after 30 minutes:\n- a scripting user agent (curl)\n- 2 failed attempts\n\n" +
		"If this was you, nothing needs doing. If it was not, ask an organizer now to disable the account, " +
		"which ends every session and token at once:\n\n    startline staff disable --email rev@example.com\n\n" +
		"and then to give you a new password and authenticator (this also signs out every device):\n\n" +
		"    startline staff reset --email rev@example.com\n    startline staff enable --email rev@example.com\n"
	tests := []struct {
		name, kind, lang string
		data             any
		want             mails.Message
	}{
		{"otp en", mails.OTPCode, "en", otp, mails.Message{Subject: "Your Startline code for Han River 10K: 123456", Body: otpEn}},
		{"otp unknown lang is English", mails.OTPCode, "", otp, mails.Message{Subject: "Your Startline code for Han River 10K: 123456", Body: otpEn}},
		{"otp ko", mails.OTPCode, "ko", otp, mails.Message{Subject: "Han River 10K 신청 인증 코드: 123456", Body: otpKo}},
		{"offer en", mails.OfferIssued, "en", offer, mails.Message{
			Subject: "You have a place in Han River 10K: accept by 3 Mar 15:30 KST", Body: offerEn}},
		{"offer ko", mails.OfferIssued, "ko", offer, mails.Message{
			Subject: "Han River 10K 참가 자리가 예약되었습니다: 3월 3일 15:30 KST까지 수락하세요", Body: offerKo}},
		{"staff alert en", mails.StaffAlert, "en", alert, mails.Message{
			Subject: "Unusual sign-in to your Startline staff account", Body: alertBody}},
		{"staff alert has no Korean", mails.StaffAlert, "ko", alert, mails.Message{
			Subject: "Unusual sign-in to your Startline staff account", Body: alertBody}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mails.Render(tt.kind, tt.lang, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != tt.want.Subject {
				t.Errorf("subject:\n got %q\nwant %q", got.Subject, tt.want.Subject)
			}
			if got.Body != tt.want.Body {
				t.Errorf("body:\n got %q\nwant %q", got.Body, tt.want.Body)
			}
		})
	}
}

// TestRenderRefuses: an unknown kind or data of the wrong shape is an
// error, never a half-empty mail.
func TestRenderRefuses(t *testing.T) {
	if _, err := mails.Render("offer.nope", "en", mails.OfferData{}); err == nil {
		t.Error("unknown kind rendered")
	}
	if _, err := mails.Render(mails.OfferIssued, "en", mails.OTPData{Event: "x"}); err == nil {
		t.Error("offer rendered from code data")
	}
}

// TestEveryKind renders every kind in both languages, text and HTML: the
// key phrases of each (amount, deadline in the event's zone, position,
// reason in plain words, the link), one language only, and HTML that
// escapes what the runner typed and makes the link clickable.
func TestEveryKind(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 3, 3, 6, 30, 0, 0, time.UTC).In(seoul)
	link := "https://race.example/entries/e1?token=t1&x=1"
	d := mails.EntryData{Event: "Han River <10K>", Name: `Kim "Minji" <b>`, SubQueue: "Half Marathon · Under 1:30",
		Link: link, Amount: "₩50,000", ExpiresAt: at, At: at, Position: 17, Reason: "linked"}
	with := func(f func(*mails.EntryData)) mails.EntryData { x := d; f(&x); return x }
	type want struct{ en, ko []string }
	tests := []struct {
		kind string
		data any
		want want
	}{
		{mails.OTPCode, mails.OTPData{Event: "Han River <10K>", Code: "123456"},
			want{[]string{"is 123456."}, []string{"코드는 123456 입니다"}}},
		{mails.MeCode, mails.MeCodeData{Code: "654321", Minutes: 10}, want{[]string{"is 654321.", "10 minutes"}, []string{"654321", "10분"}}},
		{mails.EntryReceived, d, want{[]string{"We received your entry", "Half Marathon · Under 1:30", "₩50,000", "in the draw once registration closes", link},
			[]string{"신청이 접수되었습니다", "참가비: ₩50,000", "추첨에 참여합니다", link}}},
		{mails.EntryReceived, with(func(x *mails.EntryData) { x.Status = "in_review"; x.Amount = "" }),
			want{[]string{"held for review", "Entry fee: none", link}, []string{"검토 대기", "참가비: 없음", link}}},
		{mails.EntryInReview, d, want{[]string{"looked at by a person", "This is not a decision", link}, []string{"담당자가", "아직 결정된 것은 아닙니다", link}}},
		{mails.EntryRejected, d, want{[]string{"was not accepted", "linked to other entries", "appeal", link},
			[]string{"승인되지 않아", "다른 신청과 연결", "이의를 제기", link}}},
		{mails.EntryRejected, with(func(x *mails.EntryData) { x.Reason = "" }),
			want{[]string{"did not meet the event's entry rules"}, []string{"신청 규정에 맞지 않았습니다"}}},
		{mails.AppealUpheld, d, want{[]string{"looked at your entry again", "the decision stands", "linked to other entries", link},
			[]string{"다시 확인했습니다", "결정은 바뀌지 않습니다", "다른 신청과 연결", link}}},
		{mails.EntryReinstated, d, want{[]string{"accepted it", link}, []string{"승인했습니다", link}}},
		{mails.EntryWaitlisted, d, want{[]string{"number 17 on the waitlist", link}, []string{"대기 순번은 17번", link}}},
		{mails.EntryNotDrawn, d, want{[]string{"no slot reached your entry"}, []string{"자리가 돌아가지 않았습니다"}}},
		{mails.OfferIssued, d, want{[]string{"held for you until Wed 3 Mar 2027, 15:30 KST", "₩50,000", link},
			[]string{"2027년 3월 3일 (수) 15:30 KST까지", "₩50,000", link}}},
		{mails.OfferMovedUp, d, want{[]string{"moved up from the waitlist", "15:30 KST", "₩50,000", link},
			[]string{"대기 명단에서 순서가 왔습니다", "15:30 KST", link}}},
		{mails.OfferReminder, d, want{[]string{"the hold ends at Wed 3 Mar 2027, 15:30 KST", link}, []string{"15:30 KST에 끝납니다", link}}},
		{mails.OfferPaid, d, want{[]string{"Amount paid: ₩50,000", "Paid at: Wed 3 Mar 2027, 15:30 KST", "confirmed", link},
			[]string{"결제 금액: ₩50,000", "결제 시각: 2027년 3월 3일 (수) 15:30 KST", link}}},
		{mails.OfferExpired, d, want{[]string{"ended at Wed 3 Mar 2027, 15:30 KST before payment", "Nothing was charged"}, []string{"결제 전에 2027년 3월 3일 (수) 15:30 KST에 끝나", "결제된 금액은 없습니다"}}},
		{mails.OfferDeclined, d, want{[]string{"You declined your slot", "next runner"}, []string{"거절하셨습니다", "다음 대기자"}}},
		{mails.EntryWithdrawn, d, want{[]string{"was withdrawn at Wed 3 Mar 2027, 15:30 KST", link}, []string{"취소되었습니다", link}}},
		{mails.EntryDeferred, d, want{[]string{"deferred to the next edition", "₩50,000", link}, []string{"다음 대회로 연기되었습니다", "₩50,000", link}}},
		{mails.EntryRefunded, d, want{[]string{"We refunded ₩50,000", link}, []string{"₩50,000", "환불했습니다", link}}},
		{mails.EntryAppealed, d, want{[]string{"We received your appeal", link}, []string{"이의 제기가 접수되었습니다", link}}},
		{mails.EventCancelled, d, want{[]string{"has cancelled", "refunding ₩50,000 in full", link}, []string{"취소했습니다", "₩50,000", "전액 환불", link}}},
		{mails.EventCancelled, with(func(x *mails.EntryData) { x.Amount = "" }),
			want{[]string{"has cancelled", "no race for it", link}, []string{"취소했습니다", link}}},
		{mails.TransferOffered, mails.TransferOfferData{Event: "Han River <10K>", SubQueue: "Half Marathon · Under 1:30", Amount: "₩50,000",
			Link: "https://race.example/transfers/tok", ExpiresAt: at},
			want{[]string{"wants to transfer it to you", "₩50,000", "https://race.example/transfers/tok", "Wed 3 Mar 2027, 15:30 KST"},
				[]string{"양도하려고 합니다", "₩50,000", "https://race.example/transfers/tok", "2027년 3월 3일 (수) 15:30 KST"}}},
		{mails.TransferCompleted, d, want{[]string{"is now theirs", "refunding ₩50,000", link}, []string{"넘어갔습니다", "₩50,000", link}}},
		{mails.OfferCardCharge, d, want{[]string{"Good news", "card on file will be charged ₩50,000", "mail either way", "15:30 KST", link},
			[]string{"축하합니다", "등록된 카드로 참가비가 곧 결제됩니다 (결제 금액: ₩50,000)", "메일로 알려 드립니다", link}}},
		{mails.OfferCardCharge, with(func(x *mails.EntryData) { x.MovedUp = true }),
			want{[]string{"moved up from the waitlist", "card on file will be charged"}, []string{"대기 명단에서 순서가 왔습니다", "등록된 카드로"}}},
		{mails.OfferCardFailed, d, want{[]string{"We could not charge the card", "until Wed 3 Mar 2027, 15:30 KST", "Entry fee: ₩50,000", link},
			[]string{"결제하지 못했습니다", "2027년 3월 3일 (수) 15:30 KST까지", "참가비: ₩50,000", link}}},
		{mails.DeferralCancelled, d, want{[]string{"was not paid in time", "₩50,000", "stays yours", link},
			[]string{"연기가 취소되었습니다", "₩50,000", link}}},
		{mails.TransferApproved, d, want{[]string{"approved the transfer", "₩50,000", "Wed 3 Mar 2027, 15:30 KST", link},
			[]string{"승인되었습니다", "₩50,000", "2027년 3월 3일 (수) 15:30 KST", link}}},
		{mails.TransferEnded, with(func(x *mails.EntryData) { x.Status = "expired:giver" }),
			want{[]string{"link expired", "stays yours", link}, []string{"만료되었습니다", link}}},
		{mails.TransferEnded, with(func(x *mails.EntryData) { x.Status = "rejected:giver" }),
			want{[]string{"did not approve", "stays yours"}, []string{"승인되지 않아"}}},
		{mails.TransferEnded, with(func(x *mails.EntryData) { x.Status = "rejected:recipient" }),
			want{[]string{"could not approve", "Nothing was charged"}, []string{"승인할 수 없어"}}},
		{mails.TransferEnded, with(func(x *mails.EntryData) { x.Status = "cancelled:recipient" }),
			want{[]string{"withdrew the transfer", "Nothing was charged"}, []string{"양도를 철회하여"}}},
		{mails.TransferEnded, mails.EntryData{Event: "Han River 10K", SubQueue: "Half Marathon · Open", Status: "expired:invitee"},
			want{[]string{"Hello,\n", "link you were sent", "Nothing was charged"}, []string{"안녕하세요.", "링크가 만료되어"}}},
		{mails.TransferEnded, with(func(x *mails.EntryData) { x.Status = "expired:recipient" }),
			want{[]string{"has expired", "Nothing was charged"}, []string{"만료되었고"}}},
		{mails.StaffAlert, mails.StaffAlertData{Email: "a@b.example"}, want{[]string{"a@b.example"}, []string{"a@b.example"}}},
		{mails.StaffInvite, mails.StaffInviteData{Org: "Seoul Runners", InvitedBy: "boss@b.example", Role: "reviewer",
			Link: "https://race.example/staff/invite/tok", ExpiresAt: time.Date(2027, 3, 10, 6, 30, 0, 0, time.UTC)},
			want{[]string{"boss@b.example invites you to join Seoul Runners on Startline as a reviewer",
				"https://race.example/staff/invite/tok", "2027-03-10 06:30 UTC"},
				[]string{"Seoul Runners 팀에 검토자로 초대했습니다", "https://race.example/staff/invite/tok", "2027-03-10 06:30 UTC"}}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.kind] = true
		for _, lang := range []string{"en", "ko"} {
			t.Run(tt.kind+"/"+lang, func(t *testing.T) {
				m, err := mails.Render(tt.kind, lang, tt.data)
				if err != nil {
					t.Fatal(err)
				}
				if m.Subject == "" || strings.Contains(m.Subject, "\n") || !strings.HasSuffix(m.Body, "\n") {
					t.Errorf("subject %q, body ends %q", m.Subject, m.Body[max(0, len(m.Body)-5):])
				}
				parts := tt.want.en
				if lang == "ko" {
					parts = tt.want.ko
				}
				for _, p := range parts {
					if !strings.Contains(m.Body, p) {
						t.Errorf("text lacks %q:\n%s", p, m.Body)
					}
				}
				// One language only: no Hangul in English runner mail, and a
				// Korean one says hello in Korean.
				if tt.kind != mails.StaffAlert {
					hasHangul := strings.ContainsFunc(m.Body, func(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 })
					if hasHangul != (lang == "ko") {
						t.Errorf("%s mail: Hangul %t:\n%s", lang, hasHangul, m.Body)
					}
				}
				if !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") {
					t.Errorf("html: %q", m.HTML)
				}
				for _, raw := range []string{"<10K>", "<b>", `"Minji"`} {
					if strings.Contains(m.HTML, raw) {
						t.Errorf("html does not escape %q", raw)
					}
				}
				if strings.Contains(m.Body, link) &&
					!strings.Contains(m.HTML, `<a href="https://race.example/entries/e1?token=t1&amp;x=1">`) {
					t.Errorf("html link not clickable:\n%s", m.HTML)
				}
			})
		}
	}
	for _, k := range mails.Kinds() {
		if !covered[k] {
			t.Errorf("kind %s has no case", k)
		}
	}
}

// TestHTML: the layout's paragraphs, line breaks, links and code blocks.
func TestHTML(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"paragraphs and breaks", "a\nb\n\nc\n", "<p>a<br>b</p><p>c</p>"},
		{"escapes", "<script>&\n", "<p>&lt;script&gt;&amp;</p>"},
		{"link, final stop left out", "see https://x.example/a?b=1&c=2.\n",
			`<p>see <a href="https://x.example/a?b=1&amp;c=2">https://x.example/a?b=1&amp;c=2</a>.</p>`},
		{"no javascript links", "javascript:alert(1)\n", "<p>javascript:alert(1)</p>"},
		{"indented block", "    startline staff disable\n", `<pre style="white-space:pre-wrap">    startline staff disable</pre>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mails.HTML("en", "s", tt.text)
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %s\nwant it to contain %s", got, tt.want)
			}
		})
	}
}
