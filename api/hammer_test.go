package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/payments/sandbox"
	"github.com/startline/startline/lottery/registration"
)

// hammerPay is a checkout the hammer started and whose webhook it has not
// delivered yet (an offer's, or a transfer recipient's).
type hammerPay struct{ paymentID, offerID string }

// hammerState is what the hammer's goroutines share: the transfer links
// made (by their stored hash), the checkouts waiting for their webhook,
// the webhooks delivered (to deliver again), and a counter for fresh
// recipient addresses.
type hammerState struct {
	mu        sync.Mutex
	links     map[string]string // token hash → token
	payments  []hammerPay
	sent      map[string]bool // payment ids whose checkout finished
	verifying map[string]bool // links a recipient is verifying
	again     []hammerHook
	next      int
}

// hammerHook is a webhook delivered once, kept to deliver again as is.
type hammerHook struct {
	body []byte
	hdr  http.Header
}

func (h *hammerState) addLink(token string) {
	h.mu.Lock()
	h.links[offers.HashTransferToken(token)] = token
	h.mu.Unlock()
}

func (h *hammerState) addPayment(p hammerPay) {
	h.mu.Lock()
	h.payments = append(h.payments, p)
	h.mu.Unlock()
}

// takePayment removes a random waiting checkout whose runner has not
// finished it yet: a checkout (the same payment for a second pay request)
// finishes once, as at a real provider.
func (h *hammerState) takePayment(r *rand.Rand) (hammerPay, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.payments) > 0 {
		i := r.IntN(len(h.payments))
		p := h.payments[i]
		h.payments[i] = h.payments[len(h.payments)-1]
		h.payments = h.payments[:len(h.payments)-1]
		if !h.sent[p.paymentID] {
			h.sent[p.paymentID] = true
			return p, true
		}
	}
	return hammerPay{}, false
}

// takeThis is takePayment for one payment.
func (h *hammerState) takeThis(paymentID string) (hammerPay, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var found *hammerPay
	kept := h.payments[:0]
	for _, p := range h.payments {
		if p.paymentID == paymentID {
			found = &p
			continue
		}
		kept = append(kept, p)
	}
	h.payments = kept
	if found == nil || h.sent[paymentID] {
		return hammerPay{}, false
	}
	h.sent[paymentID] = true
	return *found, true
}

func (h *hammerState) keepHook(w hammerHook) {
	h.mu.Lock()
	h.again = append(h.again, w)
	h.mu.Unlock()
}

// takeHook returns a random webhook delivered before (left in place).
func (h *hammerState) takeHook(r *rand.Rand) (hammerHook, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.again) == 0 {
		return hammerHook{}, false
	}
	return h.again[r.IntN(len(h.again))], true
}

// forgetHooks drops the kept webhooks when the clock moves past their
// signatures' tolerance.
func (h *hammerState) forgetHooks() {
	h.mu.Lock()
	h.again = nil
	h.mu.Unlock()
}

// claim marks a link as being verified; false when it is already.
func (h *hammerState) claim(link string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.verifying[link] {
		return false
	}
	h.verifying[link] = true
	return true
}

func (h *hammerState) unclaim(link string) {
	h.mu.Lock()
	delete(h.verifying, link)
	h.mu.Unlock()
}

func (h *hammerState) recipient() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	return fmt.Sprintf("recipient%d@example.org", h.next)
}

