package api_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/startline/startline/lottery/payments/sandbox"
)

// webhook delivers a signed sandbox webhook to the API.
func (e *env) webhook(payload []byte, header http.Header) resp {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/payments/sandbox/webhook", bytes.NewReader(payload))
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return resp{Status: res.StatusCode}
}

func TestPayments(t *testing.T) {
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.offers.UsePayments(pay)
	sq := e.drawnEvent(12, 4)
	e.store.DB().Exec("UPDATE subqueues SET price_minor = 80000")
	var selected []string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	payFor := func(entry string) (offerID, paymentID string) {
		offerID, _ = e.offerOf(entry)
		r := e.do("POST", "/api/v1/offers/"+offerID+"/pay", map[string]any{"token": tok(entry)})
		if r.Status != 200 || r.str("checkout_url") == "" {
			t.Fatalf("pay: %d %s", r.Status, r.Raw)
		}
		return offerID, r.str("payment_id")
	}
	status := func(entry string) (offer, entryStatus, payment string) {
		e.store.DB().Raw(`SELECT o.status, e.status, coalesce((SELECT status FROM payments p WHERE p.offer_id = o.id LIMIT 1), '')
			FROM offers o JOIN entries e ON e.id = o.entry_id WHERE o.entry_id = ?`, entry).Row().Scan(&offer, &entryStatus, &payment)
		return
	}

	t.Run("authorize, capture, confirm; duplicate delivery changes nothing", func(t *testing.T) {
		offerID, pid := payFor(selected[0])
		body, hdr, _ := pay.Event(pid, offerID, "pay", e.clock.Now())
		if r := e.webhook(body, hdr); r.Status != 200 {
			t.Fatalf("webhook: %d", r.Status)
		}
		if o, en, p := status(selected[0]); o != "paid" || en != "confirmed" || p != "captured" {
			t.Errorf("after payment: offer %s, entry %s, payment %s", o, en, p)
		}
		if r := e.webhook(body, hdr); r.Status != 200 {
			t.Errorf("duplicate delivery: %d", r.Status)
		}
		var n int64
		e.store.DB().Raw("SELECT count(*) FROM event_log WHERE kind = 'offer.paid' AND entry_id = ?", selected[0]).Scan(&n)
		if n != 1 {
			t.Errorf("paid logged %d times", n)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		offerID, pid := payFor(selected[1])
		body, hdr, _ := pay.Event(pid, offerID, "pay", e.clock.Now())
		hdr.Set(sandbox.SignatureHeader, "t=1,v1=00")
		if r := e.webhook(body, hdr); r.Status != http.StatusUnauthorized {
			t.Errorf("forged webhook: %d", r.Status)
		}
		if o, _, _ := status(selected[1]); o == "paid" {
			t.Error("forged webhook paid an offer")
		}
	})
	t.Run("out of order: captured before authorized", func(t *testing.T) {
		offerID, pid := payFor(selected[1])
		captured, h1, _ := pay.Event(pid, offerID, "capture", e.clock.Now())
		authorized, h2, _ := pay.Event(pid, offerID, "pay", e.clock.Now().Add(-time.Second))
		e.webhook(captured, h1)
		e.webhook(authorized, h2)
		if o, en, p := status(selected[1]); o != "paid" || en != "confirmed" || p != "captured" {
			t.Errorf("offer %s, entry %s, payment %s", o, en, p)
		}
	})
	t.Run("late payment is voided", func(t *testing.T) {
		offerID, pid := payFor(selected[2])
		offer4, pid4 := payFor(selected[3])
		e.clock.Add(48*time.Hour + time.Second)
		if _, err := e.offers.ExpireDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		body, hdr, _ := pay.Event(pid, offerID, "pay", e.clock.Now())
		e.webhook(body, hdr)
		if o, _, p := status(selected[2]); o != "expired" || p != "canceled" {
			t.Errorf("authorization after expiry: offer %s, payment %s (want expired, canceled)", o, p)
		}
		// A payment captured at the provider after the hold ended is refunded.
		pay.Capture(t.Context(), pid4, "")
		captured, h, _ := pay.Event(pid4, offer4, "capture", e.clock.Now())
		e.webhook(captured, h)
		if o, _, p := status(selected[3]); o != "expired" || p != "refunded" {
			t.Errorf("capture after expiry: offer %s, payment %s (want expired, refunded)", o, p)
		}
	})
	if live, cap := e.live(sq); live > cap {
		t.Errorf("%d live offers for %d slots", live, cap)
	}
}

// paySandbox pays an entry's offer through the sandbox provider: the pay
// route, then the provider's webhook for the captured payment.
func (e *env) paySandbox(pay *sandbox.Provider, entry string) {
	e.t.Helper()
	offerID, _ := e.offerOf(entry)
	r := e.do("POST", "/api/v1/offers/"+offerID+"/pay", map[string]any{"token": e.keys.ReceiptToken(entry)})
	if r.Status != 200 {
		e.t.Fatalf("pay: %d %s", r.Status, r.Raw)
	}
	body, hdr, _ := pay.Event(r.str("payment_id"), offerID, "pay", e.clock.Now())
	if r := e.webhook(body, hdr); r.Status != 200 {
		e.t.Fatalf("webhook: %d", r.Status)
	}
}
