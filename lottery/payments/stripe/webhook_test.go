package stripe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
)

var webhookNow = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// eventJSON is a Stripe event as a webhook delivers it.
func eventJSON(id, typ string, created int64, object string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2026-03-25.dahlia","created":%d,`+
		`"data":{"object":%s},"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":%q}`,
		id, created, object, typ)
}

const (
	intentJSON = `{"id":"pi_123","object":"payment_intent","amount":50000,"amount_capturable":50000,` +
		`"capture_method":"manual","currency":"krw","metadata":{"offer_id":"off_1"},"status":"requires_capture"}`
	chargeJSON = `{"id":"ch_1","object":"charge","amount":50000,"amount_refunded":50000,"currency":"krw",` +
		`"metadata":{"offer_id":"off_1"},"payment_intent":"pi_123","refunded":true}`
)

func header(sig string) http.Header {
	h := http.Header{}
	if sig != "" {
		h.Set("Stripe-Signature", sig)
	}
	return h
}

func TestSignWebhook(t *testing.T) {
	payload := []byte(`{"id":"evt_1"}`)
	got := SignWebhook("whsec_x", payload, time.Unix(1700000000, 0))
	mac := hmac.New(sha256.New, []byte("whsec_x"))
	mac.Write([]byte("1700000000." + string(payload)))
	want := "t=1700000000,v1=" + hex.EncodeToString(mac.Sum(nil))
	if got != want {
		t.Errorf("SignWebhook = %q, want %q", got, want)
	}
}