// TestOfferHammerWithTransfers is TestOfferCapacityUnderConcurrency with
// payments, face-value transfers and give-backs mixed in: 1,000 concurrent
// accepts, declines, checkouts, webhooks (some twice), expiries, capacity
// edits, give-backs of accepted and paid places, transfers offered,
// cancelled, verified and paid by their recipients, on a 10-slot sub-queue
// with a waitlist, on real PostgreSQL. During the run the sub-queue never
// holds more live offers than slots and no operation fails internally;
// after it, every entry's status agrees with its offer, transfers and
// refunds with both, and every give-back cascaded like an expiry.
func TestOfferHammerWithTransfers(t *testing.T) {
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.offers.UsePayments(pay)
	sq := e.feesDrawnEvent(150, 10)
	const transferMax = 40
	if err := e.store.DB().Exec("UPDATE events SET transfer_max = ?, transfer_fee_minor = 5000", transferMax).Error; err != nil {
		t.Fatal(err)
	}
	// Deferral to the series' next edition (none exists yet: deferrals stay
	// held), free and uncapped, until after the run.
	if r := e.do("PUT", "/api/v1/admin/events/spring/deferral", map[string]any{"deadline": e.clock.Now().Add(10 * 24 * time.Hour),
		"fee_minor": 0, "cap": 0}, "Authorization", "Bearer "+e.organizer); r.Status != 200 {
		t.Fatalf("deferral terms: %d %s", r.Status, r.Raw)
	}
	ctx := context.Background()
	org, _ := e.store.StaffByEmail(ctx, "org@example.com")
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	const returnURL = "https://run.example/done"
	h := &hammerState{links: map[string]string{}, sent: map[string]bool{}, verifying: map[string]bool{}}

	// pickOffer is a random offer of the sub-queue in one of statuses.
	pickOffer := func(r *rand.Rand, statuses ...string) (entry, offer string, ok bool) {
		var rows []struct{ EntryID, ID string }
		e.store.DB().Raw(`SELECT entry_id::text AS entry_id, id::text AS id FROM offers WHERE subqueue_id = ? AND status IN ?
			ORDER BY id`, sq, statuses).Scan(&rows)
		if len(rows) == 0 {
			return "", "", false
		}
		x := rows[r.IntN(len(rows))]
		return x.EntryID, x.ID, true
	}
	// pickLink is a random link of a transfer in state.
	pickLink := func(r *rand.Rand, state string) (string, bool) {
		var hashes []string
		e.store.DB().Raw(`SELECT token_hash FROM transfers WHERE state = ? ORDER BY id`, state).Scan(&hashes)
		if len(hashes) == 0 {
			return "", false
		}
		hash := hashes[r.IntN(len(hashes))]
		h.mu.Lock()
		defer h.mu.Unlock()
		token, ok := h.links[hash]
		return token, ok
	}
	// pickGiver is a random paid place, mostly a confirmed one with no open
	// transfer.
	pickGiver := func(r *rand.Rand) (string, bool) {
		if r.IntN(5) == 0 {
			entry, _, ok := pickOffer(r, "paid")
			return entry, ok
		}
		var rows []string
		e.store.DB().Raw(`SELECT entry_id::text FROM offers o JOIN entries e ON e.id = o.entry_id
			WHERE o.subqueue_id = ? AND o.status = 'paid' AND e.status = 'confirmed' AND NOT EXISTS (
				SELECT 1 FROM transfers t WHERE t.from_entry = o.entry_id AND t.state IN ('pending', 'verified')) ORDER BY o.id`, sq).Scan(&rows)
		if len(rows) == 0 {
			return "", false
		}
		return rows[r.IntN(len(rows))], true
	}
	// code reads the newest sign-in code mailed to addr.
	code := func(addr string) string {
		msgs, _ := e.store.OutboxFor(ctx, addr, 5)
		for _, m := range msgs {
			if g := codeRe.FindStringSubmatch(m.Body); g != nil {
				return g[1]
			}
		}
		return ""
	}
	recipientReq := func(addr, otp string) registration.ApplyRequest {
		b := e.applyBodyNoProof(addr, otp)
		return registration.ApplyRequest{Name: b["name"].(string), Phone: b["phone"].(string), BirthDate: b["birth_date"].(string),
			OTP: otp, Signals: []byte(`{"webdriver":false,"fill_ms":42000,"timezone":"Asia/Seoul"}`),
			Consents: map[string]string{"privacy": lottery.DefaultPrivacy.Version, "waiver": lottery.DefaultWaiver.Version}}
	}
	client := lottery.ClientInfo{IP: "127.0.0.1", UserAgent: "Mozilla/5.0 (test)"}

	var mu sync.Mutex
	var maxSeen int
	done, refused := map[string]int{}, map[string]int{}
	// check runs, while operations go on, the rules every committed state
	// satisfies.
	check := func() {
		hammerConsistent(e.clock.Now(), func(rule, query string, args ...any) {
			var bad []string
			if err := e.store.DB().Raw(query, args...).Scan(&bad).Error; err != nil {
				t.Errorf("%s: %v", rule, err)
			} else if len(bad) > 0 {
				t.Errorf("during the run, %s: %d violations, e.g. %v", rule, len(bad), bad[:min(len(bad), 5)])
			}
		}, transferMax)
		live, _ := e.live(sq)
		mu.Lock()
		maxSeen = max(maxSeen, live)
		mu.Unlock()
	}
	// report fails the test on an internal error (a 500: a deadlock out of
	// retries, the capacity trigger firing, a broken query) and counts the
	// operations that went through.
	report := func(op string, err error) {
		if err != nil && lottery.CodeOf(err) == lottery.CodeInternal {
			t.Errorf("%s: %v", op, err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			done[op]++
		} else {
			refused[op+":"+lottery.CodeOf(err)]++
		}
	}
	deliver := func(p hammerPay) error {
		body, hdr, err := pay.Event(p.paymentID, p.offerID, "pay", e.clock.Now())
		if err != nil {
			return err
		}
		h.keepHook(hammerHook{body, hdr})
		return e.offers.HandlePaymentWebhook(ctx, "sandbox", body, hdr)
	}

	// started records a checkout; now and then its runner finishes it at
	// once (in the same goroutine), else a later operation does.
	started := func(r *rand.Rand, p hammerPay) {
		h.addPayment(p)
		if r.IntN(3) == 0 {
			if p, ok := h.takeThis(p.paymentID); ok {
				report("webhook", deliver(p))
			}
		}
	}
	transferCheckout := func(r *rand.Rand, link string) {
		p, tr, err := e.offers.PayTransfer(ctx, link, returnURL)
		report("transfer-checkout", err)
		if err == nil && p.ID != "" {
			started(r, hammerPay{p.ID, tr.ToOffer})
		}
	}

	op := func(r *rand.Rand) {
		switch k := r.IntN(100); {
		case k < 10:
			if entry, oid, ok := pickOffer(r, "pending"); ok {
				_, err := e.offers.OfferAction(ctx, oid, tok(entry), lottery.OfferActionAccept)
				report("accept", err)
			}
		case k < 15:
			if entry, oid, ok := pickOffer(r, "pending", "accepted"); ok {
				_, err := e.offers.OfferAction(ctx, oid, tok(entry), lottery.OfferActionDecline)
				report("decline", err)
			}
		case k < 27:
			if entry, oid, ok := pickOffer(r, "pending", "accepted"); ok {
				p, err := e.offers.Pay(ctx, oid, tok(entry), returnURL)
				report("checkout", err)
				if err == nil && p.ID != "" {
					started(r, hammerPay{p.ID, oid})
				}
			}
		case k < 37:
			if p, ok := h.takePayment(r); ok {
				report("webhook", deliver(p))
			}
		case k < 40: // a provider delivers a webhook again
			if w, ok := h.takeHook(r); ok {
				report("webhook-again", e.offers.HandlePaymentWebhook(ctx, "sandbox", w.body, w.hdr))
			}
		case k < 43:
			if _, oid, ok := pickOffer(r, "pending", "accepted"); ok {
				report("expire", e.offers.ExpireOffer(ctx, oid))
			}
		case k < 45:
			_, err := e.offers.ExpireDue(ctx)
			report("expire-due", err)
		case k < 47:
			_, err := e.offers.SetCapacity(ctx, org, "spring", "half:sub-130", 8+r.IntN(5))
			report("capacity", err)
		case k < 49:
			// A deferred place stays held here (its offer paid), so only a
			// few runners defer, or the slots would all end up deferred.
			// Give-backs and transfers of deferred places are refused.
			var deferred int64
			e.store.DB().Raw(`SELECT count(*) FROM deferrals`).Scan(&deferred)
			if entry, ok := pickGiver(r); ok && deferred < 3 {
				_, err := e.offers.Defer(ctx, entry, tok(entry))
				report("defer", err)
			}
		case k < 57:
			// Mostly places that can be given back; now and then one that
			// cannot (void: given back before, or transferred).
			st := []string{"accepted", "paid"}
			if r.IntN(5) == 0 {
				st = []string{"void", "transfer_hold", "pending"}
			}
			if entry, _, ok := pickOffer(r, st...); ok {
				_, err := e.offers.GiveBack(ctx, entry, tok(entry))
				report("give-back", err)
			}
		case k < 69:
			if entry, ok := pickGiver(r); ok {
				res, err := e.offers.OfferTransfer(ctx, entry, tok(entry), h.recipient(), "en")
				report("transfer", err)
				if err == nil {
					h.addLink(res.Token)
				}
			}
		case k < 71:
			var open []string
			e.store.DB().Raw(`SELECT from_entry::text FROM transfers WHERE state IN ('pending', 'verified') ORDER BY id`).Scan(&open)
			if len(open) > 0 {
				entry := open[r.IntN(len(open))]
				_, err := e.offers.CancelTransfer(ctx, entry, tok(entry))
				report("transfer-cancel", err)
			}
		case k < 85:
			// A recipient verifies once at a time (a second code mailed
			// meanwhile would replace the first), and often pays at once.
			if link, ok := pickLink(r, offers.TransferPending); ok && h.claim(link) {
				defer h.unclaim(link)
				tr, _, err := e.offers.OpenTransfer(ctx, link)
				if err != nil {
					report("transfer-verify", err)
					return
				}
				if err := e.offers.TransferOTP(ctx, link, "en", client); err != nil {
					report("transfer-verify", err)
					return
				}
				_, err = e.offers.AcceptTransfer(ctx, link, recipientReq(tr.ToEmail, code(tr.ToEmail)), client)
				report("transfer-verify", err)
				if err == nil && r.IntN(2) == 0 {
					transferCheckout(r, link)
				}
			}
		default:
			if link, ok := pickLink(r, offers.TransferVerified); ok {
				transferCheckout(r, link)
			}
		}
	}
	run := func(ops int, seed uint64) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 24)
		for i := 0; i < ops; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				op(rand.New(rand.NewPCG(seed, uint64(i))))
				if i%25 == 0 {
					check()
				}
			}()
		}
		wg.Wait()
	}
	run(400, 1)
	e.clock.Add(48*time.Hour + time.Second) // every hold issued so far ends
	h.forgetHooks()
	run(300, 2)
	e.clock.Add(25 * time.Hour) // the first run's transfer links end (72 hours)
	h.forgetHooks()
	run(300, 3)
	check()
	// The checkouts still open finish, and the reconciler runs.
	for {
		p, ok := h.takePayment(rand.New(rand.NewPCG(4, 0)))
		if !ok {
			break
		}
		report("webhook", deliver(p))
	}
	if _, err := e.offers.ExpireDue(ctx); err != nil {
		t.Fatal(err)
	}
	check()
	t.Logf("operations that went through: %v; refused: %v; max live seen %d", done, refused, maxSeen)
	for _, op := range []string{"accept", "decline", "checkout", "webhook", "give-back", "transfer", "transfer-verify",
		"transfer-checkout", "defer"} {
		if done[op] == 0 {
			t.Errorf("no %s went through: the hammer does not exercise it", op)
		}
	}
	var completed int64
	e.store.DB().Raw(`SELECT count(*) FROM transfers WHERE state = 'paid'`).Scan(&completed)
	if completed == 0 {
		t.Error("no transfer completed: the hammer does not exercise it")
	}
	var states []struct {
		State string
		N     int
	}
	e.store.DB().Raw(`SELECT state, count(*) AS n FROM transfers GROUP BY state ORDER BY state`).Scan(&states)
	t.Logf("transfers by state: %v", states)
	e.hammerInvariants(sq, pay, transferMax)
}

