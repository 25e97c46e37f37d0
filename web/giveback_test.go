package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery/payments/stripe"
	"github.com/startline/startline/lottery/payments/stripe/stripemock"
)

// withFees gives the site's spring race details, a ₩50,000 price for
// half:open and a refund policy (all of it back for ten days, half for ten
// more), as an organizer would have before the opening.
func (s *site) withFees(now time.Time) {
	s.t.Helper()
	kst, _ := time.LoadLocation("Asia/Seoul")
	day := func(d time.Duration) string { return now.Add(d).In(kst).Format(time.DateOnly) }
	end := func(d time.Duration) string {
		t, _ := time.ParseInLocation(time.DateOnly, day(d), kst)
		return t.AddDate(0, 0, 1).UTC().Format(time.RFC3339)
	}
	policy := fmt.Sprintf(`[{"until":%q,"date":%q,"percent":100},{"until":%q,"date":%q,"percent":50}]`,
		end(10*24*time.Hour), day(10*24*time.Hour), end(20*24*time.Hour), day(20*24*time.Hour))
	if err := s.store.DB().Exec(`UPDATE events SET race_date = ?, race_start = '07:30', place = 'Yeouido Park, Seoul',
		description = ?, draw_on = ?, refund_policy = ?::jsonb`, day(30*24*time.Hour),
		"A flat course along the Han river.\n\nBag drop opens at 06:00.", day(3*time.Hour), policy).Error; err != nil {
		s.t.Fatal(err)
	}
	s.store.DB().Exec("UPDATE subqueues SET price_minor = 50000 WHERE key = 'half:open'")
}

// TestEventPageFees: the event page states the race details, each pace
// group's price as money and the refund policy in words, in both languages.
func TestEventPageFees(t *testing.T) {
	s := newSiteWith(t, siteOptions{dev: true})
	s.withFees(time.Now())
	for _, tt := range []struct {
		lang string
		want []string
	}{
		{"en", []string{"Race details", "Yeouido Park, Seoul", "07:30 KST", "₩50,000", "Bag drop opens at 06:00.", "full refund", "50% refunded", "After that: no refund."}},
		{"ko", []string{"대회 정보", "Yeouido Park, Seoul", "07:30 KST", "₩50,000", "전액 환불", "50% 환불", "그 이후: 환불 없음."}},
	} {
		code, body, _ := s.get("/events/spring?lang=" + tt.lang)
		if code != 200 {
			t.Fatalf("%s: %d", tt.lang, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s event page lacks %q", tt.lang, w)
			}
		}
	}
	// No policy stated: the page says so plainly.
	s.store.DB().Exec("UPDATE events SET refund_policy = '[]'")
	if _, body, _ := s.get("/events/spring?lang=en"); !strings.Contains(body, "No refunds") {
		t.Error("an event without a refund policy does not say there are no refunds")
	}
}

