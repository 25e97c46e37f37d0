package api_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/payments/sandbox"
	"github.com/startline/startline/worker"
)

// Card on file (issue 15): the off-session charge pass on the sandbox
// provider, end to end from publish-results.

// cardEvent runs drawnEvent's lifecycle up to the draw, then turns card on
// file on (at perMinute), prices the sub-queue, saves a card for every
// entry of half:sub-130 (card gives the test number of the i-th selected
// entry and of the waitlist after them) and publishes the results. It
// returns the selected entries (by position) and the waitlist.
func (e *env) cardEvent(pay *sandbox.Provider, perSubqueue, capacity, perMinute int, card func(i int) string) (sq int64, selected, waitlist []string) {
	e.t.Helper()
	e.offers.UsePayments(pay)
	e.openEvent("spring")
	ctx := context.Background()
	if _, err := e.store.InsertSyntheticEntries(ctx, "spring", perSubqueue); err != nil {
		e.t.Fatal(err)
	}
	e.store.DB().Raw("UPDATE subqueues SET capacity = ? WHERE key = 'half:sub-130' RETURNING id", capacity).Scan(&sq)
	e.clock.Set(testStart.Add(8 * 24 * time.Hour))
	e.store.DB().Exec("UPDATE events SET unreviewed_policy = 'exclude'")
	for _, a := range []string{"freeze", "reveal", "draw"} {
		if r := e.action("spring", a, nil); r.Status/100 != 2 {
			e.t.Fatalf("%s: %d %s", a, r.Status, r.Raw)
		}
	}
	e.drawAll("spring")
	e.store.DB().Exec("UPDATE subqueues SET price_minor = 50000 WHERE id = ?", sq)
	e.store.DB().Exec(`INSERT INTO event_card_settings (event_id, charge_per_minute, max_attempts)
		SELECT id, ?, 3 FROM events WHERE slug = 'spring'`, perMinute)
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND NOT selected ORDER BY position", sq).Scan(&waitlist)
	for i, id := range append(append([]string{}, selected...), waitlist...) {
		c := saveCard(e.t, pay, card(i))
		if err := e.store.DB().Exec(`INSERT INTO entry_cards (entry_id, event_id, provider, setup_id, payment_method, customer,
			fingerprint, brand, last4) SELECT id, event_id, ?, ?, ?, ?, ?, ?, ? FROM entries WHERE id = ?`, c.Provider, c.SetupID,
			c.PaymentMethod, c.Customer, c.Fingerprint, c.Brand, c.Last4, id).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	if r := e.action("spring", "publish-results", nil); r.Status != 200 {
		e.t.Fatalf("publish-results: %d %s", r.Status, r.Raw)
	}
	return sq, selected, waitlist
}

// saveCard saves a test card through the sandbox's setup step.
func saveCard(t *testing.T, pay *sandbox.Provider, number string) lottery.SavedCard {
	t.Helper()
	ctx := context.Background()
	var k [8]byte
	_, _ = rand.Read(k[:])
	s, err := pay.StartCardSetup(ctx, lottery.CardSetupRequest{EventSlug: "spring", ReturnURL: "/", IdempotencyKey: hex.EncodeToString(k[:])})
	if err != nil {
		t.Fatal(err)
	}
	if err := pay.ConfirmSetup(s.ID, number); err != nil {
		t.Fatal(err)
	}
	c, err := pay.CardSetupResult(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type chargeRow struct {
	State     string
	Attempts  int
	LastError string
	OfferID   string
}

func (e *env) chargeOf(entryID string) (chargeRow, bool) {
	var rows []chargeRow
	e.store.DB().Raw(`SELECT state, attempts, last_error, offer_id::text AS offer_id FROM card_charges WHERE entry_id = ?`, entryID).Scan(&rows)
	if len(rows) == 0 {
		return chargeRow{}, false
	}
	return rows[0], true
}

// chargeStanding is the entry status API's card_charge.state ("" when
// the answer carries none).
func (e *env) chargeStanding(entryID string) string {
	e.t.Helper()
	r := e.do("GET", "/api/v1/entries/"+entryID+"?token="+e.keys.ReceiptToken(entryID), nil)
	if r.Status != 200 {
		e.t.Fatalf("entry status: %d %s", r.Status, r.Raw)
	}
	cc, _ := r.Body["card_charge"].(map[string]any)
	st, _ := cc["state"].(string)
	return st
}

func (e *env) offerEntryStatus(entryID string) (offer, entry string) {
	e.store.DB().Raw(`SELECT o.status, en.status FROM offers o JOIN entries en ON en.id = o.entry_id WHERE o.entry_id = ?`, entryID).
		Row().Scan(&offer, &entry)
	return
}

func (e *env) cardIntents(entryID string) []string {
	var k []string
	e.store.DB().Raw(`SELECT intent FROM outbox WHERE entry_id = ? ORDER BY id`, entryID).Scan(&k)
	return k
}

func (e *env) logKinds(entryID string, prefix string) []string {
	var k []string
	e.store.DB().Raw(`SELECT kind FROM event_log WHERE entry_id = ? AND kind LIKE ? ORDER BY id`, entryID, prefix+"%").Scan(&k)
	return k
}

func hasStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCardCharges: published offers of runners with saved cards are
// charged by the pass: paid at once, retried after a soft decline, fallen
// back to the pay link after a hard one (and paid there), a busy provider
// retried with nothing decided, a declined offer never charged, and the
// runner who moves up in its place charged too.
func TestCardCharges(t *testing.T) {
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	// selected: 0 OK, 1 OK but short of funds once, 2 declined (final),
	// 3 authentication required (final), 4 OK, 5 OK (declines first);
	// the waitlist: OK.
	cards := map[int]string{2: sandbox.CardDeclined, 3: sandbox.CardAuthRequired}
	sq, selected, waitlist := e.cardEvent(pay, 12, 6, 100000, func(i int) string {
		if c, ok := cards[i]; ok {
			return c
		}
		return sandbox.CardOK
	})
	if len(selected) < 6 || len(waitlist) == 0 { // a group may take one slot more

		t.Fatalf("selected %d, waitlist %d", len(selected), len(waitlist))
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ch := offers.NewCharger(e.store, pay, offers.NewMemoryMeter(), e.clock, nil, log)
	ch.CountCalls()

	// Publish queued a charge for each selected runner, and their offer
	// mail says the card will be charged.
	for _, id := range selected {
		c, ok := e.chargeOf(id)
		if !ok || c.State != "queued" || c.Attempts != 0 {
			t.Fatalf("charge of a selected runner after publish: %+v %v", c, ok)
		}
		if k := e.cardIntents(id); !hasStr(k, mails.OfferCardCharge) || hasStr(k, mails.OfferIssued) {
			t.Errorf("selected runner's mails: %v", k)
		}
	}
	m := e.renderLast(selected[0], mails.OfferCardCharge)
	if !strings.Contains(m.Body, "will be charged") || !strings.Contains(m.Body, "50,000") || !strings.Contains(m.Body, "mail either way") {
		t.Errorf("card offer mail:\n%s", m.Body)
	}
	if st := e.chargeStanding(selected[0]); st != offers.StandingCharging {
		t.Errorf("entry API before the charge: card_charge %q, want charging", st)
	}
	var pm1 string
	e.store.DB().Raw(`SELECT payment_method FROM entry_cards WHERE entry_id = ?`, selected[1]).Scan(&pm1)
	pay.DeclineNext(pm1, lottery.CardDecline{Code: "insufficient_funds", Retry: true})

	// The runner of selected[5] declines before any charge: never charged,
	// and the waitlisted runner who moves up (with a saved card) is queued.
	off5, _ := e.offerOf(selected[5])
	if r := e.do("POST", "/api/v1/offers/"+off5+"/decline", map[string]any{"token": e.keys.ReceiptToken(selected[5])}); r.Status != 200 {
		t.Fatalf("decline: %d %s", r.Status, r.Raw)
	}
	// The released slot goes to the next unit on the waitlist that fits it
	// (a group may not): whoever the cascade offered it to.
	var ups []string
	e.store.DB().Raw(`SELECT entry_id::text FROM offers WHERE subqueue_id = ? AND round > 0`, sq).Scan(&ups)
	if len(ups) == 0 {
		t.Fatal("no runner moved up")
	}
	for _, up := range ups {
		if c, ok := e.chargeOf(up); !ok || c.State != "queued" {
			t.Fatalf("moved-up runner's charge: %+v %v", c, ok)
		}
		if k := e.cardIntents(up); !hasStr(k, mails.OfferCardCharge) {
			t.Errorf("moved-up runner's mails: %v", k)
		}
		if m := e.renderLast(up, mails.OfferCardCharge); !strings.Contains(m.Body, "moved up") {
			t.Errorf("moved-up card mail:\n%s", m.Body)
		}
	}

	// The runner of selected[4] opens a checkout before the charge; the
	// card is charged first, and the checkout's authorization is released.
	off4, _ := e.offerOf(selected[4])
	r4 := e.do("POST", "/api/v1/offers/"+off4+"/pay", map[string]any{"token": e.keys.ReceiptToken(selected[4])})
	if r4.Status != 200 {
		t.Fatalf("pay before the charge: %d %s", r4.Status, r4.Raw)
	}

	// Pass 1, with the provider busy for its first two calls.
	pay.Busy(2)
	st, err := ch.ChargeDue(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st.Outcomes[offers.RecordedBusy] != 2 {
		t.Errorf("pass 1 outcomes: %v", st.Outcomes)
	}
	var busy []chargeRow
	e.store.DB().Raw(`SELECT state, attempts, last_error FROM card_charges WHERE last_error = 'provider_busy'`).Scan(&busy)
	if len(busy) != 2 {
		t.Errorf("busy rows: %+v", busy)
	}
	for _, b := range busy {
		if b.State != "retry" || b.Attempts != 0 {
			t.Errorf("a busy provider decided something: %+v", b)
		}
	}
	if n := ch.Calls(off5); n != 0 {
		t.Errorf("a declined offer was charged %d times", n)
	}
	if _, ok := e.chargeOf(selected[5]); ok {
		t.Error("a declined offer's charge is still queued")
	}
	if k := e.logKinds(selected[5], "card."); !hasStr(k, "card.charge_cancelled") {
		t.Errorf("declined offer's card log: %v", k)
	}

	// Pass 2 after the busy retry; pass 3 after the soft decline's backoff.
	e.clock.Add(offers.BusyRetryAfter + time.Second)
	if _, err := ch.ChargeDue(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(31 * time.Minute)
	if _, err := ch.ChargeDue(ctx, time.Second); err != nil {
		t.Fatal(err)
	}

	if st := e.chargeStanding(selected[0]); st != offers.StandingPaid {
		t.Errorf("entry API after the charge: card_charge %q, want paid", st)
	}
	if st := e.chargeStanding(selected[2]); st != offers.StandingFailed {
		t.Errorf("entry API after a final decline: card_charge %q, want failed", st)
	}
	for _, id := range append([]string{selected[0], selected[1], selected[4]}, ups...) {
		c, _ := e.chargeOf(id)
		o, en := e.offerEntryStatus(id)
		if c.State != "charged" || o != "paid" || en != "confirmed" {
			t.Errorf("%s: charge %+v, offer %s, entry %s", id, c, o, en)
		}
		if k := e.cardIntents(id); !hasStr(k, mails.OfferPaid) {
			t.Errorf("paid runner's mails: %v", k)
		}
		if k := e.logKinds(id, ""); !hasStr(k, "card.charged") || !hasStr(k, "offer.paid") {
			t.Errorf("paid runner's log: %v", k)
		}
		var p string
		e.store.DB().Raw(`SELECT p.status FROM payments p JOIN offers o ON o.id = p.offer_id WHERE o.entry_id = ?`, id).Scan(&p)
		if p != "captured" {
			t.Errorf("payment of %s: %q", id, p)
		}
	}
	if c, _ := e.chargeOf(selected[1]); c.Attempts != 2 {
		t.Errorf("short of funds once, then paid: %d attempts, want 2", c.Attempts)
	}
	if c, _ := e.chargeOf(selected[0]); c.Attempts != 1 {
		t.Errorf("paid at once: %d attempts, want 1", c.Attempts)
	}
	for i, code := range map[int]string{2: "generic_decline", 3: "authentication_required"} {
		id := selected[i]
		c, _ := e.chargeOf(id)
		if o, _ := e.offerEntryStatus(id); c.State != "fallback" || c.LastError != code || o != "pending" {
			t.Errorf("final decline %s: charge %+v, offer %s", code, c, o)
		}
		if k := e.cardIntents(id); !hasStr(k, mails.OfferCardFailed) {
			t.Errorf("fallback mails: %v", k)
		}
		if c.Attempts != 1 {
			t.Errorf("a final decline was tried %d times", c.Attempts) // a busy call before it uses no attempt
		}
	}
	m = e.renderLast(selected[2], mails.OfferCardFailed)
	if !strings.Contains(m.Body, "could not charge") || !strings.Contains(m.Body, "/entries/"+selected[2]+"?") {
		t.Errorf("fallback mail:\n%s", m.Body)
	}

	body4, hdr4, _ := pay.Event(r4.str("payment_id"), off4, "pay", e.clock.Now())
	if r := e.webhook(body4, hdr4); r.Status != 200 {
		t.Fatalf("late checkout webhook: %d", r.Status)
	}
	var late string
	e.store.DB().Raw(`SELECT status FROM payments WHERE id = ?`, r4.str("payment_id")).Scan(&late)
	if late != "canceled" {
		t.Errorf("a checkout authorized after the card paid the offer: %q, want canceled", late)
	}

	// The pay link works: the normal sandbox pay flow settles the offer.
	off2, _ := e.offerOf(selected[2])
	r := e.do("POST", "/api/v1/offers/"+off2+"/pay", map[string]any{"token": e.keys.ReceiptToken(selected[2])})
	if r.Status != 200 || r.str("checkout_url") == "" {
		t.Fatalf("pay after fallback: %d %s", r.Status, r.Raw)
	}
	body, hdr, _ := pay.Event(r.str("payment_id"), off2, "pay", e.clock.Now())
	if r := e.webhook(body, hdr); r.Status != 200 {
		t.Fatalf("webhook: %d", r.Status)
	}
	if o, en := e.offerEntryStatus(selected[2]); o != "paid" || en != "confirmed" {
		t.Errorf("paid on the page after fallback: offer %s, entry %s", o, en)
	}

	// Nothing is due any more; the counts add up.
	st, err = ch.ChargeDue(ctx, time.Second)
	if err != nil || st.Calls != 0 {
		t.Errorf("a pass with nothing due: %+v %v", st, err)
	}
	var evID int64
	e.store.DB().Raw(`SELECT id FROM events WHERE slug = 'spring'`).Scan(&evID)
	n, err := ch.Counts(ctx, evID)
	if err != nil || !n.Enabled || n.Charged != len(selected)-3+len(ups) || n.Fallback != 2 || n.Queued != 0 || n.Retrying != 0 {
		t.Errorf("counts: %+v %v", n, err)
	}
	v, ok, err := ch.ChargeOf(ctx, mustOffer(e, selected[0]))
	if err != nil || !ok || v.State != offers.ChargeCharged || v.Brand != "visa" || v.Last4 != "4242" {
		t.Errorf("charge view: %+v %v %v", v, ok, err)
	}
}

func mustOffer(e *env, entryID string) string { id, _ := e.offerOf(entryID); return id }

// renderLast renders the entry's last mail of kind as the worker would.
func (e *env) renderLast(entryID, kind string) mails.Message {
	e.t.Helper()
	var id int64
	e.store.DB().Raw(`SELECT max(id) FROM outbox WHERE entry_id = ? AND intent = ?`, entryID, kind).Scan(&id)
	m, err := e.store.Mail(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := lottery.NewMailRenderer(e.store, e.keys, testPublicURL).Render(context.Background(), m)
	if err != nil {
		e.t.Fatal(err)
	}
	return mails.Message{Subject: r.Subject, Body: r.Body, HTML: r.HTML}
}

// cardRedis connects to Redis DB 15 (this branch's own) with a random key
// prefix, deleted when the test ends.
func cardRedis(t *testing.T) (goredis.UniversalClient, string) {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", DB: 15})
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	var k [6]byte
	_, _ = rand.Read(k[:])
	prefix := "sltest:card:" + hex.EncodeToString(k[:]) + ":"
	t.Cleanup(func() {
		keys, _ := rdb.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
		rdb.Close()
	})
	return rdb, prefix
}

// TestCardChargeRateAndRace: at 60 a minute a one-second pass charges at
// most burst + rate·1 s = 2 (the Redis meter, shared by every worker); two
// passes running at once, each through the worker's task handler, never
// charge an offer twice.
func TestCardChargeRateAndRace(t *testing.T) {
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	_, selected, _ := e.cardEvent(pay, 12, 8, 60, func(int) string { return sandbox.CardOK })
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rdb, prefix := cardRedis(t)
	meter := &worker.RedisMeter{RDB: rdb, Prefix: prefix}
	a := offers.NewCharger(e.store, pay, meter, e.clock, nil, log)
	b := offers.NewCharger(e.store, pay, meter, e.clock, nil, log)
	a.CountCalls()
	b.CountCalls()

	start := time.Now()
	st, err := a.ChargeDue(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	limit := int(offers.ChargeBurst(60)) + int(elapsed.Seconds()*60/60)
	t.Logf("a %s pass at 60/min: %d calls (cap %d)", elapsed, st.Calls, limit)
	if st.Calls < 1 || st.Calls > limit {
		t.Errorf("a %s pass at 60/min made %d calls, want 1..%d", elapsed, st.Calls, limit)
	}
	// Two passes at once, at a rate that lets both take everything.
	e.store.DB().Exec(`UPDATE event_card_settings SET charge_per_minute = 100000`)
	var wg sync.WaitGroup
	for _, c := range []*offers.Charger{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := (&worker.Cards{Charger: c, Log: log}).HandleChargeCards(ctx, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, id := range selected {
		off := mustOffer(e, id)
		if n := a.Calls(off) + b.Calls(off); n != 1 {
			t.Errorf("offer %s: %d provider calls across both passes", off, n)
		}
		if c, _ := e.chargeOf(id); c.State != "charged" {
			t.Errorf("offer %s: %+v", off, c)
		}
	}
	var charged int
	e.store.DB().Raw(`SELECT count(*) FROM event_log WHERE kind = 'card.charged'`).Scan(&charged)
	if charged != len(selected) {
		t.Errorf("card.charged logged %d times for %d offers", charged, len(selected))
	}
}

// inFlight is the sandbox with a hook that runs while a charge is in
// flight: after the pass claimed it, before the provider answers.
type inFlight struct {
	*sandbox.Provider
	during func(offerID string)
}

func (p inFlight) ChargeCard(ctx context.Context, r lottery.CardCharge) (lottery.Payment, lottery.CardDecline, error) {
	if p.during != nil {
		p.during(r.OfferID)
	}
	return p.Provider.ChargeCard(ctx, r)
}

// TestCardChargeLateCaptureRefunded: a runner who declines while their
// card is being charged gets the capture refunded at once, logged; the
// same answer recorded twice is recorded once.
func TestCardChargeLateCaptureRefunded(t *testing.T) {
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	_, selected, _ := e.cardEvent(pay, 12, 1, 100000, func(int) string { return sandbox.CardOK })
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	id := selected[0]
	prov := inFlight{Provider: pay, during: func(offerID string) {
		if offerID != mustOffer(e, id) {
			return // the runner who moves up in its place is charged as usual
		}
		if r := e.do("POST", "/api/v1/offers/"+offerID+"/decline", map[string]any{"token": e.keys.ReceiptToken(id)}); r.Status != 200 {
			t.Errorf("decline in flight: %d %s", r.Status, r.Raw)
		}
	}}
	ch := offers.NewCharger(e.store, prov, offers.NewMemoryMeter(), e.clock, nil, log)
	st, err := ch.ChargeDue(ctx, time.Second)
	if err != nil || st.Outcomes[offers.RecordedRefund] != 1 {
		t.Fatalf("pass: %+v %v", st, err)
	}
	c, _ := e.chargeOf(id)
	var pid, pst string
	e.store.DB().Raw(`SELECT id, status FROM payments WHERE offer_id = ?`, c.OfferID).Row().Scan(&pid, &pst)
	if o, _ := e.offerEntryStatus(id); o != "declined" || pst != "refunded" || pay.Refunded(pid) != 50000 {
		t.Errorf("late capture: offer %s, payment %s, refunded %d", o, pst, pay.Refunded(pid))
	}
	if c.State != "charged" || c.LastError != "refunded" {
		t.Errorf("late capture's charge row: %+v", c)
	}
	if k := e.logKinds(id, "card."); !hasStr(k, "card.charge_late") || !hasStr(k, "card.refunded") || hasStr(k, "card.charged") {
		t.Errorf("late capture's log: %v", k)
	}
	if k := e.cardIntents(id); hasStr(k, mails.OfferPaid) {
		t.Errorf("a refunded late capture mailed a receipt: %v", k)
	}
	// Nothing more to do for it; an answer recorded again is stale.
	if st, _ := ch.ChargeDue(ctx, time.Second); st.Calls != 0 {
		t.Errorf("a settled charge was tried again: %+v", st)
	}
	rec, _, err := e.store.RecordCardCharge(ctx, offers.CardOutcome{OfferID: c.OfferID, Attempt: 1, MaxAttempts: 3, Provider: "sandbox",
		Payment: lottery.Payment{ID: pid, Status: lottery.PaymentCaptured, AmountMinor: 50000, Currency: "krw"}, Now: e.clock.Now()})
	if err != nil || rec != offers.RecordedStale {
		t.Errorf("recorded twice: %s %v", rec, err)
	}
}
