package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/startline/startline/lottery/payments/stripe"
	"github.com/startline/startline/lottery/payments/stripe/stripemock"
)

const stripeWebhookSecret = "whsec_test"

// stripeIntents stands in for Stripe's memory of the PaymentIntents
// Startline created on stripe-mock, which keeps none: a capture answers
// with the intent's own amount, currency and offer, succeeded.
type stripeIntents struct {
	mu      sync.Mutex
	created map[string]stripemock.Call // intent id → the create request
}

func (s *stripeIntents) patch(c stripemock.Call, obj map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case c.Method == http.MethodPost && c.Path == "/v1/payment_intents":
		id, _ := obj["id"].(string)
		s.created[id] = c
	case c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/capture"):
		id := strings.TrimSuffix(strings.TrimPrefix(c.Path, "/v1/payment_intents/"), "/capture")
		if req, ok := s.created[id]; ok {
			amount, _ := strconv.ParseInt(req.Form.Get("amount"), 10, 64)
			obj["amount"], obj["amount_received"], obj["currency"] = amount, amount, req.Form.Get("currency")
			obj["metadata"] = map[string]any{"offer_id": req.Form.Get("metadata[offer_id]")}
			obj["status"] = "succeeded"
		}
	}
}

// intent is the PaymentIntent a webhook carries: the one created, in status.
func (s *stripeIntents) intent(id, status string) string {
	s.mu.Lock()
	req := s.created[id]
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"id": id, "object": "payment_intent", "amount": json.Number(req.Form.Get("amount")),
		"currency": req.Form.Get("currency"), "capture_method": "manual", "status": status,
		"metadata": map[string]string{"offer_id": req.Form.Get("metadata[offer_id]")}})
	return string(b)
}

// stripeWebhook delivers a Stripe event signed as Stripe signs it.
func (e *env) stripeWebhook(eventID, typ, object string) resp {
	e.t.Helper()
	payload := fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2026-03-25.dahlia","created":%d,`+
		`"data":{"object":%s},"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":%q}`,
		eventID, e.clock.Now().Unix(), object, typ)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/payments/stripe/webhook", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(stripe.SignatureHeader, stripe.SignWebhook(stripeWebhookSecret, payload, e.clock.Now()))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return resp{Status: res.StatusCode}
}