// TestGiveBackPages: the status page shows the amount to pay, the sandbox
// checkout charges it, and a paid place is given back through a
// confirmation step that states the refund; a cross-site post is refused.
func TestGiveBackPages(t *testing.T) {
	s, _, sel := drawnSite(t, siteOptions{}, 12, 4) // with the sandbox provider
	s.withFees(time.Now())
	entry, unpaid, pending := sel[0], sel[1], sel[2]
	status := "/entries/" + entry + "?token=" + url.QueryEscape(s.receipt(entry))

	_, body, _ := s.get(status)
	if !strings.Contains(body, `data-offer-amount>₩50,000<`) {
		t.Fatalf("status page does not show the amount to pay: %.2000s", body)
	}
	checkout := s.startPay(entry, nil)
	form := s.checkoutForm(checkout, nil)
	if _, page, _ := s.get(checkout.RequestURI()); !strings.Contains(page, "₩50,000") {
		t.Errorf("sandbox checkout does not show ₩50,000")
	}
	if res := s.outcome(checkout.Path, "pay", form, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("authorize: %d", res.StatusCode)
	}
	if st := s.standing(entry); st.Offer != "paid" {
		t.Fatalf("after paying: %+v", st)
	}

	_, body, _ = s.get(status)
	if !strings.Contains(body, `id="giveback"`) || !strings.Contains(body, "you get back ₩50,000 (100% of the ₩50,000 you paid)") {
		t.Fatalf("status page give-back section: %.3000s", body)
	}
	confirm := "/entries/" + entry + "/give-back?token=" + url.QueryEscape(s.receipt(entry))
	code, page, _ := s.get(confirm)
	if code != 200 || !strings.Contains(page, "data-confirm-give-back") || !strings.Contains(page, "₩50,000") {
		t.Fatalf("confirmation: %d %.2000s", code, page)
	}
	if _, ko, _ := s.get(confirm, "Cookie", "sl_lang=ko"); !strings.Contains(ko, "₩50,000(결제하신 ₩50,000의 100%)를 돌려받습니다") {
		t.Errorf("Korean confirmation does not state the refund: %.2000s", ko)
	}

	post := url.Values{"token": {s.receipt(entry)}}
	res, _ := s.send("POST", "/entries/"+entry+"/give-back", "application/x-www-form-urlencoded", []byte(post.Encode()),
		http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if res.StatusCode != http.StatusForbidden || s.standing(entry).Offer != "paid" {
		t.Fatalf("cross-site give-back: %d, offer %s", res.StatusCode, s.standing(entry).Offer)
	}
	res, _ = s.send("POST", "/entries/"+entry+"/give-back", "application/x-www-form-urlencoded", []byte(post.Encode()),
		http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/entries/"+entry+"?token=") {
		t.Fatalf("give back: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if st := s.standing(entry); st.Offer != "void" || st.Entry != "withdrawn" {
		t.Errorf("after give-back: %+v", st)
	}
	_, body, _ = s.get(status)
	if !strings.Contains(body, "data-given-back") || !strings.Contains(body, `data-refund-state="refunded"`) ||
		!strings.Contains(body, "A refund of ₩50,000 was sent") {
		t.Errorf("status page after give-back: %.3000s", body)
	}
	var refunded int64
	s.store.DB().Raw("SELECT refunded_minor FROM payments WHERE id = ?", strings.TrimPrefix(checkout.Path, "/sandbox/checkout/")).Scan(&refunded)
	if refunded != 50000 {
		t.Errorf("refunded %d, want 50000", refunded)
	}

	// An accepted, unpaid place: nothing to refund, said so.
	acc := url.Values{"token": {s.receipt(unpaid)}}
	s.send("POST", "/offers/"+s.offerID(unpaid)+"/accept", "application/x-www-form-urlencoded", []byte(acc.Encode()), nil)
	if _, page, _ := s.get("/entries/" + unpaid + "/give-back?token=" + url.QueryEscape(s.receipt(unpaid))); !strings.Contains(page, "nothing to refund") {
		t.Errorf("unpaid confirmation: %.2000s", page)
	}
	// A pending offer holds nothing to give back: the step says so, 409.
	if code, _, _ := s.get("/entries/" + pending + "/give-back?token=" + url.QueryEscape(s.receipt(pending))); code != http.StatusConflict {
		t.Errorf("pending offer's confirmation: %d, want 409", code)
	}
	if code, _, _ := s.get("/entries/" + pending + "/give-back?token=wrong"); code != http.StatusNotFound {
		t.Errorf("wrong token: %d, want 404", code)
	}
}

// TestStripeCheckoutPrice: with Stripe (stripe-mock), the pay button opens
// Startline's checkout page showing the price, and the PaymentIntent is
// created for exactly that amount in the event's currency.
func TestStripeCheckoutPrice(t *testing.T) {
	mock := stripemock.Start(t)
	prov, err := stripe.New(stripe.Config{APIKey: stripemock.TestKey, WebhookSecret: "whsec_test", BaseURL: mock.URL})
	if err != nil {
		t.Fatal(err)
	}
	s, _, sel := drawnSite(t, siteOptions{provider: prov}, 12, 4)
	s.withFees(s.svc.Now())
	entry := sel[0]
	form := url.Values{"token": {s.receipt(entry)}}
	res, body := s.send("POST", "/offers/"+s.offerID(entry)+"/pay", "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="stripe-form"`) || !strings.Contains(body, "<strong data-amount>₩50,000</strong>") {
		t.Fatalf("stripe checkout page: %d %.2000s", res.StatusCode, body)
	}
	calls := mock.Calls("POST", "/v1/payment_intents")
	if len(calls) != 1 || calls[0].Form.Get("amount") != "50000" || calls[0].Form.Get("currency") != "krw" {
		t.Errorf("PaymentIntent requests %+v, want one for 50000 krw", calls)
	}
}
