package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/payments/sandbox"
	"github.com/startline/startline/lottery/payments/stripe"
	"github.com/startline/startline/lottery/payments/stripe/stripemock"
)

// feesBody is eventBody with race details, prices (half:sub-130 ₩50,000,
// half:open ₩45,000, 10k:open ₩30,000) and a refund policy: all of it back
// through 9 March (KST), half through 31 March, nothing after.
func feesBody(slug string) map[string]any {
	b := eventBody(slug)
	b["race_date"], b["race_start"], b["place"] = "2027-04-18", "07:30", "Yeouido Park, Seoul"
	b["description"] = "A flat course along the Han river.\n\nBag drop opens at 06:00."
	b["draw_date"], b["currency"] = "2027-03-10", "KRW"
	b["refund_policy"] = map[string]any{"tiers": []any{
		map[string]any{"until": "2027-03-09", "percent": 100}, map[string]any{"until": "2027-03-31", "percent": 50}}}
	courses := b["courses"].([]any)
	half := courses[0].(map[string]any)["pace_groups"].([]any)
	half[0].(map[string]any)["price"] = 50000
	half[1].(map[string]any)["price"] = 45000
	courses[1].(map[string]any)["pace_groups"].([]any)[0].(map[string]any)["price"] = 30000
	return b
}

