package offers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/startline/startline/lottery"
)

// Card on file (issue 15): a selected runner who saved a card when
// applying is charged off-session right after the results are published.
// Issuing such an offer queues its card_charges row in the same
// transaction (the store's issueOffers, which every offer of the draw and
// of the waitlist cascade goes through); the Charger's pass charges the due
// rows at the event's rate, retries soft declines and a busy provider, and
// falls back to the offer's pay link when the card cannot be charged.

// CardEventDue is an event with charges due now and its settings.
type CardEventDue struct {
	EventID     int64
	PerMinute   int
	MaxAttempts int
	Due         int // due rows, counted up to the store's limit
}

// CardChargeJob is one claimed charge: what the provider is asked for.
// Attempt is the attempt this call is (the idempotency key carries it, so
// a pass that died mid-call and is replayed gets the provider's first
// answer, never a second charge).
type CardChargeJob struct {
	OfferID     string
	EntryID     string
	EventID     int64
	Attempt     int
	MaxAttempts int
	Card        lottery.SavedCard
	Price       lottery.Money
	SubQueue    string
	Replay      bool // a capture whose refund is owed: asked again to learn the payment, then refunded
}

// IdempotencyKey is the provider key of one attempt: card:<offer>:<attempt>.
func (j CardChargeJob) IdempotencyKey() string {
	return fmt.Sprintf("card:%s:%d", j.OfferID, j.Attempt)
}

// CardOutcome is what the provider answered for one job.
type CardOutcome struct {
	OfferID     string
	Attempt     int
	MaxAttempts int
	Provider    string
	Payment     lottery.Payment
	Decline     lottery.CardDecline
	Busy        bool
	Replay      bool // CardChargeJob.Replay
	Now         time.Time
}

// CardRecorded is what the store made of an outcome.
type CardRecorded string

// Recorded outcomes (also the metric's outcome label).
const (
	RecordedCharged  CardRecorded = "charged"  // the offer is paid
	RecordedRetry    CardRecorded = "retry"    // declined softly or busy: tried again later
	RecordedBusy     CardRecorded = "busy"     // the provider was busy (a retry, named apart for the metric)
	RecordedFallback CardRecorded = "fallback" // the runner was sent the pay link
	RecordedRefund   CardRecorded = "refund"   // captured after the offer ended: refund it now
	RecordedStale    CardRecorded = "stale"    // another pass recorded this attempt first
)

// CardChargeView is how an offer's charge stands, for the status page.
type CardChargeView struct {
	State     CardChargeState
	Brand     string
	Last4     string
	Attempts  int
	LastError string
	NextAt    time.Time
}

// What a runner is told of a charge (ChargeStanding).
const (
	StandingCharging = "charging" // queued or retrying while the offer holds the slot
	StandingPaid     = "paid"     // the saved card paid the offer
	StandingFailed   = "failed"   // it could not be charged: pay on the page within the hold
)

// ChargeStanding is the rule for what a runner is told of the charge of
// their offer: charging, paid or failed; "" when nothing is left to say
// (the offer ended unpaid, was paid another way, or a late capture was
// refunded). The status page and the entry API both answer by it.
func ChargeStanding(o lottery.Offer, v CardChargeView) string {
	live := o.Status == lottery.OfferPending || o.Status == lottery.OfferAccepted
	switch {
	case v.State == ChargeCharged && o.Status == lottery.OfferPaid && v.LastError == "":
		return StandingPaid
	case (v.State == ChargeQueued || v.State == ChargeRetry) && live:
		return StandingCharging
	case v.State == ChargeFallback && live:
		return StandingFailed
	}
	return ""
}

// CardChargeCounts are an organizer's numbers for an event's charges.
type CardChargeCounts struct {
	Enabled  bool // the event has card on file
	Queued   int  // waiting for their turn
	Retrying int
	Charged  int
	Fallback int // fell back to the pay link
}

