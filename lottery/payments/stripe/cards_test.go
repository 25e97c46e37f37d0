package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
)

func TestRetryableDecline(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"insufficient_funds", true},
		{"processing_error", true},
		{"try_again_later", true},
		{"issuer_not_available", true},
		{"reenter_transaction", true},
		{"approve_with_id", true},
		{"rate_limit", true},
		{"authentication_required", false},
		{"card_declined", false},
		{"generic_decline", false},
		{"do_not_honor", false},
		{"stolen_card", false},
		{"lost_card", false},
		{"fraudulent", false},
		{"pickup_card", false},
		{"expired_card", false},
		{"incorrect_cvc", false},
		{"incorrect_number", false},
		{"card_not_supported", false},
		{"requires_payment_method", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := RetryableDecline(tt.code); got != tt.want {
			t.Errorf("RetryableDecline(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestProviderBusy(t *testing.T) {
	for status, want := range map[int]bool{429: true, 409: true, 500: true, 502: true, 503: true,
		200: false, 400: false, 401: false, 402: false, 404: false} {
		if got := ProviderBusy(status); got != want {
			t.Errorf("ProviderBusy(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestStartCardSetup(t *testing.T) {
	mock := startStripeMock(t)
	px := &proxy{}
	p := newProvider(t, newProxy(t, mock, px).URL, func(c *Config) { c.ReturnURLBase = "https://startline.test" })

	got, err := p.StartCardSetup(context.Background(), lottery.CardSetupRequest{EventSlug: "spring",
		ReturnURL: "/events/spring/apply/card?step=3", IdempotencyKey: "card-setup:abc"})
	if err != nil {
		t.Fatalf("StartCardSetup: %v", err)
	}
	if !strings.HasPrefix(got.ID, "seti_") {
		t.Errorf("ID = %q, want a SetupIntent id", got.ID)
	}
	secret, ret, err := ParseCheckoutURL(got.ConfirmURL)
	if err != nil || !strings.HasPrefix(secret, "seti_") || ret != "https://startline.test/events/spring/apply/card?step=3" {
		t.Errorf("ParseCheckoutURL(%q) = %q, %q, %v; want a SetupIntent client secret and the absolute return URL",
			got.ConfirmURL, secret, ret, err)
	}

	calls := px.recorded()
	if len(calls) != 2 {
		t.Fatalf("calls = %v, want a customer then a setup intent", calls)
	}
	// The Customer carries the event's slug and nothing about the person.
	want := []call{
		{Method: "POST", Path: "/v1/customers", IdempotencyKey: "card-setup:abc:customer",
			Form: url.Values{"metadata[event]": {"spring"}}},
		{Method: "POST", Path: "/v1/setup_intents", IdempotencyKey: "card-setup:abc",
			Form: url.Values{"customer": calls[1].Form["customer"], "usage": {"off_session"},
				"payment_method_types[0]": {"card"}, "metadata[event]": {"spring"}}},
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if c := calls[1].Form.Get("customer"); !strings.HasPrefix(c, "cus_") {
		t.Errorf("setup intent for customer %q, want the customer just created", c)
	}

	t.Run("invalid", func(t *testing.T) {
		for name, r := range map[string]lottery.CardSetupRequest{
			"idempotency_key": {EventSlug: "spring"},
			"return_url":      {EventSlug: "spring", IdempotencyKey: "k", ReturnURL: "https://evil.test/x"},
		} {
			px := &proxy{}
			p := newProvider(t, newProxy(t, "", px).URL, func(c *Config) { c.ReturnURLBase = "https://startline.test" })
			_, err := p.StartCardSetup(context.Background(), r)
			var le *lottery.Error
			if !errors.As(err, &le) || le.Code != lottery.CodeInvalidField || le.Field != name {
				t.Errorf("%s: error %v, want invalid_field on %s", name, err, name)
			}
			if calls := px.recorded(); len(calls) != 0 {
				t.Errorf("%s: calls %v, want none", name, calls)
			}
		}
	})
}

func TestCardSetupResult(t *testing.T) {
	mock := startStripeMock(t)
	// stripe-mock answers every SetupIntent as requires_payment_method with
	// no customer; the patch plays the applicant having confirmed it.
	status := func(s string) func(call, int, map[string]any) {
		return func(_ call, _ int, obj map[string]any) {
			obj["status"] = s
			obj["customer"] = "cus_abc"
		}
	}
	tests := []struct {
		name     string
		patch    func(call, int, map[string]any)
		answer   func(call, int, http.ResponseWriter) bool
		wantCode string
	}{
		{name: "succeeded", patch: status("succeeded")},
		{name: "not confirmed yet (stripe-mock's fixture)", wantCode: lottery.CodeInvalidTransition},
		{name: "needs 3-D Secure", patch: status("requires_action"), wantCode: lottery.CodeInvalidTransition},
		{name: "processing", patch: status("processing"), wantCode: lottery.CodeInvalidTransition},
		{name: "cancelled", patch: status("canceled"), wantCode: lottery.CodeInvalidTransition},
		{name: "unknown", answer: func(_ call, _ int, w http.ResponseWriter) bool {
			stripeError(w, http.StatusNotFound, "invalid_request_error", "resource_missing")
			return true
		}, wantCode: lottery.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px := &proxy{patch: tt.patch, answer: tt.answer}
			p := newProvider(t, newProxy(t, mock, px).URL, nil)
			got, err := p.CardSetupResult(context.Background(), "seti_123")
			calls := px.recorded()
			if len(calls) != 1 || calls[0].String() != "GET /v1/setup_intents/seti_123" ||
				calls[0].Form.Get("expand[0]") != "payment_method" {
				t.Fatalf("calls = %+v, want one GET of seti_123 expanding payment_method", calls)
			}
			if tt.wantCode != "" {
				if lottery.CodeOf(err) != tt.wantCode {
					t.Fatalf("CardSetupResult error = %v, want code %s", err, tt.wantCode)
				}
				if tt.wantCode == lottery.CodeNotFound && !errors.Is(err, lottery.ErrNotFound) {
					t.Errorf("error %v is not ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CardSetupResult: %v", err)
			}
			if got.Fingerprint == "" || !strings.HasPrefix(got.PaymentMethod, "pm_") {
				t.Fatalf("saved card %+v: want stripe-mock's payment method with its fingerprint", got)
			}
			want := lottery.SavedCard{Provider: "stripe", SetupID: "seti_123", PaymentMethod: got.PaymentMethod,
				Customer: "cus_abc", Fingerprint: got.Fingerprint, Brand: "visa", Last4: "4242"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("saved card (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("fingerprint is the card's, not the setup's", func(t *testing.T) {
		// Two setups of one card (two entries) carry one fingerprint.
		px := &proxy{patch: func(c call, n int, obj map[string]any) {
			status("succeeded")(c, n, obj)
			pm, _ := obj["payment_method"].(map[string]any)
			card, _ := pm["card"].(map[string]any)
			card["fingerprint"] = "fp_same_card"
			pm["id"] = "pm_" + strings.TrimPrefix(c.Path, "/v1/setup_intents/")
		}}
		p := newProvider(t, newProxy(t, mock, px).URL, nil)
		a, errA := p.CardSetupResult(context.Background(), "seti_a")
		b, errB := p.CardSetupResult(context.Background(), "seti_b")
		if errA != nil || errB != nil || a.Fingerprint != "fp_same_card" || a.Fingerprint != b.Fingerprint || a.PaymentMethod == b.PaymentMethod {
			t.Errorf("two setups of one card: %+v %v, %+v %v", a, errA, b, errB)
		}
	})
}

func validCharge() lottery.CardCharge {
	return lottery.CardCharge{OfferID: "off_1", AmountMinor: 50000, Currency: "KRW", Description: "Startline slot 10K",
		IdempotencyKey: "charge:off_1:1", Card: lottery.SavedCard{Provider: "stripe", SetupID: "seti_1",
			PaymentMethod: "pm_card_visa", Customer: "cus_abc", Fingerprint: "fp1", Brand: "visa", Last4: "4242"}}
}

func TestChargeCard(t *testing.T) {
	mock := startStripeMock(t)
	// stripe-mock does not confirm; the patch answers as Stripe does for a
	// card that pays.
	px := &proxy{patch: func(_ call, _ int, obj map[string]any) {
		obj["status"] = "succeeded"
		obj["metadata"] = map[string]any{"offer_id": "off_1"}
	}}
	p := newProvider(t, newProxy(t, mock, px).URL, nil)
	got, decline, err := p.ChargeCard(context.Background(), validCharge())
	if err != nil {
		t.Fatalf("ChargeCard: %v", err)
	}
	if decline != (lottery.CardDecline{}) {
		t.Errorf("decline = %+v, want none", decline)
	}
	if !strings.HasPrefix(got.ID, "pi_") {
		t.Errorf("ID = %q, want a PaymentIntent id", got.ID)
	}
	want := lottery.Payment{ID: got.ID, OfferID: "off_1", Status: lottery.PaymentCaptured, AmountMinor: 50000, Currency: "krw"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("payment (-want +got):\n%s", diff)
	}
	calls := px.recorded()
	if len(calls) != 1 || calls[0].String() != "POST /v1/payment_intents" {
		t.Fatalf("calls = %v, want one POST /v1/payment_intents", calls)
	}
	if calls[0].IdempotencyKey != "charge:off_1:1" {
		t.Errorf("Idempotency-Key = %q, want charge:off_1:1", calls[0].IdempotencyKey)
	}
	wantForm := url.Values{"amount": {"50000"}, "currency": {"krw"}, "customer": {"cus_abc"}, "payment_method": {"pm_card_visa"},
		"payment_method_types[0]": {"card"}, "off_session": {"true"}, "confirm": {"true"}, "capture_method": {"automatic"},
		"metadata[offer_id]": {"off_1"}, "metadata[card_charge]": {"1"}, "description": {"Startline slot 10K"}}
	if diff := cmp.Diff(wantForm, calls[0].Form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}

	t.Run("intent left needing the runner", func(t *testing.T) {
		px := &proxy{patch: func(_ call, _ int, obj map[string]any) { obj["status"] = "requires_action" }}
		p := newProvider(t, newProxy(t, mock, px).URL, nil)
		got, decline, err := p.ChargeCard(context.Background(), validCharge())
		if err != nil || got.Status != lottery.PaymentFailed || decline != (lottery.CardDecline{Code: "authentication_required"}) {
			t.Errorf("ChargeCard = %+v, %+v, %v; want failed, authentication_required, final", got, decline, err)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for field, edit := range map[string]func(*lottery.CardCharge){
			"offer_id":        func(c *lottery.CardCharge) { c.OfferID = "" },
			"amount":          func(c *lottery.CardCharge) { c.AmountMinor = 0 },
			"currency":        func(c *lottery.CardCharge) { c.Currency = "wons" },
			"card":            func(c *lottery.CardCharge) { c.Card.Customer = "" },
			"idempotency_key": func(c *lottery.CardCharge) { c.IdempotencyKey = "" },
		} {
			px := &proxy{}
			p := newProvider(t, newProxy(t, "", px).URL, nil)
			r := validCharge()
			edit(&r)
			_, _, err := p.ChargeCard(context.Background(), r)
			var le *lottery.Error
			if !errors.As(err, &le) || le.Code != lottery.CodeInvalidField || le.Field != field {
				t.Errorf("%s: error %v, want invalid_field on %s", field, err, field)
			}
			if calls := px.recorded(); len(calls) != 0 {
				t.Errorf("%s: calls %v, want none", field, calls)
			}
		}
	})
}

// cardError answers like Stripe does when an off-session confirm is
// declined: 402 with the failed PaymentIntent in the error.
func cardError(w http.ResponseWriter, code, declineCode string) {
	e := map[string]any{"type": "card_error", "code": code, "message": "injected by the test",
		"payment_intent": map[string]any{"id": "pi_declined", "object": "payment_intent", "status": "requires_payment_method"}}
	if declineCode != "" {
		e["decline_code"] = declineCode
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Stripe-Should-Retry", "false")
	w.WriteHeader(http.StatusPaymentRequired)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

// TestChargeCardDeclines: Stripe's card errors (which stripe-mock cannot
// produce; the test server answers) become a failed payment and a decline
// saying whether to try again, never an error.
func TestChargeCardDeclines(t *testing.T) {
	tests := []struct {
		name, code, declineCode string
		want                    lottery.CardDecline
	}{
		{"short of funds", "card_declined", "insufficient_funds", lottery.CardDecline{Code: "insufficient_funds", Retry: true}},
		{"issuer says try later", "card_declined", "try_again_later", lottery.CardDecline{Code: "try_again_later", Retry: true}},
		{"processing error", "processing_error", "", lottery.CardDecline{Code: "processing_error", Retry: true}},
		{"generic decline", "card_declined", "generic_decline", lottery.CardDecline{Code: "generic_decline"}},
		{"stolen", "card_declined", "stolen_card", lottery.CardDecline{Code: "stolen_card"}},
		{"lost", "card_declined", "lost_card", lottery.CardDecline{Code: "lost_card"}},
		{"fraudulent", "card_declined", "fraudulent", lottery.CardDecline{Code: "fraudulent"}},
		{"expired", "expired_card", "", lottery.CardDecline{Code: "expired_card"}},
		{"wrong CVC", "incorrect_cvc", "", lottery.CardDecline{Code: "incorrect_cvc"}},
		{"needs the runner (3-D Secure)", "authentication_required", "authentication_required",
			lottery.CardDecline{Code: "authentication_required"}},
		{"declined, no reason given", "card_declined", "", lottery.CardDecline{Code: "card_declined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px := &proxy{answer: func(_ call, _ int, w http.ResponseWriter) bool {
				cardError(w, tt.code, tt.declineCode)
				return true
			}}
			p := newProvider(t, newProxy(t, "", px).URL, nil)
			got, decline, err := p.ChargeCard(context.Background(), validCharge())
			if err != nil {
				t.Fatalf("ChargeCard: %v", err)
			}
			if decline != tt.want {
				t.Errorf("decline = %+v, want %+v", decline, tt.want)
			}
			want := lottery.Payment{ID: "pi_declined", OfferID: "off_1", Status: lottery.PaymentFailed, AmountMinor: 50000, Currency: "krw"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("payment (-want +got):\n%s", diff)
			}
			if calls := px.recorded(); len(calls) != 1 || calls[0].IdempotencyKey != "charge:off_1:1" {
				t.Errorf("calls = %+v, want one with the charge's idempotency key", calls)
			}
		})
	}
}

// TestChargeCardBusy: a rate limit, an outage or no answer is
// ErrProviderBusy (retry later, nothing decided); other failures are not.
func TestChargeCardBusy(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		typ      string
		code     string
		busy     bool
		wantCode string
	}{
		{"rate limited", http.StatusTooManyRequests, "invalid_request_error", "rate_limit", true, lottery.CodeUnavailable},
		{"Stripe down", http.StatusServiceUnavailable, "api_error", "", true, lottery.CodeUnavailable},
		{"Stripe error", http.StatusInternalServerError, "api_error", "", true, lottery.CodeUnavailable},
		{"same key in flight", http.StatusConflict, "idempotency_error", "", true, lottery.CodeUnavailable},
		{"unknown payment method", http.StatusNotFound, "invalid_request_error", "resource_missing", false, lottery.CodeNotFound},
		{"key reused for another charge", http.StatusBadRequest, "idempotency_error", "", false, lottery.CodeIdempotencyMismatch},
		{"bad API key", http.StatusUnauthorized, "invalid_request_error", "api_key_expired", false, lottery.CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px := &proxy{answer: func(_ call, _ int, w http.ResponseWriter) bool {
				stripeError(w, tt.status, tt.typ, tt.code)
				return true
			}}
			p := newProvider(t, newProxy(t, "", px).URL, nil)
			got, decline, err := p.ChargeCard(context.Background(), validCharge())
			if errors.Is(err, lottery.ErrProviderBusy) != tt.busy || lottery.CodeOf(err) != tt.wantCode {
				t.Errorf("error %v: busy %v code %s, want busy %v code %s", err, errors.Is(err, lottery.ErrProviderBusy),
					lottery.CodeOf(err), tt.busy, tt.wantCode)
			}
			if got != (lottery.Payment{}) || decline != (lottery.CardDecline{}) {
				t.Errorf("answer %+v %+v alongside an error, want none", got, decline)
			}
			if calls := px.recorded(); len(calls) == 0 || calls[0].IdempotencyKey != "charge:off_1:1" {
				t.Errorf("calls = %+v, want the charge's idempotency key", calls)
			}
		})
	}

	t.Run("no answer", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + ln.Addr().String()
		ln.Close()
		p := newProvider(t, dead, func(c *Config) { c.HTTPClient = &http.Client{} })
		_, _, err = p.ChargeCard(context.Background(), validCharge())
		if !errors.Is(err, lottery.ErrProviderBusy) {
			t.Errorf("error %v, want ErrProviderBusy", err)
		}
	})
}

// TestChargeCardRetries: a charge as the charging worker makes it — a rate
// limit first (retried with the same key: nothing was decided), then a
// decline worth retrying (a new attempt, a new key), then paid through
// stripe-mock.
func TestChargeCardRetries(t *testing.T) {
	mock := startStripeMock(t)
	px := &proxy{
		answer: func(_ call, n int, w http.ResponseWriter) bool {
			switch n {
			case 0:
				stripeError(w, http.StatusTooManyRequests, "invalid_request_error", "rate_limit")
				return true
			case 1:
				cardError(w, "card_declined", "insufficient_funds")
				return true
			}
			return false
		},
		patch: func(_ call, _ int, obj map[string]any) { obj["status"] = "succeeded" },
	}
	p := newProvider(t, newProxy(t, mock, px).URL, nil)
	r := validCharge()
	attempt := func(key string) (lottery.Payment, lottery.CardDecline, error) {
		r.IdempotencyKey = key
		return p.ChargeCard(context.Background(), r)
	}

	if _, _, err := attempt("charge:off_1:1"); !errors.Is(err, lottery.ErrProviderBusy) {
		t.Fatalf("first attempt: %v, want ErrProviderBusy", err)
	}
	pay, decline, err := attempt("charge:off_1:1") // busy decided nothing: same key
	if err != nil || pay.Status != lottery.PaymentFailed || !decline.Retry {
		t.Fatalf("second attempt: %+v %+v %v, want a retryable decline", pay, decline, err)
	}
	pay, decline, err = attempt("charge:off_1:2") // a new attempt after a decline
	if err != nil || pay.Status != lottery.PaymentCaptured || decline != (lottery.CardDecline{}) || pay.AmountMinor != 50000 {
		t.Fatalf("third attempt: %+v %+v %v, want captured", pay, decline, err)
	}
	var keys []string
	for _, c := range px.recorded() {
		keys = append(keys, c.IdempotencyKey)
	}
	if diff := cmp.Diff([]string{"charge:off_1:1", "charge:off_1:1", "charge:off_1:2"}, keys); diff != "" {
		t.Errorf("Idempotency-Key per request (-want +got):\n%s", diff)
	}
}
