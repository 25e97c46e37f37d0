package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/startline/startline/lottery/offers"
)

// TypeChargeCards is the card-on-file pass (issue 15): due off-session
// charges, at each event's rate (offers.Charger.ChargeDue).
const TypeChargeCards = "card:charge"

// ChargePassEvery is the pass's period; a pass charges for at most
// ChargePassFor, so passes never overlap and the meter's bucket (one
// second's worth) refills in the gap.
const (
	ChargePassEvery = 5 * time.Second
	ChargePassFor   = 4 * time.Second
)

// NewChargeCardsTask builds the periodic charge pass. Unique for less than
// its period: a slow pass is never doubled, the next one still runs.
func NewChargeCardsTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeChargeCards, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Unique(ChargePassEvery-time.Second),
		asynq.Timeout(ChargePassFor+30*time.Second))
}

// Cards runs the charge pass.
type Cards struct {
	Charger *offers.Charger
	Log     *slog.Logger
}

// HandleChargeCards runs one pass. Its state is in PostgreSQL (card_charges)
// and the meter's in Redis can be rebuilt, so a lost or doubled task costs
// nothing: rows are claimed SKIP LOCKED and leased.
func (c *Cards) HandleChargeCards(ctx context.Context, _ *asynq.Task) error {
	st, err := c.Charger.ChargeDue(ctx, ChargePassFor)
	if st.Calls > 0 {
		args := []any{"calls", st.Calls}
		for k, n := range st.Outcomes {
			args = append(args, string(k), n)
		}
		c.Log.InfoContext(ctx, "card charges made", args...)
	}
	return err
}

// RedisMeter is offers.Meter on Redis: one token bucket per event
// (offers.TakeCharges) shared by every worker. The bucket is only pacing
// state: lost, it comes back full, which is one second's worth of charges.
type RedisMeter struct {
	RDB    goredis.UniversalClient
	Prefix string // e.g. "startline:"
	now    func() time.Time
}

var _ offers.Meter = (*RedisMeter)(nil)

// Take implements offers.Meter with an optimistic transaction (WATCH): the
// rule runs here, in Go, on the bucket read; a concurrent take retries.
func (m *RedisMeter) Take(ctx context.Context, eventID int64, perMinute, want int) (int, error) {
	key := meterKey(m.Prefix, eventID)
	now := time.Now
	if m.now != nil {
		now = m.now
	}
	for range 10 {
		var granted int
		err := m.RDB.Watch(ctx, func(tx *goredis.Tx) error {
			b, err := parseBucket(tx.Get(ctx, key))
			if err != nil {
				return err
			}
			n, next := offers.TakeCharges(b, now(), perMinute, want)
			_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				p.Set(ctx, key, strconv.FormatFloat(next.Tokens, 'f', 6, 64)+"|"+strconv.FormatInt(next.At.UnixNano(), 10), 10*time.Minute)
				return nil
			})
			granted = n
			return err
		}, key)
		if errors.Is(err, goredis.TxFailedErr) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("card meter: %w", err)
		}
		return granted, nil
	}
	return 0, nil // contended: this pass takes none, the next one will
}

// meterKey is an event's bucket: its id is the hash tag. WATCH and MULTI
// touch this one key, so they run on Redis Cluster; the tag keeps any later
// per-event key the pass may add on the same slot. The pass runs every few
// seconds per worker, not per request, so one slot per event is no hot spot.
func meterKey(prefix string, eventID int64) string {
	return prefix + "cardmeter:{" + strconv.FormatInt(eventID, 10) + "}"
}

func parseBucket(c *goredis.StringCmd) (offers.ChargeBucket, error) {
	v, err := c.Result()
	if errors.Is(err, goredis.Nil) {
		return offers.ChargeBucket{}, nil
	}
	if err != nil {
		return offers.ChargeBucket{}, err
	}
	tok, at, ok := strings.Cut(v, "|")
	t, err1 := strconv.ParseFloat(tok, 64)
	ns, err2 := strconv.ParseInt(at, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return offers.ChargeBucket{}, nil // unreadable: start again full
	}
	return offers.ChargeBucket{Tokens: t, At: time.Unix(0, ns)}, nil
}
