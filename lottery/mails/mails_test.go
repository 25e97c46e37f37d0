package mails_test

import (
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery/mails"
)

// TestRender pins each kind's text in English and Korean. The code mail's
// text is byte for byte what runners and botsim have always received.
func TestRender(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Date(2027, 3, 3, 6, 30, 0, 0, time.UTC).In(seoul)
	offer := mails.OfferData{Event: "Han River 10K", SubQueue: "10k/open", ExpiresAt: expires,
		Link: "https://race.example/entries/e1?token=t1"}
	otp := mails.OTPData{Event: "Han River 10K", Code: "123456"}
	otpBody := "Your code to apply for Han River 10K is 123456.\nIt is valid for 10 minutes and can be used once.\n" +
		"If you did not ask for it, ignore this message.\n\n" +
		"Han River 10K 신청 인증 코드는 123456 입니다.\n10분 동안 한 번만 사용할 수 있습니다.\n요청하지 않으셨다면 이 메일을 무시하세요.\n"
	offerBody := "A slot in Han River 10K (10k/open) is held for you until Wed, 03 Mar 2027 15:30:00 KST.\n" +
		"Accept and pay, or decline, here: https://race.example/entries/e1?token=t1\n\n" +
		"Han River 10K (10k/open) 참가 자리가 Wed, 03 Mar 2027 15:30:00 KST까지 예약되어 있습니다.\n" +
		"수락·결제 또는 거절: https://race.example/entries/e1?token=t1\n"
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
		{"otp en", mails.OTPCode, "en", otp, mails.Message{Subject: "Your Startline code for Han River 10K: 123456", Body: otpBody}},
		{"otp unknown lang is English", mails.OTPCode, "", otp, mails.Message{Subject: "Your Startline code for Han River 10K: 123456", Body: otpBody}},
		{"otp ko", mails.OTPCode, "ko", otp, mails.Message{Subject: "Han River 10K 신청 인증 코드: 123456", Body: otpBody}},
		{"offer en", mails.OfferIssued, "en", offer, mails.Message{
			Subject: "You have a place in Han River 10K: accept by 2027-03-03 15:30 KST", Body: offerBody}},
		{"offer ko", mails.OfferIssued, "ko", offer, mails.Message{
			Subject: "Han River 10K 참가 자리가 예약되었습니다: 2027-03-03 15:30 KST까지 수락하세요", Body: offerBody}},
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

// TestEveryKindRenders: every kind has an English subject and body.
func TestEveryKindRenders(t *testing.T) {
	data := map[string]any{mails.OTPCode: mails.OTPData{Event: "E", Code: "1"},
		mails.OfferIssued: mails.OfferData{Event: "E", ExpiresAt: time.Unix(0, 0).UTC(), Link: "/entries/x"},
		mails.StaffAlert:  mails.StaffAlertData{Email: "a@b"}}
	for _, k := range mails.Kinds() {
		m, err := mails.Render(k, "en", data[k])
		if err != nil || m.Subject == "" || !strings.HasSuffix(m.Body, "\n") {
			t.Errorf("%s: %q %v", k, m, err)
		}
	}
}
