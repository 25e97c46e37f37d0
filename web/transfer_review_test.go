package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// TestTransferPageInReview: a recipient whose form scores for review sees
// (EN and KO) that the transfer is being reviewed, with no pay button; the
// reviewer finds them in the queue under "Transfer recipient" and
// approves from the console; the recipient's page then offers to pay.
func TestTransferPageInReview(t *testing.T) {
	s, _, sel := drawnSite(t, siteOptions{}, 12, 4)
	s.withFees(time.Now())
	s.store.DB().Exec("UPDATE events SET transfer_max = 1, transfer_fee_minor = 5000")
	giver := sel[0]
	checkout := s.startPay(giver, nil)
	if res := s.outcome(checkout.Path, "pay", s.checkoutForm(checkout, nil), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("giver pays: %d", res.StatusCode)
	}
	const to = "flagged@example.org"
	form := url.Values{"token": {s.receipt(giver)}, "to_email": {to}}
	if code, _, _ := s.postForm("/entries/"+giver+"/transfer", form, "Sec-Fetch-Site", "same-origin"); code != http.StatusSeeOther {
		t.Fatalf("transfer: %d", code)
	}
	msgs, _ := s.store.OutboxFor(context.Background(), to, 1)
	page := "/transfers/" + transferPathRe.FindStringSubmatch(msgs[0].Body)[1]
	if code, _, _ := s.postForm(page+"/code", url.Values{}, "Sec-Fetch-Site", "same-origin"); code != http.StatusSeeOther {
		t.Fatalf("code: %d", code)
	}
	msgs, _ = s.store.OutboxFor(context.Background(), to, 1)
	accept := url.Values{"name": {"Lee Seoyeon"}, "phone": {"010-9876-5432"}, "birth_date": {"1992-05-06"},
		"otp": {codeRe.FindStringSubmatch(msgs[0].Body)[1]}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"},
		"signals": {`{"webdriver":true,"fill_ms":30000,"fingerprint":"ffaa11"}`}}
	if code, body, _ := s.postForm(page+"/accept", accept, "Sec-Fetch-Site", "same-origin"); code != http.StatusSeeOther {
		t.Fatalf("accept: %d %.3000s", code, body)
	}
	for lang, want := range map[string]string{"en": "Your transfer is being reviewed", "ko": "양도를 검토하고 있습니다"} {
		_, body, _ := s.get(page, "Cookie", "sl_lang="+lang)
		if !strings.Contains(body, "data-transfer-review") || !strings.Contains(body, want) || strings.Contains(body, "data-transfer-pay") {
			t.Errorf("%s page in review: %.3000s", lang, body)
		}
	}
	var recipient string
	s.store.DB().Raw("SELECT to_entry::text FROM transfers WHERE state = 'review'").Scan(&recipient)
	if recipient == "" {
		t.Fatal("no transfer in review")
	}

	cookie := s.staffLogin("rev@example.com", lottery.RoleReviewer)
	_, queue, _ := s.get("/review?event=spring&reason=transfer_recipient", "Cookie", cookie)
	if !strings.Contains(queue, recipient) || !strings.Contains(queue, "Transfer recipient") {
		t.Fatalf("review queue: %.4000s", queue)
	}
	csrf := csrfRe.FindStringSubmatch(queue)[1]
	if code, _, _ := s.postForm("/review/entries/"+recipient+"/decision", url.Values{"csrf": {csrf}, "decision": {"approve"},
		"event": {"spring"}}, "Cookie", cookie); code != http.StatusSeeOther {
		t.Fatalf("approve: %d", code)
	}
	if _, body, _ := s.get(page); !strings.Contains(body, "data-transfer-pay") {
		t.Errorf("page after approval: %.3000s", body)
	}
}