// hammerInvariants checks, after a mixed run, what must hold of the
// sub-queue sq's offers, entries, transfers, payments and event log.
func (e *env) hammerInvariants(sq int64, pay *sandbox.Provider, transferMax int) {
	t := e.t
	t.Helper()
	db := e.store.DB()
	// none runs a query that must return no rows, and reports those it
	// finds as violations of rule.
	none := func(rule, query string, args ...any) {
		t.Helper()
		var bad []string
		if err := db.Raw(query, args...).Scan(&bad).Error; err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		if len(bad) > 0 {
			t.Errorf("%s: %d violations, e.g. %v", rule, len(bad), bad[:min(len(bad), 5)])
		}
	}

	hammerConsistent(e.clock.Now(), none, transferMax)
	// Settled: every refund owed was made, a place held paid keeps its
	// payment, and the provider agrees with what is recorded.
	none("every refund owed was made", `SELECT id FROM payments WHERE refunded_minor < refund_due_minor`)
	none("a paid place keeps its payment", `SELECT o.id::text FROM offers o WHERE o.status = 'paid'
		AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.offer_id = o.id AND p.status = 'captured' AND p.refund_due_minor = 0)`)
	none("a captured payment belongs to a place held or given back", `SELECT p.id FROM payments p JOIN offers o ON o.id = p.offer_id
		JOIN entries e ON e.id = o.entry_id WHERE p.status = 'captured' AND NOT (o.status = 'paid'
			OR (o.status = 'void' AND e.status = 'withdrawn' AND p.refund_due_minor = 0))`)
	var pays []struct {
		ID                    string
		Status                string
		AmountMinor, Refunded int64
		RefundDue             int64
	}
	db.Raw(`SELECT id, status, amount_minor, refunded_minor AS refunded, refund_due_minor AS refund_due FROM payments
		WHERE provider = 'sandbox' ORDER BY id`).Scan(&pays)
	for _, p := range pays {
		s, _ := pay.Session(p.ID)
		if got := pay.Refunded(p.ID); got != p.Refunded || got > p.AmountMinor {
			t.Errorf("payment %s: the provider refunded %d, recorded %d of %d", p.ID, got, p.Refunded, p.AmountMinor)
		}
		if want := lottery.PaymentStatus(p.Status); s.Status != want && !(want == lottery.PaymentCanceled && s.Status == lottery.PaymentRefunded) {
			t.Errorf("payment %s: the provider says %s, recorded %s", p.ID, s.Status, p.Status)
		}
	}

	// A give-back cascades like an expiry: in its own transaction (the
	// rows' xmin) the freed slot goes to the waitlist, whenever a unit it
	// fits waited. A unit still never offered at the end waited at every
	// give-back, and a give-back frees at least one slot (the capacity
	// never drops below the live offers), so while a solo entry waits,
	// every give-back must have issued an offer.
	var soloWaiting int64
	db.Raw(`SELECT count(*) FROM (SELECT dr.unit_id FROM draw_results dr WHERE dr.subqueue_id = ? AND NOT dr.selected
		AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = dr.entry_id) GROUP BY dr.unit_id HAVING count(*) = 1) x`, sq).Scan(&soloWaiting)
	if soloWaiting == 0 {
		t.Fatal("test setup: no solo entry left on the waitlist; give-back cascades cannot be checked")
	}
	none("every give-back re-offered the freed slot", `SELECT g.details->>'offer_id' FROM event_log g WHERE g.kind = 'offer.given_back'
		AND NOT EXISTS (SELECT 1 FROM event_log i WHERE i.xmin = g.xmin AND i.kind = 'offer.issued'
			AND i.details->>'reason' = 'released slot')`)
	var gaveBack, reoffered int64
	db.Raw(`SELECT count(*) FROM event_log WHERE kind = 'offer.given_back'`).Scan(&gaveBack)
	db.Raw(`SELECT count(*) FROM event_log WHERE kind = 'offer.issued' AND details->>'reason' = 'released slot'`).Scan(&reoffered)
	if gaveBack == 0 {
		t.Error("no give-back in the log")
	}
	// With a waitlist left, the slots are full (groups of up to 3 may leave
	// up to 2 unusable), as after expiries.
	if live, capacity := e.live(sq); live < capacity-2 {
		t.Errorf("slots left free with %d solo entries waiting: %d live of %d", soloWaiting, live, capacity)
	}
	t.Logf("%d give-backs, %d re-offers, %d solo entries still waiting", gaveBack, reoffered, soloWaiting)
}