func TestEventDetailsAndPrices(t *testing.T) {
	e := newEnv(t, false)
	e.clock.Set(testStart.Add(-time.Hour))
	auth := []string{"Authorization", "Bearer " + e.organizer}

	bad := []struct {
		name  string
		edit  func(b map[string]any)
		field string
	}{
		{"currency", func(b map[string]any) { b["currency"] = "WON" }, "currency"},
		{"race date", func(b map[string]any) { b["race_date"] = "18 April" }, "race_date"},
		{"race before close", func(b map[string]any) { b["race_date"] = "2027-03-02" }, "race_date"},
		{"start time", func(b map[string]any) { b["race_start"] = "7am" }, "race_start"},
		{"place", func(b map[string]any) { b["place"] = strings.Repeat("x", 201) }, "place"},
		{"description", func(b map[string]any) { b["description"] = strings.Repeat("x", 4001) }, "description"},
		{"draw date", func(b map[string]any) { b["draw_date"] = "2027-04-30" }, "draw_date"},
		{"refund percent", func(b map[string]any) {
			b["refund_policy"] = map[string]any{"tiers": []any{map[string]any{"until": "2027-03-09", "percent": 150}}}
		}, "refund_policy.tiers[0].percent"},
		{"refund order", func(b map[string]any) {
			b["refund_policy"] = map[string]any{"tiers": []any{map[string]any{"until": "2027-03-20", "percent": 100},
				map[string]any{"until": "2027-03-10", "percent": 50}}}
		}, "refund_policy.tiers[1].until"},
		{"price", func(b map[string]any) {
			b["courses"].([]any)[1].(map[string]any)["pace_groups"].([]any)[0].(map[string]any)["price"] = -5
		}, "courses[1].pace_groups[0].price"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			b := feesBody("spring")
			tt.edit(b)
			r := e.do("POST", "/api/v1/admin/events", b, auth...)
			if r.Status != http.StatusUnprocessableEntity || r.errCode() != "invalid_field" || r.errField("field") != tt.field {
				t.Errorf("got %d %s, want 422 invalid_field on %s", r.Status, r.Raw, tt.field)
			}
		})
	}
	if n := e.countEvents(); n != 0 {
		t.Fatalf("refused specs stored %d events", n)
	}

	if r := e.do("POST", "/api/v1/admin/events", feesBody("spring"), auth...); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	var stored string
	e.store.DB().Raw("SELECT currency FROM events WHERE slug = 'spring'").Row().Scan(&stored)
	if stored != "krw" {
		t.Errorf("stored currency %q, want lower case krw", stored)
	}

	// The organizer edits before the opening: a price, the place, the policy.
	patch := map[string]any{"prices": map[string]any{"half:open": 47000}, "place": "Yeouido Hangang Park, Seoul"}
	if r := e.do("PATCH", "/api/v1/admin/events/spring", patch, auth...); r.Status != 200 || r.str("place") != "Yeouido Hangang Park, Seoul" {
		t.Fatalf("edit before opening: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PATCH", "/api/v1/admin/events/spring", map[string]any{"prices": map[string]any{"5k:open": 1}}, auth...); r.Status != 422 ||
		r.errField("field") != "prices.5k:open" {
		t.Errorf("unknown sub-queue: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PATCH", "/api/v1/admin/events/spring", map[string]any{"place": "x"}, "Authorization", "Bearer "+e.reviewer); r.Status != 403 {
		t.Errorf("reviewer edit: %d", r.Status)
	}
	if r := e.action("spring", "publish", nil); r.Status != 200 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(time.Hour)) // open: terms are fixed, details are not
	if r := e.do("PATCH", "/api/v1/admin/events/spring", map[string]any{"prices": map[string]any{"half:open": 1000}}, auth...); r.Status != 409 ||
		r.errCode() != "terms_fixed" || r.errField("field") != "prices" {
		t.Errorf("price change once open: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PATCH", "/api/v1/admin/events/spring", map[string]any{"refund_policy": map[string]any{"tiers": []any{}}}, auth...); r.Status != 409 ||
		r.errCode() != "terms_fixed" {
		t.Errorf("policy change once open: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PATCH", "/api/v1/admin/events/spring", map[string]any{"race_start": "08:00"}, auth...); r.Status != 200 || r.str("race_start") != "08:00" {
		t.Errorf("start time change once open: %d %s", r.Status, r.Raw)
	}
	var audits int64
	e.store.DB().Raw("SELECT count(*) FROM audit_log WHERE action = 'event.edit' AND target = 'spring'").Scan(&audits)
	if audits != 2 {
		t.Errorf("%d event.edit audit rows, want 2 (refused edits change nothing)", audits)
	}

	r := e.do("GET", "/api/v1/events/spring", nil)
	if r.Status != 200 {
		t.Fatalf("get: %d %s", r.Status, r.Raw)
	}
	got := map[string]any{}
	for _, k := range []string{"race_date", "race_start", "place", "description", "draw_date", "currency", "refund_policy"} {
		got[k] = r.Body[k]
	}
	want := map[string]any{"race_date": "2027-04-18", "race_start": "08:00", "place": "Yeouido Hangang Park, Seoul",
		"description": "A flat course along the Han river.\n\nBag drop opens at 06:00.", "draw_date": "2027-03-10", "currency": "KRW",
		"refund_policy": map[string]any{"tiers": []any{
			map[string]any{"until": "2027-03-09", "ends_at": "2027-03-09T15:00:00Z", "percent": float64(100)},
			map[string]any{"until": "2027-03-31", "ends_at": "2027-03-31T15:00:00Z", "percent": float64(50)}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event details (-want +got):\n%s", diff)
	}
	prices := map[string]any{}
	for _, sq := range r.Body["subqueues"].([]any) {
		m := sq.(map[string]any)
		prices[m["key"].(string)] = m["price"]
	}
	wantPrices := map[string]any{
		"half:sub-130": map[string]any{"amount": float64(50000), "currency": "KRW"},
		"half:open":    map[string]any{"amount": float64(47000), "currency": "KRW"},
		"half:fcfs":    map[string]any{"amount": float64(0), "currency": "KRW"},
		"10k:open":     map[string]any{"amount": float64(30000), "currency": "KRW"},
	}
	if diff := cmp.Diff(wantPrices, prices); diff != "" {
		t.Errorf("sub-queue prices (-want +got):\n%s", diff)
	}
	list := e.do("GET", "/api/v1/events", nil)
	evs, _ := list.Body["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["race_date"] != "2027-04-18" || evs[0].(map[string]any)["place"] == "" {
		t.Errorf("list: %s", list.Raw)
	}
}

func (e *env) countEvents() int64 {
	var n int64
	e.store.DB().Raw("SELECT count(*) FROM events").Scan(&n)
	return n
}

// feesDrawnEvent is drawnEvent on feesBody: half:sub-130 (₩50,000) drawn
// with perSubqueue entries for capacity slots, results published, the clock
// at 9 March 09:00 UTC (the policy's 100% tier).
func (e *env) feesDrawnEvent(perSubqueue, capacity int) int64 {
	e.t.Helper()
	if r := e.do("POST", "/api/v1/admin/events", feesBody("spring"), "Authorization", "Bearer "+e.organizer); r.Status != 201 {
		e.t.Fatalf("create event: %d %s", r.Status, r.Raw)
	}
	if r := e.action("spring", "publish", nil); r.Status != 200 {
		e.t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(time.Hour))
	if _, err := e.store.InsertSyntheticEntries(context.Background(), "spring", perSubqueue); err != nil {
		e.t.Fatal(err)
	}
	var sq int64
	e.store.DB().Raw("UPDATE subqueues SET capacity = ? WHERE key = 'half:sub-130' RETURNING id", capacity).Scan(&sq)
	e.clock.Set(testStart.Add(8 * 24 * time.Hour))
	e.store.DB().Exec("UPDATE events SET unreviewed_policy = 'exclude'")
	for _, a := range []string{"freeze", "reveal", "draw"} {
		if r := e.action("spring", a, nil); r.Status/100 != 2 {
			e.t.Fatalf("%s: %d %s", a, r.Status, r.Raw)
		}
	}
	e.drawAll("spring")
	if r := e.action("spring", "publish-results", nil); r.Status != 200 {
		e.t.Fatalf("publish-results: %d %s", r.Status, r.Raw)
	}
	return sq
}

// entryRow is what the give-back tests read back about an entry.
type entryRow struct {
	Entry, Offer, Payment string
	Refunded, Due         int64
}

func (e *env) entryRow(entry string) entryRow {
	var r entryRow
	e.store.DB().Raw(`SELECT e.status AS entry, coalesce(o.status, '') AS offer, coalesce(p.status, '') AS payment,
			coalesce(p.refunded_minor, 0) AS refunded, coalesce(p.refund_due_minor, 0) AS due
		FROM entries e LEFT JOIN offers o ON o.entry_id = e.id LEFT JOIN payments p ON p.offer_id = o.id WHERE e.id = ?`, entry).Scan(&r)
	return r
}

func (e *env) intents(entry, kind string) int64 {
	var n int64
	e.store.DB().Raw("SELECT count(*) FROM outbox WHERE entry_id = ? AND intent = ?", entry, kind).Scan(&n)
	return n
}

// reoffers counts the offers the released-slot rule made to waitlisted
// entries (round > 0) of a sub-queue.
func (e *env) reoffers(sq int64) int64 {
	var n int64
	e.store.DB().Raw(`SELECT count(*) FROM offers o JOIN draw_results dr ON dr.entry_id = o.entry_id
		WHERE o.subqueue_id = ? AND o.round > 0 AND NOT dr.selected`, sq).Scan(&n)
	return n
}

func (e *env) offerCount(sq int64) int64 {
	var n int64
	e.store.DB().Raw("SELECT count(*) FROM offers WHERE subqueue_id = ?", sq).Scan(&n)
	return n
}

// TestGiveBackSandbox: the price is on the offer and charged exactly; a
// paid place given back is refunded by the policy at that moment (all of it
// in the first tier, half in the second) through the sandbox, recorded in
// payments and payment_events, mailed, and the slot goes to the next
// waitlisted entry; an accepted unpaid place is given back without a
// refund; holding no place or a wrong token is refused.
func TestGiveBackSandbox(t *testing.T) {
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.offers.UsePayments(pay)
	sq := e.feesDrawnEvent(12, 4)
	var selected, waitlisted []string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND NOT selected ORDER BY position", sq).Scan(&waitlisted)
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	giveBack := func(entry, token string) resp {
		return e.do("POST", "/api/v1/entries/"+entry+"/give-back", map[string]any{"token": token})
	}

	// The offer carries its price (API.md offer.amount/currency).
	st := e.do("GET", "/api/v1/entries/"+selected[0]+"?token="+tok(selected[0]), nil)
	offer, _ := st.Body["offer"].(map[string]any)
	if offer == nil || offer["amount"] != float64(50000) || offer["currency"] != "KRW" {
		t.Fatalf("offer on the status: %s", st.Raw)
	}
	paid := func(entry string) (offerID, paymentID string) {
		offerID, _ = e.offerOf(entry)
		r := e.do("POST", "/api/v1/offers/"+offerID+"/pay", map[string]any{"token": tok(entry)})
		if r.Status != 200 {
			t.Fatalf("pay: %d %s", r.Status, r.Raw)
		}
		paymentID = r.str("payment_id")
		if s, ok := pay.Session(paymentID); !ok || s.AmountMinor != 50000 || s.Currency != "krw" {
			t.Fatalf("checkout charges %+v, want 50000 krw", s)
		}
		body, hdr, _ := pay.Event(paymentID, offerID, "pay", e.clock.Now())
		if r := e.webhook(body, hdr); r.Status != 200 {
			t.Fatalf("webhook: %d", r.Status)
		}
		if got := e.entryRow(entry); got.Offer != "paid" || got.Payment != "captured" {
			t.Fatalf("after paying: %+v", got)
		}
		return offerID, paymentID
	}

	t.Run("refused", func(t *testing.T) {
		if r := giveBack(selected[2], "wrong"); r.Status != 404 || r.errCode() != "not_found" {
			t.Errorf("wrong token: %d %s", r.Status, r.Raw)
		}
		if r := giveBack("not-a-uuid", "x"); r.Status != 404 {
			t.Errorf("bad id: %d", r.Status)
		}
		if r := giveBack(selected[2], tok(selected[2])); r.Status != 409 || r.errCode() != "no_slot_held" {
			t.Errorf("pending offer: %d %s", r.Status, r.Raw)
		}
		if r := giveBack(waitlisted[len(waitlisted)-1], tok(waitlisted[len(waitlisted)-1])); r.Status != 409 || r.errCode() != "no_slot_held" {
			t.Errorf("waitlisted entry: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/entries/"+selected[2]+"/give-back", "{"); r.Status != 400 {
			t.Errorf("bad JSON: %d", r.Status)
		}
		if got := e.entryRow(selected[2]); got.Offer != "pending" {
			t.Errorf("a refused give-back changed the offer: %+v", got)
		}
	})

	t.Run("paid, first tier: full refund, slot re-offered", func(t *testing.T) {
		offerID, pid := paid(selected[0])
		st := e.do("GET", "/api/v1/entries/"+selected[0]+"?token="+tok(selected[0]), nil)
		quote, _ := st.Body["give_back"].(map[string]any)
		if quote == nil || quote["percent"] != float64(100) || quote["refund"].(map[string]any)["amount"] != float64(50000) {
			t.Errorf("status's give-back quote: %s", st.Raw)
		}
		before := e.offerCount(sq)
		r := giveBack(selected[0], tok(selected[0]))
		if r.Status != 200 {
			t.Fatalf("give back: %d %s", r.Status, r.Raw)
		}
		refund, _ := r.Body["refund"].(map[string]any)
		if r.str("status") != "withdrawn" || refund["amount"] != float64(50000) || refund["percent"] != float64(100) ||
			refund["status"] != "refunded" || refund["currency"] != "KRW" {
			t.Errorf("answer: %s", r.Raw)
		}
		if got := pay.Refunded(pid); got != 50000 {
			t.Errorf("sandbox refunded %d, want 50000", got)
		}
		want := entryRow{Entry: "withdrawn", Offer: "void", Payment: "refunded", Refunded: 50000, Due: 50000}
		if diff := cmp.Diff(want, e.entryRow(selected[0])); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
		var events int64
		e.store.DB().Raw("SELECT count(*) FROM payment_events WHERE payment_id = ? AND status = 'refunded' AND event_id = ?", pid, "refund:"+offerID).Scan(&events)
		if events != 1 {
			t.Errorf("%d refund payment_events", events)
		}
		var logs []string
		e.store.DB().Raw("SELECT kind FROM event_log WHERE entry_id = ? AND kind IN ('offer.given_back', 'payment.refunded') ORDER BY id", selected[0]).Scan(&logs)
		if diff := cmp.Diff([]string{"offer.given_back", "payment.refunded"}, logs); diff != "" {
			t.Errorf("event log (-want +got):\n%s", diff)
		}
		if e.intents(selected[0], "entry.withdrawn") != 1 || e.intents(selected[0], "entry.refunded") != 1 {
			t.Errorf("mails: withdrawn %d, refunded %d", e.intents(selected[0], "entry.withdrawn"), e.intents(selected[0], "entry.refunded"))
		}
		if after := e.offerCount(sq); after != before+1 {
			t.Errorf("offers %d → %d: the slot was not re-offered", before, after)
		}
		if n := e.reoffers(sq); n != 1 {
			t.Errorf("%d released-slot offers to waitlisted entries, want 1", n)
		}
		if live, capacity := e.live(sq); live != capacity {
			t.Errorf("%d live offers for %d slots", live, capacity)
		}
		// Again: the same answer, no second refund, no second mail.
		if r := giveBack(selected[0], tok(selected[0])); r.Status != 200 || r.Body["refund"].(map[string]any)["status"] != "refunded" {
			t.Errorf("again: %d %s", r.Status, r.Raw)
		}
		if pay.Refunded(pid) != 50000 || e.intents(selected[0], "entry.refunded") != 1 || e.offerCount(sq) != before+1 {
			t.Error("a repeated give-back refunded, mailed or re-offered again")
		}
	})

	t.Run("accepted, unpaid: no refund", func(t *testing.T) {
		offerID, _ := e.offerOf(selected[1])
		if r := e.do("POST", "/api/v1/offers/"+offerID+"/accept", map[string]any{"token": tok(selected[1])}); r.Status != 200 {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		r := giveBack(selected[1], tok(selected[1]))
		if r.Status != 200 || r.Body["refund"].(map[string]any)["status"] != "none" || r.Body["refund"].(map[string]any)["amount"] != float64(0) {
			t.Fatalf("give back: %d %s", r.Status, r.Raw)
		}
		if got := e.entryRow(selected[1]); got.Entry != "withdrawn" || got.Offer != "void" {
			t.Errorf("stored: %+v", got)
		}
		if e.intents(selected[1], "entry.withdrawn") != 1 || e.intents(selected[1], "entry.refunded") != 0 {
			t.Error("mails of an unpaid give-back")
		}
		if n := e.reoffers(sq); n != 2 {
			t.Errorf("%d released-slot offers to waitlisted entries, want 2", n)
		}
		if live, capacity := e.live(sq); live != capacity {
			t.Errorf("%d live offers for %d slots", live, capacity)
		}
	})

	t.Run("paid, second tier: half refunded", func(t *testing.T) {
		_, pid := paid(selected[3])
		e.clock.Add(24 * time.Hour) // 10 March: the 50% tier
		r := giveBack(selected[3], tok(selected[3]))
		refund, _ := r.Body["refund"].(map[string]any)
		if r.Status != 200 || refund["amount"] != float64(25000) || refund["percent"] != float64(50) || refund["status"] != "refunded" {
			t.Fatalf("give back: %d %s", r.Status, r.Raw)
		}
		if pay.Refunded(pid) != 25000 {
			t.Errorf("sandbox refunded %d, want 25000", pay.Refunded(pid))
		}
		want := entryRow{Entry: "withdrawn", Offer: "void", Payment: "refunded", Refunded: 25000, Due: 25000}
		if diff := cmp.Diff(want, e.entryRow(selected[3])); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
	})
	if live, capacity := e.live(sq); live > capacity {
		t.Errorf("%d live offers for %d slots", live, capacity)
	}
}

// TestGiveBackStripe: on Stripe (stripe-mock) the PaymentIntent is created
// for the sub-queue's price exactly, and a give-back refunds the policy's
// share with one partial Refund of that amount.
func TestGiveBackStripe(t *testing.T) {
	mock := stripemock.Start(t)
	e := newEnv(t, true)
	prov, err := stripe.New(stripe.Config{APIKey: stripemock.TestKey, WebhookSecret: "whsec_test", BaseURL: mock.URL,
		ReturnURLBase: "https://startline.test/"})
	if err != nil {
		t.Fatal(err)
	}
	e.offers.UsePayments(prov)
	sq := e.feesDrawnEvent(12, 4)
	var selected []string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	entry := selected[0]
	tok := e.keys.ReceiptToken(entry)
	offerID, _ := e.offerOf(entry)
	r := e.do("POST", "/api/v1/offers/"+offerID+"/pay", map[string]any{"token": tok})
	if r.Status != 200 || !strings.HasPrefix(r.str("checkout_url"), stripe.CheckoutScheme) {
		t.Fatalf("pay: %d %s", r.Status, r.Raw)
	}
	created := mock.Calls("POST", "/v1/payment_intents")
	if len(created) != 1 || created[0].Form.Get("amount") != "50000" || created[0].Form.Get("currency") != "krw" {
		t.Fatalf("PaymentIntent requests %+v, want one for 50000 krw", created)
	}
	// stripe-mock keeps no state, so the capture is recorded as the
	// webhook flow would record it.
	pid := r.str("payment_id")
	ctx := context.Background()
	if _, err := e.store.SavePayment(ctx, "stripe", lottery.Payment{ID: pid, OfferID: offerID, Status: lottery.PaymentCaptured,
		AmountMinor: 50000, Currency: "krw"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.MarkOfferPaid(ctx, offerID, pid, lottery.OfferTx{Now: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(24 * time.Hour) // the 50% tier
	g := e.do("POST", "/api/v1/entries/"+entry+"/give-back", map[string]any{"token": tok})
	refund, _ := g.Body["refund"].(map[string]any)
	if g.Status != 200 || refund["amount"] != float64(25000) || refund["status"] != "refunded" {
		t.Fatalf("give back: %d %s", g.Status, g.Raw)
	}
	refunds := mock.Calls("POST", "/v1/refunds")
	if len(refunds) != 1 || refunds[0].Form.Get("amount") != "25000" || refunds[0].Form.Get("payment_intent") != pid ||
		refunds[0].IdempotencyKey != "refund:"+offerID {
		t.Errorf("refund requests %+v, want one of 25000 for %s", refunds, pid)
	}
	if got := e.entryRow(entry); got.Refunded != 25000 || got.Payment != "refunded" || got.Entry != "withdrawn" {
		t.Errorf("stored: %+v", got)
	}
}

// flakyRefunds is the sandbox with refunds that fail while down is set.
type flakyRefunds struct {
	*sandbox.Provider
	down atomic.Bool
}

func (f *flakyRefunds) Refund(ctx context.Context, id string, amount int64, key string) (lottery.Payment, error) {
	if f.down.Load() {
		return lottery.Payment{}, &lottery.Error{Code: lottery.CodeUnavailable, Message: "provider down"}
	}
	return f.Provider.Refund(ctx, id, amount, key)
}

// TestGiveBackRefundOwedAndConcurrent: a refund the provider cannot make
// stays owed (the give-back itself is done) and giving back again makes it,
// once; concurrent give-backs of one paid place void it, re-offer its slot
// and refund it exactly once.
func TestGiveBackRefundOwedAndConcurrent(t *testing.T) {
	e := newEnv(t, true)
	pay := &flakyRefunds{Provider: sandbox.New([]byte("sandbox-test-key"))}
	e.offers.UsePayments(pay)
	sq := e.feesDrawnEvent(12, 4)
	var selected []string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	paid := func(entry string) string {
		offerID, _ := e.offerOf(entry)
		r := e.do("POST", "/api/v1/offers/"+offerID+"/pay", map[string]any{"token": tok(entry)})
		body, hdr, _ := pay.Event(r.str("payment_id"), offerID, "pay", e.clock.Now())
		e.webhook(body, hdr)
		if got := e.entryRow(entry); got.Offer != "paid" {
			t.Fatalf("not paid: %+v", got)
		}
		return r.str("payment_id")
	}

	pid := paid(selected[0])
	pay.down.Store(true)
	r := e.do("POST", "/api/v1/entries/"+selected[0]+"/give-back", map[string]any{"token": tok(selected[0])})
	if r.Status != 200 || r.Body["refund"].(map[string]any)["status"] != "pending" {
		t.Fatalf("give back with the provider down: %d %s", r.Status, r.Raw)
	}
	if got := e.entryRow(selected[0]); got.Entry != "withdrawn" || got.Due != 50000 || got.Refunded != 0 || e.intents(selected[0], "entry.refunded") != 0 {
		t.Errorf("owed refund: %+v", got)
	}
	if made, owed, err := e.offers.RetryRefunds(context.Background(), 10); err != nil || made != 0 || owed != 1 {
		t.Errorf("retry pass with the provider still down: made %d, owed %d, %v", made, owed, err)
	}
	pay.down.Store(false)
	// The worker's retry pass makes it; giving back again answers the same.
	if made, owed, err := e.offers.RetryRefunds(context.Background(), 10); err != nil || made != 1 || owed != 0 {
		t.Errorf("retry pass: made %d, owed %d, %v", made, owed, err)
	}
	r = e.do("POST", "/api/v1/entries/"+selected[0]+"/give-back", map[string]any{"token": tok(selected[0])})
	if r.Status != 200 || r.Body["refund"].(map[string]any)["status"] != "refunded" || r.Body["refund"].(map[string]any)["percent"] != float64(100) ||
		pay.Refunded(pid) != 50000 {
		t.Fatalf("retry: %d %s, refunded %d", r.Status, r.Raw, pay.Refunded(pid))
	}
	if got := e.entryRow(selected[0]); got.Refunded != 50000 || e.intents(selected[0], "entry.refunded") != 1 {
		t.Errorf("after the retry: %+v", got)
	}

	pid = paid(selected[1])
	before := e.offerCount(sq)
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.do("POST", "/api/v1/entries/"+selected[1]+"/give-back", map[string]any{"token": tok(selected[1])}).Status
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("concurrent give-back %d: %d", i, c)
		}
	}
	if pay.Refunded(pid) != 50000 || e.offerCount(sq) != before+1 || e.intents(selected[1], "entry.withdrawn") != 1 ||
		e.intents(selected[1], "entry.refunded") != 1 {
		t.Errorf("concurrent give-backs: refunded %d, offers %d → %d, mails %d/%d", pay.Refunded(pid), before, e.offerCount(sq),
			e.intents(selected[1], "entry.withdrawn"), e.intents(selected[1], "entry.refunded"))
	}
	if live, capacity := e.live(sq); live != capacity {
		t.Errorf("%d live offers for %d slots", live, capacity)
	}
}

// TestFreePlace: a place whose price is 0 is confirmed when the runner
// pays, without a provider or a checkout.
func TestFreePlace(t *testing.T) {
	e := newEnv(t, true)
	e.offers.UsePayments(sandbox.New([]byte("sandbox-test-key")))
	sq := e.drawnEvent(12, 4) // eventBody sets no prices
	var entry string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position LIMIT 1", sq).Scan(&entry)
	offerID, _ := e.offerOf(entry)
	r := e.do("POST", "/api/v1/offers/"+offerID+"/pay", map[string]any{"token": e.keys.ReceiptToken(entry)})
	if r.Status != 200 || r.str("checkout_url") != "" || r.str("status") != "captured" {
		t.Fatalf("pay a free place: %d %s", r.Status, r.Raw)
	}
	if got := e.entryRow(entry); got.Offer != "paid" || got.Entry != "confirmed" || got.Payment != "" {
		t.Errorf("free place: %+v", got)
	}
	// Given back, it is re-offered; there is nothing to refund.
	g := e.do("POST", "/api/v1/entries/"+entry+"/give-back", map[string]any{"token": e.keys.ReceiptToken(entry)})
	if g.Status != 200 || g.Body["refund"].(map[string]any)["status"] != "none" {
		t.Errorf("give back a free place: %d %s", g.Status, g.Raw)
	}
}

// sandboxDrawn is feesDrawnEvent(12, 4) with the sandbox as the payment
// provider: the provider, the sub-queue and its selected entries in draw
// order (the transfer, give-back and deferral tests' common start).
func (e *env) sandboxDrawn() (*sandbox.Provider, int64, []string) {
	e.t.Helper()
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.offers.UsePayments(pay)
	sq := e.feesDrawnEvent(12, 4)
	var selected []string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	return pay, sq, selected
}
