package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var transferPathRe = regexp.MustCompile(`/transfers/([A-Za-z0-9_-]+)`)

// TestTransferPages: a confirmed runner names a recipient from the status
// page; the recipient's pages (EN and KO) take them through the code, the
// form and the sandbox checkout of the face value; then the giver's page
// says transferred and the recipient's entry is confirmed. A cross-site
// post is refused.
func TestTransferPages(t *testing.T) {
	s, _, sel := drawnSite(t, siteOptions{}, 12, 4)
	s.withFees(time.Now())
	s.store.DB().Exec("UPDATE events SET transfer_max = 1, transfer_fee_minor = 5000")
	giver := sel[0]
	checkout := s.startPay(giver, nil)
	if res := s.outcome(checkout.Path, "pay", s.checkoutForm(checkout, nil), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("giver pays: %d", res.StatusCode)
	}
	status := "/entries/" + giver + "?token=" + url.QueryEscape(s.receipt(giver))
	if _, body, _ := s.get(status); !strings.Contains(body, `id="transfer"`) || !strings.Contains(body, "data-offer-transfer") {
		t.Fatalf("status page lacks the transfer form: %.3000s", body)
	}
	const to = "friend@example.org"
	form := url.Values{"token": {s.receipt(giver)}, "to_email": {to}}
	if code, _, _ := s.postForm("/entries/"+giver+"/transfer", form, "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden {
		t.Errorf("cross-site transfer: %d", code)
	}
	code, _, hdr := s.postForm("/entries/"+giver+"/transfer", form, "Sec-Fetch-Site", "same-origin")
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "transfer=sent") {
		t.Fatalf("transfer: %d %q", code, hdr.Get("Location"))
	}
	if _, body, _ := s.get(hdr.Get("Location")); !strings.Contains(body, "data-transfer-open") || !strings.Contains(body, to) {
		t.Errorf("status page after naming the recipient: %.3000s", body)
	}
	msgs, _ := s.store.OutboxFor(context.Background(), to, 1)
	if len(msgs) != 1 || transferPathRe.FindStringSubmatch(msgs[0].Body) == nil {
		t.Fatalf("no transfer mail to %s", to)
	}
	page := "/transfers/" + transferPathRe.FindStringSubmatch(msgs[0].Body)[1]

	for lang, want := range map[string]string{"en": "Send me a code", "ko": "코드 받기"} {
		if code, body, _ := s.get(page, "Cookie", "sl_lang="+lang); code != 200 || !strings.Contains(body, want) || !strings.Contains(body, "₩50,000") {
			t.Errorf("%s recipient page: %d %.2000s", lang, code, body)
		}
	}
	code, body, hdr := s.postForm(page+"/code", url.Values{}, "Sec-Fetch-Site", "same-origin")
	if code != http.StatusSeeOther {
		t.Fatalf("code: %d %.2000s", code, body)
	}
	if _, body, _ := s.get(hdr.Get("Location")); !strings.Contains(body, "data-transfer-form") {
		t.Fatalf("form step: %.2000s", body)
	}
	msgs, _ = s.store.OutboxFor(context.Background(), to, 1)
	accept := url.Values{"name": {"Lee Seoyeon"}, "phone": {"010-9876-5432"}, "birth_date": {"1992-05-06"},
		"otp": {codeRe.FindStringSubmatch(msgs[0].Body)[1]}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"},
		"signals": {`{"webdriver":false,"timezone":"Asia/Seoul"}`}}
	code, body, _ = s.postForm(page+"/accept", accept, "Sec-Fetch-Site", "same-origin")
	if code != http.StatusSeeOther {
		t.Fatalf("accept: %d %.3000s", code, body)
	}
	if _, body, _ := s.get(page); !strings.Contains(body, "data-transfer-pay") {
		t.Fatalf("pay step: %.2000s", body)
	}
	res, _ := s.send("POST", page+"/pay", "application/x-www-form-urlencoded", nil, http.Header{"Sec-Fetch-Site": {"same-origin"}})
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.Path, "/sandbox/checkout/sbx_") {
		t.Fatalf("pay: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := s.outcome(loc.Path, "pay", s.checkoutForm(loc, nil), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("recipient's checkout: %d", res.StatusCode)
	}
	if st := s.standing(giver); st.Entry != "transferred" || st.Offer != "void" {
		t.Errorf("giver after the transfer: %+v", st)
	}
	if _, body, _ := s.get(page); !strings.Contains(body, "data-transfer-done") {
		t.Errorf("done step: %.2000s", body)
	}
	if _, body, _ := s.get(status); strings.Contains(body, "data-offer-transfer") || !strings.Contains(body, "Transferred") {
		t.Errorf("giver's status page after the transfer: %.3000s", body)
	}
}