// TestTransferStripe: a face-value transfer end to end with Stripe as the
// payment provider (stripe-mock behind a recording proxy): the giver's
// PaymentIntent is authorized (a signed webhook) and captured by Startline;
// the recipient's PaymentIntent is for the face value, and once its
// authorization arrives Startline captures it, moves the slot and refunds
// the giver the price less the fee with one Refund — once, however many
// times Stripe delivers the events.
func TestTransferStripe(t *testing.T) {
	mock := stripemock.Start(t)
	intents := &stripeIntents{created: map[string]stripemock.Call{}}
	mock.Patch(intents.patch)
	e := newEnv(t, true)
	prov, err := stripe.New(stripe.Config{APIKey: stripemock.TestKey, WebhookSecret: stripeWebhookSecret, BaseURL: mock.URL,
		ReturnURLBase: "https://startline.test/"})
	if err != nil {
		t.Fatal(err)
	}
	e.offers.UsePayments(prov)
	sq := e.feesDrawnEvent(12, 4)
	e.store.DB().Exec("UPDATE events SET transfer_max = 2, transfer_fee_minor = 5000")
	var selected []string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	giver := selected[0]
	tok := e.keys.ReceiptToken(giver)

	// The giver pays: a PaymentIntent for the price, authorized in the
	// browser (the webhook says so), captured by Startline.
	offerID, _ := e.offerOf(giver)
	r := e.do("POST", "/api/v1/offers/"+offerID+"/pay", map[string]any{"token": tok})
	if r.Status != 200 || !strings.HasPrefix(r.str("checkout_url"), stripe.CheckoutScheme) {
		t.Fatalf("giver pays: %d %s", r.Status, r.Raw)
	}
	giverPI := r.str("payment_id")
	if w := e.stripeWebhook("evt_giver_auth", stripe.EventAmountCapturableUpdated, intents.intent(giverPI, "requires_capture")); w.Status != 200 {
		t.Fatalf("giver's authorization: %d", w.Status)
	}
	if c := mock.Calls("POST", "/v1/payment_intents/"+giverPI+"/capture"); len(c) != 1 || c[0].IdempotencyKey != "capture:"+giverPI {
		t.Fatalf("giver's captures %+v, want one keyed capture:%s", c, giverPI)
	}
	if w := e.stripeWebhook("evt_giver_paid", stripe.EventPaymentIntentSucceeded, intents.intent(giverPI, "succeeded")); w.Status != 200 {
		t.Fatalf("giver's capture webhook: %d", w.Status)
	}
	if got := e.entryRow(giver); got.Entry != "confirmed" || got.Offer != "paid" || got.Payment != "captured" {
		t.Fatalf("giver after paying: %+v", got)
	}
	liveBefore, _ := e.live(sq)

	// The transfer: offered, verified, paid by the recipient at face value.
	const to = "friend@example.org"
	if r := e.do("POST", "/api/v1/entries/"+giver+"/transfer", map[string]any{"token": tok, "to_email": to}); r.Status != 202 {
		t.Fatalf("transfer: %d %s", r.Status, r.Raw)
	}
	link := e.transferToken(to)
	r = e.do("POST", "/api/v1/transfers/"+link+"/accept", e.recipientForm(to, e.transferCode(link, to)))
	if r.Status != 200 || r.str("entry_id") == "" {
		t.Fatalf("accept: %d %s", r.Status, r.Raw)
	}
	recipient := r.str("entry_id")
	r = e.do("POST", "/api/v1/transfers/"+link+"/pay", map[string]any{})
	if r.Status != 200 || !strings.HasPrefix(r.str("checkout_url"), stripe.CheckoutScheme) {
		t.Fatalf("recipient pays: %d %s", r.Status, r.Raw)
	}
	recipientPI, holdID := r.str("payment_id"), r.str("offer_id")
	if recipientPI == giverPI {
		t.Fatalf("recipient's payment %s is the giver's", recipientPI)
	}
	created := mock.Calls("POST", "/v1/payment_intents")
	if len(created) != 2 || created[1].Form.Get("amount") != "50000" || created[1].Form.Get("currency") != "krw" ||
		created[1].Form.Get("metadata[offer_id]") != holdID || created[1].Form.Get("capture_method") != "manual" {
		t.Fatalf("PaymentIntent requests %+v, want the recipient's for 50000 krw on the transfer's hold", created)
	}
	if len(mock.Calls("POST", "/v1/refunds")) != 0 {
		t.Fatal("the giver was refunded before the recipient paid")
	}

	// The recipient's authorization arrives: captured, slot moved, giver
	// refunded 50000 − 5000. Stripe then reports the capture, and may
	// deliver any event twice.
	if w := e.stripeWebhook("evt_recipient_auth", stripe.EventAmountCapturableUpdated, intents.intent(recipientPI, "requires_capture")); w.Status != 200 {
		t.Fatalf("recipient's authorization: %d", w.Status)
	}
	if w := e.stripeWebhook("evt_recipient_auth", stripe.EventAmountCapturableUpdated, intents.intent(recipientPI, "requires_capture")); w.Status != 200 {
		t.Fatalf("recipient's authorization again: %d", w.Status)
	}
	if w := e.stripeWebhook("evt_recipient_paid", stripe.EventPaymentIntentSucceeded, intents.intent(recipientPI, "succeeded")); w.Status != 200 {
		t.Fatalf("recipient's capture webhook: %d", w.Status)
	}
	if c := mock.Calls("POST", "/v1/payment_intents/"+recipientPI+"/capture"); len(c) != 1 || c[0].IdempotencyKey != "capture:"+recipientPI {
		t.Errorf("recipient's captures %+v, want one keyed capture:%s", c, recipientPI)
	}
	refunds := mock.Calls("POST", "/v1/refunds")
	if len(refunds) != 1 || refunds[0].Form.Get("payment_intent") != giverPI || refunds[0].Form.Get("amount") != "45000" ||
		refunds[0].IdempotencyKey == "" {
		t.Fatalf("refund requests %+v, want one keyed refund of 45000 of %s", refunds, giverPI)
	}
	if got := e.entryRow(giver); got.Entry != "transferred" || got.Offer != "void" || got.Payment != "refunded" ||
		got.Refunded != 45000 || got.Due != 45000 {
		t.Errorf("giver after the transfer: %+v", got)
	}
	if got := e.entryRow(recipient); got.Entry != "confirmed" || got.Offer != "paid" || got.Payment != "captured" {
		t.Errorf("recipient after paying: %+v", got)
	}
	if live, _ := e.live(sq); live != liveBefore {
		t.Errorf("live offers %d after the transfer, were %d", live, liveBefore)
	}
	if e.intents(giver, "entry.refunded") != 1 || e.intents(giver, "transfer.completed") != 1 || e.intents(recipient, "offer.paid") != 1 {
		t.Errorf("mails: refunded %d, completed %d, recipient's confirmation %d", e.intents(giver, "entry.refunded"),
			e.intents(giver, "transfer.completed"), e.intents(recipient, "offer.paid"))
	}

	// Stripe's charge.refunded for the giver's refund changes nothing more.
	charge := fmt.Sprintf(`{"id":"ch_giver","object":"charge","amount":50000,"amount_refunded":45000,"currency":"krw",`+
		`"payment_intent":%q,"refunded":false}`, giverPI)
	if w := e.stripeWebhook("evt_giver_refunded", stripe.EventChargeRefunded, charge); w.Status != 200 {
		t.Errorf("charge.refunded: %d", w.Status)
	}
	if n := len(mock.Calls("POST", "/v1/refunds")); n != 1 {
		t.Errorf("%d refund requests after every delivery, want 1", n)
	}
	if got := e.entryRow(giver); got.Refunded != 45000 || got.Payment != "refunded" {
		t.Errorf("giver after charge.refunded: %+v", got)
	}

	// A forged delivery is refused.
	payload := []byte(`{"id":"evt_forged","object":"event","type":"payment_intent.succeeded"}`)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/payments/stripe/webhook", bytes.NewReader(payload))
	req.Header.Set(stripe.SignatureHeader, stripe.SignWebhook("whsec_other", payload, e.clock.Now()))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged webhook: %v %v", res, err)
	} else {
		res.Body.Close()
	}
}