// CardChargeStore is what the charge pass asks of persistence.
// lottery/postgres.Store implements it.
type CardChargeStore interface {
	// DueCardEvents lists events with charge rows due at now (queued or
	// retry, next_at passed), with their rate and attempts.
	DueCardEvents(ctx context.Context, now time.Time) ([]CardEventDue, error)
	// ClaimCardCharges takes up to limit due rows of an event (SKIP LOCKED,
	// under their offers' locks) and applies ClaimOf to each: a row to
	// charge is leased (next_at = now + lease) and returned; a moot row
	// (offer no longer live) is closed, a row whose entry is in review
	// waits, a row past its cutoff falls back (mail queued). It returns the
	// queued mails' outbox ids.
	ClaimCardCharges(ctx context.Context, eventID int64, now time.Time, lease time.Duration, limit int) ([]CardChargeJob, []int64, error)
	// RecordCardCharge records an outcome under the offer's lock (offer row
	// first, then its charge row): captured pays the offer (payment, offer,
	// entry, log, paid mail), a decline or busy provider retries or falls
	// back by NextCharge. RecordedRefund when the capture landed after the
	// offer ended (the caller refunds); RecordedStale when this attempt was
	// recorded already.
	RecordCardCharge(ctx context.Context, o CardOutcome) (CardRecorded, []int64, error)
	// RecordCardRefund records the refund of a capture that landed late.
	RecordCardRefund(ctx context.Context, offerID, provider string, p lottery.Payment) error
	// CardChargeOf returns an offer's charge; ErrNotFound when it has none.
	CardChargeOf(ctx context.Context, offerID string) (CardChargeView, error)
	// CardChargeCounts counts an event's charges by state.
	CardChargeCounts(ctx context.Context, eventID int64) (CardChargeCounts, error)
}

// Meter paces an event's charges (a token bucket, TakeCharges): Take
// grants up to want charges now. It keeps wall time: it paces real calls
// to a real provider.
type Meter interface {
	Take(ctx context.Context, eventID int64, perMinute, want int) (int, error)
}

// MemoryMeter is a Meter for one process (tests, a single worker).
type MemoryMeter struct {
	mu      sync.Mutex
	buckets map[int64]ChargeBucket
	now     func() time.Time
}

// NewMemoryMeter returns an in-process meter on wall time.
func NewMemoryMeter() *MemoryMeter {
	return &MemoryMeter{buckets: map[int64]ChargeBucket{}, now: time.Now}
}

// Take implements Meter.
func (m *MemoryMeter) Take(_ context.Context, eventID int64, perMinute, want int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, b := TakeCharges(m.buckets[eventID], m.now(), perMinute, want)
	m.buckets[eventID] = b
	return n, nil
}

// ChargeLease is how long a claimed charge is left to its pass before
// another may replay it (same attempt, same idempotency key).
const ChargeLease = 2 * time.Minute

// Charger runs the off-session charge pass.
type Charger struct {
	store    CardChargeStore
	cards    lottery.CardProvider
	meter    Meter
	clock    lottery.Clock
	notify   lottery.Notifier
	log      *slog.Logger
	parallel int
	observe  func(outcome string)
	// calls counts provider calls per offer (tests prove nothing is
	// charged twice); nil: not counted.
	mu    sync.Mutex
	calls map[string]int
}

// NewCharger wires a Charger; notify may be nil.
func NewCharger(store CardChargeStore, cards lottery.CardProvider, meter Meter, clock lottery.Clock, notify lottery.Notifier,
	log *slog.Logger) *Charger {
	return &Charger{store: store, cards: cards, meter: meter, clock: clock, notify: notify, log: log, parallel: 8}
}

// OnOutcome sets who hears each recorded outcome (the metrics count them).
func (c *Charger) OnOutcome(f func(outcome string)) { c.observe = f }

// CountCalls makes the Charger count its provider calls per offer (tests).
func (c *Charger) CountCalls() { c.mu.Lock(); c.calls = map[string]int{}; c.mu.Unlock() }

// Calls returns the provider calls made for an offer since CountCalls.
func (c *Charger) Calls(offerID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[offerID]
}

// PassStats says what one pass did.
type PassStats struct {
	Calls    int
	Outcomes map[CardRecorded]int
}

// ChargeDue charges due rows, event by event at each event's rate, until
// none is due or within has passed (wall time; a pass never runs longer,
// and the next one goes on). A meter that fails stops the pass: nothing is
// charged unmetered.
func (c *Charger) ChargeDue(ctx context.Context, within time.Duration) (PassStats, error) {
	st := PassStats{Outcomes: map[CardRecorded]int{}}
	var mu sync.Mutex
	start := time.Now()
	for {
		due, err := c.store.DueCardEvents(ctx, c.clock.Now())
		if err != nil {
			return st, fmt.Errorf("charge pass: %w", err)
		}
		if len(due) == 0 {
			return st, nil
		}
		wait := time.Second
		for _, ev := range due {
			n, err := c.meter.Take(ctx, ev.EventID, ev.PerMinute, min(ev.Due, 500))
			if err != nil {
				return st, fmt.Errorf("charge pass: meter: %w", err)
			}
			wait = min(wait, time.Duration(float64(time.Minute)/float64(max(ev.PerMinute, 1))))
			if n == 0 {
				continue
			}
			jobs, mails, err := c.store.ClaimCardCharges(ctx, ev.EventID, c.clock.Now(), ChargeLease, n)
			c.mailed(ctx, mails)
			if err != nil {
				return st, fmt.Errorf("charge pass: claim: %w", err)
			}
			sem := make(chan struct{}, c.parallel)
			var wg sync.WaitGroup
			for _, j := range jobs {
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-sem; wg.Done() }()
					rec, err := c.charge(ctx, j)
					mu.Lock()
					st.Calls++
					if err == nil {
						st.Outcomes[rec]++
					}
					mu.Unlock()
					if err != nil {
						c.log.WarnContext(ctx, "card charge not recorded; its lease ends and it is replayed", "offer_id", j.OfferID, "err", err)
					}
				}()
			}
			wg.Wait()
		}
		left := within - time.Since(start)
		if left <= 0 || ctx.Err() != nil {
			return st, ctx.Err()
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(max(min(wait, left), 10*time.Millisecond)):
		}
	}
}