// hammerConsistent checks what every committed state must satisfy, each
// rule one statement (one snapshot): none reports the rows a query finds.
func hammerConsistent(now time.Time, none func(rule, query string, args ...any), transferMax int) {
	none("live offers within capacity", `SELECT q.key || ': ' || count(o.id) || ' live of ' || q.capacity FROM subqueues q
		JOIN offers o ON o.subqueue_id = q.id AND o.status IN ('pending', 'accepted', 'paid') GROUP BY q.id HAVING count(o.id) > q.capacity`)
	none("one live offer per entry", `SELECT entry_id::text FROM offers WHERE status IN ('pending', 'accepted', 'paid', 'transfer_hold')
		GROUP BY entry_id HAVING count(*) > 1`)
	// Every entry's status agrees with its offer.
	none("entry status agrees with its offer", `SELECT e.id || ' ' || e.status || '/' || o.status FROM entries e JOIN offers o ON o.entry_id = e.id
		WHERE NOT CASE o.status
			WHEN 'pending' THEN e.status = 'offered'
			WHEN 'accepted' THEN e.status = 'offered'
			WHEN 'transfer_hold' THEN e.status = 'offered'
			WHEN 'paid' THEN e.status IN ('confirmed', 'deferred')
			WHEN 'declined' THEN e.status = 'declined'
			WHEN 'expired' THEN e.status = 'expired'
			WHEN 'void' THEN e.status IN ('withdrawn', 'transferred')
			ELSE false END`)
	none("a withdrawn or transferred entry holds no live offer", `SELECT e.id::text FROM entries e
		WHERE e.status IN ('withdrawn', 'transferred')
			AND EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = e.id AND o.status <> 'void')`)
	none("every given-back place was logged once", `SELECT e.id::text FROM entries e WHERE e.status = 'withdrawn'
		AND (SELECT count(*) FROM event_log l WHERE l.entry_id = e.id AND l.kind = 'offer.given_back') <> 1`)

	// Transfers: a transferred entry's offer is void and exactly one of its
	// transfers is paid, whose recipient is confirmed (or deferred) with a
	// paid offer, or moved the place on (gave it back, transferred it).
	none("a transferred entry has exactly one paid transfer", `SELECT e.id::text FROM entries e WHERE e.status = 'transferred'
		AND (SELECT count(*) FROM transfers t WHERE t.from_entry = e.id AND t.state = 'paid') <> 1`)
	none("a paid transfer's giver is transferred, its recipient holds the place", `SELECT t.id || ' giver ' || g.status || '/' || go.status
			|| ' recipient ' || r.status || '/' || ro.status
		FROM transfers t JOIN entries g ON g.id = t.from_entry JOIN offers go ON go.entry_id = g.id
			JOIN entries r ON r.id = t.to_entry JOIN offers ro ON ro.id = t.to_offer
		WHERE t.state = 'paid' AND NOT (g.status = 'transferred' AND go.status = 'void'
			AND ((r.status IN ('confirmed', 'deferred') AND ro.status = 'paid') OR (r.status IN ('withdrawn', 'transferred') AND ro.status = 'void')))`)
	none("a verified transfer's recipient waits on a hold", `SELECT t.id::text FROM transfers t JOIN offers ro ON ro.id = t.to_offer
		JOIN entries r ON r.id = t.to_entry WHERE t.state = 'verified' AND NOT (ro.status = 'transfer_hold' AND r.status = 'offered')`)
	none("a closed transfer's recipient holds nothing", `SELECT t.id::text FROM transfers t JOIN offers ro ON ro.id = t.to_offer
		JOIN entries r ON r.id = t.to_entry WHERE t.state IN ('cancelled', 'expired') AND NOT (ro.status = 'expired' AND r.status = 'expired')`)
	none("a hold offer belongs to an open transfer", `SELECT o.id::text FROM offers o WHERE o.status = 'transfer_hold'
		AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.to_offer = o.id AND t.state = 'verified')`)
	none("an open transfer's giver holds the place", `SELECT t.id::text FROM transfers t JOIN entries g ON g.id = t.from_entry
		JOIN offers go ON go.entry_id = g.id WHERE t.state IN ('pending', 'verified') AND t.expires_at > ?
			AND NOT (g.status = 'confirmed' AND go.status = 'paid')`, now)
	// A deferred runner keeps this edition's paid place (not offered
	// again, not refunded) and holds one deferral.
	none("a deferred place stays paid, unrefunded, with its deferral", `SELECT e.id::text FROM entries e JOIN offers o ON o.entry_id = e.id
		WHERE e.status = 'deferred' AND NOT (o.status = 'paid'
			AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.offer_id = o.id AND p.refund_due_minor > 0)
			AND (SELECT count(*) FROM deferrals d WHERE d.entry_id = e.id AND d.state = 'held') = 1)`)
	none("a held deferral's runner is deferred", `SELECT d.entry_id::text FROM deferrals d JOIN entries e ON e.id = d.entry_id
		WHERE d.state = 'held' AND e.status <> 'deferred'`)
	none("no paid transfer of a place given back", `SELECT t.id::text FROM transfers t JOIN entries g ON g.id = t.from_entry
		WHERE t.state = 'paid' AND g.status = 'withdrawn'`)
	none("the event's transfer count holds", `SELECT event_id::text FROM transfers WHERE state = 'paid' GROUP BY event_id
		HAVING count(*) > ?`, transferMax)

	// Money: refunds are owed only for places given back or transferred,
	// never above what was captured; a transfer's is the price less the fee.
	none("refunds within what was captured", `SELECT id FROM payments WHERE refund_due_minor > amount_minor
		OR refunded_minor > refund_due_minor OR refund_due_minor < 0`)
	none("refunds owed only for places given back or transferred", `SELECT p.id FROM payments p JOIN offers o ON o.id = p.offer_id
		JOIN entries e ON e.id = o.entry_id WHERE p.refund_due_minor > 0 AND NOT (o.status = 'void' AND e.status IN ('withdrawn', 'transferred'))`)
	none("a transfer refunds the price less the fee", `SELECT p.id FROM payments p JOIN offers o ON o.id = p.offer_id
		JOIN entries e ON e.id = o.entry_id JOIN transfers t ON t.from_entry = e.id AND t.state = 'paid'
		WHERE e.status = 'transferred' AND p.status IN ('captured', 'refunded') AND p.refund_due_minor <> p.amount_minor - t.fee_minor`)
}

