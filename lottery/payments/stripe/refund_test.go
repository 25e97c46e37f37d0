package stripe

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
)

// TestRefund: a give-back's refund is one Refund object for exactly the
// amount the policy gave (partial or full), sent once per idempotency key,
// on stripe-mock.
func TestRefund(t *testing.T) {
	mock := startStripeMock(t)
	tests := []struct {
		name    string
		amount  int64
		answer  func(call, int, http.ResponseWriter) bool
		patch   func(call, int, map[string]any)
		want    lottery.Payment
		wantErr string
	}{
		{name: "partial", amount: 25000,
			patch: func(c call, _ int, obj map[string]any) { obj["amount"], obj["currency"] = 25000, "krw" },
			want:  lottery.Payment{ID: "pi_123", Status: lottery.PaymentRefunded, RefundedMinor: 25000, Currency: "krw"}},
		{name: "full", amount: 50000,
			patch: func(c call, _ int, obj map[string]any) { obj["amount"], obj["currency"] = 50000, "krw" },
			want:  lottery.Payment{ID: "pi_123", Status: lottery.PaymentRefunded, RefundedMinor: 50000, Currency: "krw"}},
		{name: "already refunded", amount: 50000,
			answer: func(c call, _ int, w http.ResponseWriter) bool {
				stripeError(w, http.StatusBadRequest, "invalid_request_error", "charge_already_refunded")
				return true
			},
			want: lottery.Payment{ID: "pi_123", Status: lottery.PaymentRefunded}},
		{name: "refund failed", amount: 50000,
			patch:   func(c call, _ int, obj map[string]any) { obj["status"] = "failed" },
			wantErr: lottery.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px := &proxy{answer: tt.answer, patch: tt.patch}
			p := newProvider(t, newProxy(t, mock, px).URL, nil)
			got, err := p.Refund(context.Background(), "pi_123", tt.amount, "refund:off_1")
			if tt.wantErr != "" {
				if lottery.CodeOf(err) != tt.wantErr {
					t.Fatalf("Refund error = %v, want %s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Refund: %v", err)
			} else if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Refund (-want +got):\n%s", diff)
			}
			calls := px.recorded()
			if len(calls) != 1 || calls[0].String() != "POST /v1/refunds" || calls[0].IdempotencyKey != "refund:off_1" {
				t.Fatalf("calls = %+v, want one POST /v1/refunds with key refund:off_1", calls)
			}
			want := url.Values{"payment_intent": {"pi_123"}, "amount": {formatInt(tt.amount)}, "reason": {"requested_by_customer"}}
			if diff := cmp.Diff(want, calls[0].Form); diff != "" {
				t.Errorf("refund form (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := newProvider(t, mock, nil).Refund(context.Background(), "pi_123", 0, "k"); lottery.CodeOf(err) != lottery.CodeInvalidField {
		t.Errorf("zero refund: %v", err)
	}
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
