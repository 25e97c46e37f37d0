package stripe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/startline/startline/lottery"
)

const (
	testKey    = "sk_test_123"
	testSecret = "whsec_test_secret"
)

// call is one API request as the proxy saw it.
type call struct {
	Method, Path, IdempotencyKey string
	Form                         url.Values // the form body, or a GET's query
}

func (c call) String() string { return c.Method + " " + c.Path }

// proxy stands between a Provider and stripe-mock. It records every request,
// may answer one itself (answer returns true: errors stripe-mock cannot be
// asked for), and may patch stripe-mock's JSON answer (patch: stripe-mock is
// stateless and its fixture intents are always requires_payment_method).
type proxy struct {
	upstream string
	answer   func(c call, n int, w http.ResponseWriter) bool // n counts earlier calls with the same method and path
	patch    func(c call, n int, obj map[string]any)

	mu    sync.Mutex
	calls []call
}

func newProxy(t *testing.T, upstream string, p *proxy) *httptest.Server {
	t.Helper()
	p.upstream = upstream
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	c := call{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key"), Form: form}
	p.mu.Lock()
	n := 0
	for _, prev := range p.calls {
		if prev.String() == c.String() {
			n++
		}
	}
	p.calls = append(p.calls, c)
	p.mu.Unlock()

	if p.answer != nil && p.answer(c, n, w) {
		return
	}
	if p.upstream == "" {
		http.Error(w, "no upstream for "+c.String(), http.StatusBadGateway)
		return
	}
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if p.patch != nil && resp.StatusCode == http.StatusOK {
		var obj map[string]any
		if json.Unmarshal(out, &obj) == nil {
			p.patch(c, n, obj)
			out, _ = json.Marshal(obj)
		}
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

func (p *proxy) recorded() []call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]call(nil), p.calls...)
}

// stripeError answers like the Stripe API does when a request fails.
func stripeError(w http.ResponseWriter, status int, typ, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Stripe-Should-Retry", "false")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"type":%q,"code":%q,"message":"injected by the test"}}`, typ, code)
}