// TestTransferCountUnderConcurrency: six confirmed runners name recipients
// at once in an event that allows two transfers: exactly two are offered
// (the event's count, serialised per event), the others are refused with
// conflict, and none fails internally.
func TestTransferCountUnderConcurrency(t *testing.T) {
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.offers.UsePayments(pay)
	sq := e.feesDrawnEvent(30, 8)
	var givers []string
	e.store.DB().Raw(`SELECT entry_id::text FROM offers WHERE subqueue_id = ? AND status = 'pending' ORDER BY entry_id LIMIT 6`, sq).Scan(&givers)
	if len(givers) != 6 {
		t.Fatalf("test setup: %d offers, want 6", len(givers))
	}
	for _, id := range givers {
		e.paySandbox(pay, id)
	}
	e.store.DB().Exec("UPDATE events SET transfer_max = 2, transfer_fee_minor = 5000")
	ctx := context.Background()
	codes := make([]string, len(givers))
	var wg sync.WaitGroup
	for i, id := range givers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.offers.OfferTransfer(ctx, id, e.keys.ReceiptToken(id), fmt.Sprintf("to%d@example.org", i), "en")
			codes[i] = "ok"
			if err != nil {
				codes[i] = lottery.CodeOf(err)
			}
		}()
	}
	wg.Wait()
	got := map[string]int{}
	for _, c := range codes {
		got[c]++
	}
	if got["ok"] != 2 || got[lottery.CodeConflict] != 4 {
		t.Errorf("six transfers at once with a count of two: %v", got)
	}
	var open int64
	e.store.DB().Raw(`SELECT count(*) FROM transfers WHERE state = 'pending'`).Scan(&open)
	if open != 2 {
		t.Errorf("%d transfers stored, want 2", open)
	}
}