// charge makes one provider call outside any transaction and records it.
func (c *Charger) charge(ctx context.Context, j CardChargeJob) (CardRecorded, error) {
	c.mu.Lock()
	if c.calls != nil {
		c.calls[j.OfferID]++
	}
	c.mu.Unlock()
	pay, dec, err := c.cards.ChargeCard(ctx, lottery.CardCharge{OfferID: j.OfferID, Card: j.Card, AmountMinor: j.Price.Amount,
		Currency: j.Price.Currency, Description: "Startline slot " + j.SubQueue, IdempotencyKey: j.IdempotencyKey()})
	out := CardOutcome{OfferID: j.OfferID, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, Provider: c.cards.Name(), Now: c.clock.Now(),
		Replay: j.Replay}
	switch {
	case errors.Is(err, lottery.ErrProviderBusy):
		out.Busy = true
	case err != nil:
		// Not busy and not a decline (the saved card is gone at the
		// provider): trying again will not help; the runner pays on the page.
		c.log.WarnContext(ctx, "card charge refused", "offer_id", j.OfferID, "err", err)
		out.Decline = lottery.CardDecline{Code: "charge_error"}
	case pay.Status == lottery.PaymentCaptured:
		pay.OfferID = j.OfferID
		out.Payment = pay
	default:
		if dec.Code == "" {
			dec.Code = "declined"
		}
		out.Decline = dec
	}
	rec, mails, err := c.store.RecordCardCharge(ctx, out)
	c.mailed(ctx, mails)
	if err != nil {
		return "", fmt.Errorf("record charge of %s: %w", j.OfferID, err)
	}
	if rec == RecordedRefund {
		if err := c.refund(ctx, out.Payment); err != nil {
			return rec, err
		}
	}
	if c.observe != nil {
		c.observe(string(rec))
	}
	return rec, nil
}

// refund returns a capture that landed after its offer ended; a refund the
// provider refuses now is asked for again when the row is replayed.
func (c *Charger) refund(ctx context.Context, p lottery.Payment) error {
	r, err := c.cards.Refund(ctx, p.ID, p.AmountMinor, "card-refund:"+p.OfferID)
	if err != nil {
		return fmt.Errorf("refund late card charge of %s: %w", p.OfferID, err)
	}
	r.OfferID = p.OfferID
	if r.Status == "" {
		r.Status = lottery.PaymentRefunded
	}
	if err := c.store.RecordCardRefund(ctx, p.OfferID, c.cards.Name(), r); err != nil {
		return err
	}
	c.log.InfoContext(ctx, "card charge refunded: the offer ended first", "offer_id", p.OfferID)
	return nil
}

func (c *Charger) mailed(ctx context.Context, ids []int64) {
	if c.notify == nil {
		return
	}
	for _, id := range ids {
		if err := c.notify.MailQueued(ctx, id); err != nil {
			c.log.WarnContext(ctx, "charge mail enqueue failed; the outbox sweeper will send it", "outbox_id", id, "err", err)
			return
		}
	}
}

// ChargeOf returns how an offer's card charge stands; false when the offer
// has none (no card on file).
func (c *Charger) ChargeOf(ctx context.Context, offerID string) (CardChargeView, bool, error) {
	v, err := c.store.CardChargeOf(ctx, offerID)
	if errors.Is(err, lottery.ErrNotFound) {
		return CardChargeView{}, false, nil
	}
	if err != nil {
		return CardChargeView{}, false, fmt.Errorf("card charge of %s: %w", offerID, err)
	}
	return v, true, nil
}

// Counts returns an event's charge numbers for its organizer.
func (c *Charger) Counts(ctx context.Context, eventID int64) (CardChargeCounts, error) {
	n, err := c.store.CardChargeCounts(ctx, eventID)
	if err != nil {
		return n, fmt.Errorf("card charge counts: %w", err)
	}
	return n, nil
}