func newProvider(t *testing.T, baseURL string, edit func(*Config)) *Provider {
	t.Helper()
	cfg := Config{APIKey: testKey, WebhookSecret: testSecret, BaseURL: baseURL}
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"minimal", Config{APIKey: "sk_test_1", WebhookSecret: "whsec_1"}, ""},
		{"stripe-mock", Config{APIKey: "sk_test_1", WebhookSecret: "whsec_1", BaseURL: "http://127.0.0.1:12111",
			ReturnURLBase: "https://startline.test"}, ""},
		{"no key", Config{WebhookSecret: "whsec_1"}, "APIKey"},
		{"no webhook secret", Config{APIKey: "sk_test_1"}, "WebhookSecret"},
		{"relative base URL", Config{APIKey: "sk_test_1", WebhookSecret: "whsec_1", BaseURL: "127.0.0.1:12111"}, "BaseURL"},
		{"relative return base", Config{APIKey: "sk_test_1", WebhookSecret: "whsec_1", ReturnURLBase: "/pay"}, "ReturnURLBase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || p.Name() != "stripe" {
					t.Fatalf("New = %v, %v; want a provider named stripe", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestMapStatus(t *testing.T) {
	tests := []struct {
		in   string
		want lottery.PaymentStatus
	}{
		{"requires_payment_method", lottery.PaymentCreated},
		{"requires_confirmation", lottery.PaymentCreated},
		{"requires_action", lottery.PaymentCreated},
		{"processing", lottery.PaymentCreated},
		{"requires_capture", lottery.PaymentAuthorized},
		{"succeeded", lottery.PaymentCaptured},
		{"canceled", lottery.PaymentCanceled},
	}
	for _, tt := range tests {
		if got := MapStatus(tt.in); got != tt.want {
			t.Errorf("MapStatus(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCreatePayment(t *testing.T) {
	mock := startStripeMock(t)
	tests := []struct {
		name       string
		edit       func(*Config)
		req        lottery.PaymentRequest
		wantForm   url.Values
		wantReturn string
	}{
		{
			name: "automatic payment methods, relative return URL",
			edit: func(c *Config) { c.ReturnURLBase = "https://startline.test/base/" },
			req: lottery.PaymentRequest{OfferID: "off_1", AmountMinor: 50000, Currency: "KRW", Description: "Startline slot 10K",
				ReturnURL: "/offers/off_1?paid=1", IdempotencyKey: "pay:off_1"},
			wantForm: url.Values{"amount": {"50000"}, "currency": {"krw"}, "capture_method": {"manual"},
				"metadata[offer_id]": {"off_1"}, "description": {"Startline slot 10K"},
				"automatic_payment_methods[enabled]": {"true"}},
			wantReturn: "https://startline.test/offers/off_1?paid=1",
		},
		{
			name: "card only, absolute return URL",
			edit: func(c *Config) { c.PaymentMethodTypes = []string{"card"} },
			req: lottery.PaymentRequest{OfferID: "off_2", AmountMinor: 4500, Currency: "usd",
				ReturnURL: "https://startline.test/offers/off_2", IdempotencyKey: "pay:off_2"},
			wantForm: url.Values{"amount": {"4500"}, "currency": {"usd"}, "capture_method": {"manual"},
				"metadata[offer_id]": {"off_2"}, "payment_method_types[0]": {"card"}},
			wantReturn: "https://startline.test/offers/off_2",
		},
		{
			name: "no return URL",
			req:  lottery.PaymentRequest{OfferID: "off_3", AmountMinor: 100, Currency: "eur", IdempotencyKey: "pay:off_3"},
			wantForm: url.Values{"amount": {"100"}, "currency": {"eur"}, "capture_method": {"manual"},
				"metadata[offer_id]": {"off_3"}, "automatic_payment_methods[enabled]": {"true"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px := &proxy{}
			srv := newProxy(t, mock, px)
			p := newProvider(t, srv.URL, tt.edit)

			got, err := p.CreatePayment(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("CreatePayment: %v", err)
			}
			want := lottery.Payment{OfferID: tt.req.OfferID, Status: lottery.PaymentCreated,
				AmountMinor: tt.req.AmountMinor, Currency: strings.ToLower(tt.req.Currency)}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(lottery.Payment{}, "ID", "CheckoutURL")); diff != "" {
				t.Errorf("payment (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(got.ID, "pi_") {
				t.Errorf("ID = %q, want a PaymentIntent id", got.ID)
			}
			secret, ret, err := ParseCheckoutURL(got.CheckoutURL)
			if err != nil || !strings.HasPrefix(secret, "pi_") || ret != tt.wantReturn {
				t.Errorf("ParseCheckoutURL(%q) = %q, %q, %v; want a client secret and return URL %q",
					got.CheckoutURL, secret, ret, err, tt.wantReturn)
			}

			calls := px.recorded()
			if len(calls) != 1 || calls[0].String() != "POST /v1/payment_intents" {
				t.Fatalf("calls = %v, want one POST /v1/payment_intents", calls)
			}
			if calls[0].IdempotencyKey != tt.req.IdempotencyKey {
				t.Errorf("Idempotency-Key = %q, want %q", calls[0].IdempotencyKey, tt.req.IdempotencyKey)
			}
			if diff := cmp.Diff(tt.wantForm, calls[0].Form); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreatePaymentInvalid(t *testing.T) {
	valid := lottery.PaymentRequest{OfferID: "off_1", AmountMinor: 100, Currency: "usd", IdempotencyKey: "pay:off_1"}
	tests := []struct {
		name      string
		edit      func(*lottery.PaymentRequest)
		wantField string
		noBase    bool // ReturnURLBase unset
	}{
		{"no offer", func(r *lottery.PaymentRequest) { r.OfferID = "" }, "offer_id", false},
		{"zero amount", func(r *lottery.PaymentRequest) { r.AmountMinor = 0 }, "amount", false},
		{"negative amount", func(r *lottery.PaymentRequest) { r.AmountMinor = -5 }, "amount", false},
		{"bad currency", func(r *lottery.PaymentRequest) { r.Currency = "wons" }, "currency", false},
		{"relative return URL without a base", func(r *lottery.PaymentRequest) { r.ReturnURL = "/offers/off_1" }, "return_url", true},
		{"return URL of another scheme", func(r *lottery.PaymentRequest) { r.ReturnURL = "javascript:alert(1)" }, "return_url", false},
		{"return URL on another site", func(r *lottery.PaymentRequest) { r.ReturnURL = "https://evil.test/offers/off_1" }, "return_url", false},
		{"return URL over plain http", func(r *lottery.PaymentRequest) { r.ReturnURL = "http://startline.test/offers/off_1" }, "return_url", false},
		{"protocol-relative return URL to another site", func(r *lottery.PaymentRequest) { r.ReturnURL = "//evil.test/x" }, "return_url", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px := &proxy{}
			p := newProvider(t, newProxy(t, "", px).URL, func(c *Config) {
				if !tt.noBase {
					c.ReturnURLBase = "https://startline.test"
				}
			})
			req := valid
			tt.edit(&req)
			_, err := p.CreatePayment(context.Background(), req)
			var le *lottery.Error
			if !errors.As(err, &le) || le.Code != lottery.CodeInvalidField || le.Field != tt.wantField {
				t.Fatalf("CreatePayment error = %v, want invalid_field on %s", err, tt.wantField)
			}
			if calls := px.recorded(); len(calls) != 0 {
				t.Errorf("calls = %v, want none", calls)
			}
		})
	}
}

// TestIdempotencyKeyOnRetry: a request whose connection drops is resent with
// the caller's key, so Stripe replays its answer instead of creating a second
// PaymentIntent.
func TestIdempotencyKeyOnRetry(t *testing.T) {
	mock := startStripeMock(t)
	px := &proxy{answer: func(c call, n int, w http.ResponseWriter) bool {
		if n > 0 {
			return false
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return false
		}
		conn.Close()
		return true
	}}
	p := newProvider(t, newProxy(t, mock, px).URL, nil)
	_, err := p.CreatePayment(context.Background(), lottery.PaymentRequest{OfferID: "off_1", AmountMinor: 100, Currency: "usd",
		IdempotencyKey: "pay:off_1"})
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	var keys []string
	for _, c := range px.recorded() {
		keys = append(keys, c.IdempotencyKey)
	}
	if diff := cmp.Diff([]string{"pay:off_1", "pay:off_1"}, keys); diff != "" {
		t.Errorf("Idempotency-Key per attempt (-want +got):\n%s", diff)
	}
}

func setStatus(status string) func(call, int, map[string]any) {
	return func(_ call, _ int, obj map[string]any) { obj["status"] = status }
}

func TestCapture(t *testing.T) {
	mock := startStripeMock(t)
	tests := []struct {
		name      string
		answer    func(call, int, http.ResponseWriter) bool
		patch     func(call, int, map[string]any)
		want      lottery.PaymentStatus
		wantErr   error
		wantCalls []string
	}{
		{
			name:      "authorized intent is captured",
			patch:     setStatus("succeeded"),
			want:      lottery.PaymentCaptured,
			wantCalls: []string{"POST /v1/payment_intents/pi_123/capture"},
		},
		{
			name:      "stripe-mock's fixture status maps as is",
			want:      lottery.PaymentCreated, // requires_payment_method
			wantCalls: []string{"POST /v1/payment_intents/pi_123/capture"},
		},
		{
			name: "already captured under another key",
			answer: func(c call, _ int, w http.ResponseWriter) bool {
				if c.Method != http.MethodPost {
					return false
				}
				stripeError(w, http.StatusBadRequest, "invalid_request_error", "payment_intent_unexpected_state")
				return true
			},
			patch:     setStatus("succeeded"),
			want:      lottery.PaymentCaptured,
			wantCalls: []string{"POST /v1/payment_intents/pi_123/capture", "GET /v1/payment_intents/pi_123"},
		},
		{
			name: "cancelled intent",
			answer: func(c call, _ int, w http.ResponseWriter) bool {
				if c.Method != http.MethodPost {
					return false
				}
				stripeError(w, http.StatusBadRequest, "invalid_request_error", "payment_intent_unexpected_state")
				return true
			},
			patch:     setStatus("canceled"),
			wantErr:   lottery.ErrInvalidTransition,
			wantCalls: []string{"POST /v1/payment_intents/pi_123/capture", "GET /v1/payment_intents/pi_123"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px := &proxy{answer: tt.answer, patch: tt.patch}
			p := newProvider(t, newProxy(t, mock, px).URL, nil)
			got, err := p.Capture(context.Background(), "pi_123", "capture:pi_123")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Capture error = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Capture: %v", err)
			} else if got.ID != "pi_123" || got.Status != tt.want {
				t.Errorf("Capture = %+v, want pi_123 %s", got, tt.want)
			}
			calls := px.recorded()
			var names []string
			for _, c := range calls {
				names = append(names, c.String())
			}
			if diff := cmp.Diff(tt.wantCalls, names); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if calls[0].IdempotencyKey != "capture:pi_123" {
				t.Errorf("capture Idempotency-Key = %q, want capture:pi_123", calls[0].IdempotencyKey)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	mock := startStripeMock(t)
	// retrieved sets what GET /v1/payment_intents/pi_123 says, per attempt.
	retrieved := func(statuses []string, refunded bool) func(call, int, map[string]any) {
		return func(c call, n int, obj map[string]any) {
			switch {
			case c.Method == http.MethodGet:
				obj["status"] = statuses[min(n, len(statuses)-1)]
				obj["metadata"] = map[string]any{"offer_id": "off_1"}
				if ch, ok := obj["latest_charge"].(map[string]any); ok {
					ch["refunded"] = refunded
				}
			case strings.HasSuffix(c.Path, "/cancel"):
				obj["status"] = "canceled"
			}
		}
	}
	conflictOnCancel := func(c call, _ int, w http.ResponseWriter) bool {
		if !strings.HasSuffix(c.Path, "/cancel") {
			return false
		}
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "payment_intent_unexpected_state")
		return true
	}
	tests := []struct {
		name      string
		answer    func(call, int, http.ResponseWriter) bool
		patch     func(call, int, map[string]any)
		want      lottery.PaymentStatus
		wantErr   string // a lottery error code
		wantCalls []call // Form holds only the fields checked
	}{
		{
			name:  "authorization released",
			patch: retrieved([]string{"requires_capture"}, false),
			want:  lottery.PaymentCanceled,
			wantCalls: []call{
				{Method: "GET", Path: "/v1/payment_intents/pi_123", Form: url.Values{"expand[0]": {"latest_charge"}}},
				{Method: "POST", Path: "/v1/payment_intents/pi_123/cancel", IdempotencyKey: "cancel:pi_123",
					Form: url.Values{"cancellation_reason": {"abandoned"}}},
			},
		},
		{
			name:  "never authorized: intent cancelled so it cannot be paid later",
			patch: retrieved([]string{"requires_payment_method"}, false),
			want:  lottery.PaymentCanceled,
			wantCalls: []call{
				{Method: "GET", Path: "/v1/payment_intents/pi_123", Form: url.Values{"expand[0]": {"latest_charge"}}},
				{Method: "POST", Path: "/v1/payment_intents/pi_123/cancel", IdempotencyKey: "cancel:pi_123",
					Form: url.Values{"cancellation_reason": {"abandoned"}}},
			},
		},
		{
			name:  "captured: refunded",
			patch: retrieved([]string{"succeeded"}, false),
			want:  lottery.PaymentRefunded,
			wantCalls: []call{
				{Method: "GET", Path: "/v1/payment_intents/pi_123", Form: url.Values{"expand[0]": {"latest_charge"}}},
				{Method: "POST", Path: "/v1/refunds", IdempotencyKey: "cancel:pi_123:refund",
					Form: url.Values{"payment_intent": {"pi_123"}, "metadata[offer_id]": {"off_1"}}},
			},
		},
		{
			name:  "already refunded",
			patch: retrieved([]string{"succeeded"}, true),
			want:  lottery.PaymentRefunded,
			wantCalls: []call{
				{Method: "GET", Path: "/v1/payment_intents/pi_123", Form: url.Values{"expand[0]": {"latest_charge"}}},
			},
		},
		{
			name:  "already cancelled",
			patch: retrieved([]string{"canceled"}, false),
			want:  lottery.PaymentCanceled,
			wantCalls: []call{
				{Method: "GET", Path: "/v1/payment_intents/pi_123", Form: url.Values{"expand[0]": {"latest_charge"}}},
			},
		},
		{
			name:   "captured between retrieve and cancel: refunded",
			answer: conflictOnCancel,
			patch:  retrieved([]string{"requires_capture", "succeeded"}, false),
			want:   lottery.PaymentRefunded,
			wantCalls: []call{
				{Method: "GET", Path: "/v1/payment_intents/pi_123", Form: url.Values{"expand[0]": {"latest_charge"}}},
				{Method: "POST", Path: "/v1/payment_intents/pi_123/cancel", IdempotencyKey: "cancel:pi_123",
					Form: url.Values{"cancellation_reason": {"abandoned"}}},
				{Method: "GET", Path: "/v1/payment_intents/pi_123", Form: url.Values{"expand[0]": {"latest_charge"}}},
				{Method: "POST", Path: "/v1/refunds", IdempotencyKey: "cancel:pi_123:refund",
					Form: url.Values{"payment_intent": {"pi_123"}}},
			},
		},
		{
			name: "refund failed",
			patch: func(c call, n int, obj map[string]any) {
				if c.Path == "/v1/refunds" {
					obj["status"] = "failed"
					return
				}
				retrieved([]string{"succeeded"}, false)(c, n, obj)
			},
			wantErr: lottery.CodeUnavailable,
			wantCalls: []call{
				{Method: "GET", Path: "/v1/payment_intents/pi_123", Form: url.Values{"expand[0]": {"latest_charge"}}},
				{Method: "POST", Path: "/v1/refunds", IdempotencyKey: "cancel:pi_123:refund",
					Form: url.Values{"payment_intent": {"pi_123"}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px := &proxy{answer: tt.answer, patch: tt.patch}
			p := newProvider(t, newProxy(t, mock, px).URL, nil)
			got, err := p.Cancel(context.Background(), "pi_123", "cancel:pi_123")
			if tt.wantErr != "" {
				if lottery.CodeOf(err) != tt.wantErr {
					t.Fatalf("Cancel error = %v, want code %s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Cancel: %v", err)
			} else {
				want := lottery.Payment{ID: "pi_123", OfferID: "off_1", Status: tt.want, AmountMinor: got.AmountMinor, Currency: got.Currency}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Cancel (-want +got):\n%s", diff)
				}
			}
			calls := px.recorded()
			// Compare only the form fields each case names.
			for i := range calls {
				if i < len(tt.wantCalls) {
					trimmed := url.Values{}
					for k := range tt.wantCalls[i].Form {
						trimmed[k] = calls[i].Form[k]
					}
					calls[i].Form = trimmed
				}
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProviderErrors: Stripe's failures reach the caller as the lottery
// codes it acts on (no stripe-mock needed: the proxy answers).
func TestProviderErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		typ      string
		code     string
		wantCode string
	}{
		{"unknown intent", http.StatusNotFound, "invalid_request_error", "resource_missing", lottery.CodeNotFound},
		{"idempotency key reused with other parameters", http.StatusBadRequest, "idempotency_error", "", lottery.CodeIdempotencyMismatch},
		{"wrong state", http.StatusBadRequest, "invalid_request_error", "payment_intent_unexpected_state", lottery.CodeInvalidTransition},
		{"rate limited", http.StatusTooManyRequests, "invalid_request_error", "rate_limit", lottery.CodeUnavailable},
		{"Stripe down", http.StatusServiceUnavailable, "api_error", "", lottery.CodeUnavailable},
		{"bad API key", http.StatusUnauthorized, "invalid_request_error", "api_key_expired", lottery.CodeInternal},
	}
	ops := map[string]func(*Provider) error{
		"create": func(p *Provider) error {
			_, err := p.CreatePayment(context.Background(), lottery.PaymentRequest{OfferID: "off_1", AmountMinor: 100, Currency: "usd"})
			return err
		},
		"capture": func(p *Provider) error { _, err := p.Capture(context.Background(), "pi_123", "k"); return err },
		"cancel":  func(p *Provider) error { _, err := p.Cancel(context.Background(), "pi_123", "k"); return err },
	}
	for _, tt := range tests {
		for op, run := range ops {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				px := &proxy{answer: func(_ call, _ int, w http.ResponseWriter) bool {
					stripeError(w, tt.status, tt.typ, tt.code)
					return true
				}}
				err := run(newProvider(t, newProxy(t, "", px).URL, nil))
				if got := lottery.CodeOf(err); got != tt.wantCode {
					t.Errorf("error %v has code %s, want %s", err, got, tt.wantCode)
				}
			})
		}
	}

	t.Run("no answer", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + ln.Addr().String()
		ln.Close()
		_, err = newProvider(t, dead, nil).Capture(context.Background(), "pi_123", "k")
		if got := lottery.CodeOf(err); got != lottery.CodeUnavailable {
			t.Errorf("error %v has code %s, want unavailable", err, got)
		}
	})
}

func TestParseCheckoutURL(t *testing.T) {
	tests := []struct {
		in         string
		wantSecret string
		wantReturn string
		wantErr    bool
	}{
		{"stripe:pi_1_secret_abc", "pi_1_secret_abc", "", false},
		{checkoutURL("pi_1_secret_abc", "https://startline.test/o?a=1&b=2"), "pi_1_secret_abc", "https://startline.test/o?a=1&b=2", false},
		{"https://checkout.example/pay", "", "", true},
		{"stripe:pi_1", "", "", true},
		{"stripe:pi_1_secret_abc?%zz", "", "", true},
	}
	for _, tt := range tests {
		secret, ret, err := ParseCheckoutURL(tt.in)
		if (err != nil) != tt.wantErr || secret != tt.wantSecret || ret != tt.wantReturn {
			t.Errorf("ParseCheckoutURL(%q) = %q, %q, %v; want %q, %q, error %v", tt.in, secret, ret, err,
				tt.wantSecret, tt.wantReturn, tt.wantErr)
		}
	}
}