func TestParseWebhookSignature(t *testing.T) {
	p := newProvider(t, "", nil)
	payload := eventJSON("evt_1", EventAmountCapturableUpdated, webhookNow.Unix(), intentJSON)
	good := SignWebhook(testSecret, payload, webhookNow)
	ts := strconv.FormatInt(webhookNow.Unix(), 10)
	goodSig := good[len("t="+ts+",v1="):]
	otherSig := SignWebhook("whsec_other", payload, webhookNow)[len("t="+ts+",v1="):]

	tests := []struct {
		name    string
		header  http.Header
		payload []byte
		now     time.Time
		valid   bool
	}{
		{"valid", header(good), payload, webhookNow, true},
		{"valid, 5 minutes old", header(good), payload, webhookNow.Add(Tolerance), true},
		{"valid, clock 5 minutes behind", header(good), payload, webhookNow.Add(-Tolerance), true},
		{"valid among several v1 (secret being rolled)", header("t=" + ts + ",v1=" + otherSig + ",v1=" + goodSig), payload, webhookNow, true},
		{"valid with a v0 and spaces", header("t=" + ts + ", v0=" + otherSig + ", v1=" + goodSig), payload, webhookNow, true},
		{"header name not canonical", http.Header{"stripe-signature": {good}}, payload, webhookNow, true},
		{"missing header", header(""), payload, webhookNow, false},
		{"expired", header(good), payload, webhookNow.Add(Tolerance + time.Second), false},
		{"from the future", header(good), payload, webhookNow.Add(-Tolerance - time.Second), false},
		{"tampered payload", header(good), eventJSON("evt_1", EventPaymentIntentSucceeded, webhookNow.Unix(), intentJSON), webhookNow, false},
		{"wrong secret", header(SignWebhook("whsec_other", payload, webhookNow)), payload, webhookNow, false},
		{"timestamp changed", header("t=" + strconv.FormatInt(webhookNow.Unix()+1, 10) + ",v1=" + goodSig), payload, webhookNow, false},
		{"none of several v1 match", header("t=" + ts + ",v1=" + otherSig + ",v1=" + otherSig), payload, webhookNow, false},
		{"only a v0", header("t=" + ts + ",v0=" + goodSig), payload, webhookNow, false},
		{"no timestamp", header("v1=" + goodSig), payload, webhookNow, false},
		{"non-numeric timestamp", header("t=now,v1=" + goodSig), payload, webhookNow, false},
		{"truncated signature", header("t=" + ts + ",v1=" + goodSig[:32]), payload, webhookNow, false},
		{"not hex", header("t=" + ts + ",v1=" + "zz" + goodSig[2:]), payload, webhookNow, false},
		{"garbage", header("garbage"), payload, webhookNow, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.ParseWebhook(tt.payload, tt.header, tt.now)
			if tt.valid && err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if !tt.valid && !errors.Is(err, lottery.ErrInvalidSignature) {
				t.Fatalf("ParseWebhook error = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

func TestParseWebhookEvents(t *testing.T) {
	p := newProvider(t, "", nil)
	created := webhookNow.Add(-time.Minute).Unix()
	tests := []struct {
		name     string
		payload  []byte
		want     lottery.PaymentEvent
		wantErr  error
		wantCode string
	}{
		{
			name:    "authorized",
			payload: eventJSON("evt_a", EventAmountCapturableUpdated, created, intentJSON),
			want:    lottery.PaymentEvent{ID: "evt_a", PaymentID: "pi_123", OfferID: "off_1", Status: lottery.PaymentAuthorized},
		},
		{
			name:    "captured",
			payload: eventJSON("evt_s", EventPaymentIntentSucceeded, created, intentJSON),
			want:    lottery.PaymentEvent{ID: "evt_s", PaymentID: "pi_123", OfferID: "off_1", Status: lottery.PaymentCaptured},
		},
		{
			name:    "failed",
			payload: eventJSON("evt_f", EventPaymentFailed, created, intentJSON),
			want:    lottery.PaymentEvent{ID: "evt_f", PaymentID: "pi_123", OfferID: "off_1", Status: lottery.PaymentFailed},
		},
		{
			name:    "canceled",
			payload: eventJSON("evt_c", EventPaymentIntentCanceled, created, intentJSON),
			want:    lottery.PaymentEvent{ID: "evt_c", PaymentID: "pi_123", OfferID: "off_1", Status: lottery.PaymentCanceled},
		},
		{
			name:    "refunded",
			payload: eventJSON("evt_r", EventChargeRefunded, created, chargeJSON),
			want:    lottery.PaymentEvent{ID: "evt_r", PaymentID: "pi_123", OfferID: "off_1", Status: lottery.PaymentRefunded},
		},
		{
			name: "refunded, charge without metadata, intent expanded",
			payload: eventJSON("evt_r2", EventChargeRefunded, created,
				`{"id":"ch_1","object":"charge","metadata":{},"payment_intent":{"id":"pi_123","object":"payment_intent"}}`),
			want: lottery.PaymentEvent{ID: "evt_r2", PaymentID: "pi_123", Status: lottery.PaymentRefunded},
		},
		{
			name:    "unknown type",
			payload: eventJSON("evt_u", "payment_intent.created", created, intentJSON),
			wantErr: ErrIgnoredEvent,
		},
		{
			name:    "unknown type on another object",
			payload: eventJSON("evt_u2", "customer.created", created, `{"id":"cus_1","object":"customer"}`),
			wantErr: ErrIgnoredEvent,
		},
		{
			name: "intent Startline did not create",
			payload: eventJSON("evt_x", EventPaymentIntentSucceeded, created,
				`{"id":"pi_9","object":"payment_intent","metadata":{},"status":"succeeded"}`),
			wantErr: ErrIgnoredEvent,
		},
		{
			name: "an off-session card charge: its pass records it from the answer",
			payload: eventJSON("evt_cc", EventPaymentIntentSucceeded, created,
				`{"id":"pi_7","object":"payment_intent","metadata":{"offer_id":"off_2","card_charge":"1"},"status":"succeeded"}`),
			wantErr: ErrIgnoredEvent,
		},
		{
			name: "an off-session card charge declined",
			payload: eventJSON("evt_cf", EventPaymentFailed, created,
				`{"id":"pi_8","object":"payment_intent","metadata":{"offer_id":"off_2","card_charge":"1"}}`),
			wantErr: ErrIgnoredEvent,
		},
		{
			name:    "charge without an intent",
			payload: eventJSON("evt_y", EventChargeRefunded, created, `{"id":"ch_9","object":"charge","payment_intent":null}`),
			wantErr: ErrIgnoredEvent,
		},
		{
			name:     "not JSON",
			payload:  []byte(`{"id":`),
			wantCode: lottery.CodeInvalidJSON,
		},
		{
			name:     "not an event",
			payload:  []byte(`{"id":"pi_123","object":"payment_intent"}`),
			wantCode: lottery.CodeInvalidJSON,
		},
		{
			name:     "no created",
			payload:  eventJSON("evt_n", EventPaymentIntentSucceeded, 0, intentJSON),
			wantCode: lottery.CodeInvalidJSON,
		},
		{
			name:     "type and object disagree",
			payload:  eventJSON("evt_d", EventPaymentIntentSucceeded, created, chargeJSON),
			wantCode: lottery.CodeInvalidJSON,
		},
		{
			name:     "refund event carrying an intent",
			payload:  eventJSON("evt_d2", EventChargeRefunded, created, intentJSON),
			wantCode: lottery.CodeInvalidJSON,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.ParseWebhook(tt.payload, header(SignWebhook(testSecret, tt.payload, webhookNow)), webhookNow)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseWebhook error = %v, want %v", err, tt.wantErr)
				}
			case tt.wantCode != "":
				if lottery.CodeOf(err) != tt.wantCode {
					t.Fatalf("ParseWebhook error = %v, want code %s", err, tt.wantCode)
				}
			default:
				if err != nil {
					t.Fatalf("ParseWebhook: %v", err)
				}
				tt.want.Created = time.Unix(created, 0).UTC()
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("event (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// An unsigned delivery is refused before its body is read: an unknown type
// without a valid signature is ErrInvalidSignature, not ErrIgnoredEvent.
func TestParseWebhookVerifiesFirst(t *testing.T) {
	p := newProvider(t, "", nil)
	payload := eventJSON("evt_u", "customer.created", webhookNow.Unix(), `{"id":"cus_1","object":"customer"}`)
	_, err := p.ParseWebhook(payload, header(SignWebhook("whsec_other", payload, webhookNow)), webhookNow)
	if !errors.Is(err, lottery.ErrInvalidSignature) || errors.Is(err, ErrIgnoredEvent) {
		t.Fatalf("ParseWebhook error = %v, want ErrInvalidSignature only", err)
	}
}

func FuzzParseWebhook(f *testing.F) {
	p, err := New(Config{APIKey: testKey, WebhookSecret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	for _, typ := range Events {
		f.Add(eventJSON("evt_1", typ, webhookNow.Unix(), intentJSON), "", true)
		f.Add(eventJSON("evt_1", typ, webhookNow.Unix(), chargeJSON), "", true)
	}
	f.Add([]byte(`{"object":"event","data":{"object":null}}`), "", true)
	f.Add([]byte(`{}`), "t=1,v1=00", false)
	f.Add([]byte(``), "t=,v1=,v1", false)
	f.Fuzz(func(t *testing.T, payload []byte, sig string, sign bool) {
		if sign { // reach the decoder, not only the signature check
			sig = SignWebhook(testSecret, payload, webhookNow)
		}
		ev, err := p.ParseWebhook(payload, header(sig), webhookNow)
		if !sign && !errors.Is(err, lottery.ErrInvalidSignature) {
			t.Fatalf("a delivery without a real signature got past the check: %+v, %v", ev, err)
		}
		if err != nil {
			if !errors.Is(err, lottery.ErrInvalidSignature) && !errors.Is(err, ErrIgnoredEvent) &&
				lottery.CodeOf(err) != lottery.CodeInvalidJSON {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if ev.ID == "" || ev.PaymentID == "" || ev.Created.IsZero() {
			t.Fatalf("accepted event lacks ids: %+v", ev)
		}
		if _, ok := eventStatus[eventTypeFor(ev.Status)]; !ok {
			t.Fatalf("accepted event has status %q", ev.Status)
		}
	})
}

// eventTypeFor inverts eventStatus.
func eventTypeFor(s lottery.PaymentStatus) string {
	for typ, st := range eventStatus {
		if st == s {
			return typ
		}
	}
	return ""
}
