package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/registration"
)

func (f *applyFixture) tx(e lottery.Entry, hash []byte) registration.ApplyTx {
	return registration.ApplyTx{Entry: e, OTPHash: hash, MaxOTPAttempts: lottery.OTPMaxAttempts,
		MaxGroupSize: f.ev.MaxGroupSize, Now: f.now}
}

// TestApplyBatchMixed: one batch statement holding good applications, a
// duplicate person, a wrong code, a closed window, a replay, a replay of
// another body, an address without a code and a caller that gave up: each
// gets the answer its own transaction would have given, and only the good
// ones and the wrong code's attempt are written.
func TestApplyBatchMixed(t *testing.T) {
	f := newApplyFixture(t)
	ctx := context.Background()
	// Earlier: runner 1's entry, and runner 2's entry made with an Idempotency-Key.
	first := f.entry(t, 1, "a")
	if _, err := f.apply(first, f.giveCode(t, first.EmailKey)); err != nil {
		t.Fatal(err)
	}
	keyed := f.entry(t, 2, "a")
	keyedTx := f.tx(keyed, f.giveCode(t, keyed.EmailKey))
	keyedTx.IdempotencyKey, keyedTx.RequestHash = "key-2", []byte("body-2")
	if _, err := f.store.Apply(ctx, keyedTx); err != nil {
		t.Fatal(err)
	}

	good1, good2 := f.entry(t, 10, "a"), f.entry(t, 11, "b")
	dup := f.entry(t, 12, "a")
	dup.Phone = first.Phone // the same person by phone
	wrong := f.entry(t, 13, "a")
	late := f.entry(t, 14, "a")
	replayed := f.entry(t, 15, "a") // the retry of keyed's request: a new id, the same key and body
	replayed.EmailKey, replayed.Email, replayed.Phone, replayed.PersonKey = "retry@example.com", "retry@example.com", "+821099999999", ""
	mismatch := f.entry(t, 16, "a")
	noCode := f.entry(t, 17, "a")
	gaveUp := f.entry(t, 18, "a")

	txs := []registration.ApplyTx{
		f.tx(good1, f.giveCode(t, good1.EmailKey)),
		f.tx(dup, f.giveCode(t, dup.EmailKey)),
		f.tx(wrong, func() []byte { f.giveCode(t, wrong.EmailKey); return []byte("not the code") }()),
		f.tx(late, f.giveCode(t, late.EmailKey)),
		f.tx(replayed, []byte("unused")),
		f.tx(mismatch, f.giveCode(t, mismatch.EmailKey)),
		f.tx(noCode, []byte("no code")),
		f.tx(gaveUp, f.giveCode(t, gaveUp.EmailKey)),
		f.tx(good2, f.giveCode(t, good2.EmailKey)),
	}
	txs[3].Now = f.clk.T.Add(time.Hour) // at the close
	txs[4].IdempotencyKey, txs[4].RequestHash = "key-2", []byte("body-2")
	txs[5].IdempotencyKey, txs[5].RequestHash = "key-2", []byte("another body")
	txs[0].IdempotencyKey, txs[0].RequestHash = "key-10", []byte("body-10")
	ctxs := make([]context.Context, len(txs))
	for i := range ctxs {
		ctxs[i] = ctx
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	ctxs[7] = cancelled

	outs, errs := postgres.FlushApplies(f.store, ctxs, txs)

	wantOK := func(i int, e lottery.Entry) {
		t.Helper()
		if errs[i] != nil || outs[i].EntryID != e.ID || outs[i].Replayed || len(outs[i].Mails) != 1 {
			t.Errorf("member %d: %+v, %v; want entry %s with its receipt", i, outs[i], errs[i], e.ID)
		}
	}
	wantOK(0, good1)
	wantOK(8, good2)
	wantError(t, errs[1], lottery.CodeDuplicateEntry, "phone", "")
	wantError(t, errs[2], lottery.CodeInvalidOTP, "otp", "the code is wrong")
	wantError(t, errs[3], lottery.CodeRegistrationClosed, "", "")
	if errs[4] != nil || !outs[4].Replayed || outs[4].EntryID != keyed.ID {
		t.Errorf("replay: %+v, %v; want entry %s replayed", outs[4], errs[4], keyed.ID)
	}
	wantError(t, errs[5], lottery.CodeIdempotencyMismatch, "Idempotency-Key", "")
	wantError(t, errs[6], lottery.CodeInvalidOTP, "otp", lottery.ErrNoCode.Message)
	if !errors.Is(errs[7], lottery.ErrUnavailable) && !errors.Is(errs[7], context.Canceled) {
		t.Errorf("gave up: %v, want its context's error", errs[7])
	}

	if n := f.count(t, `SELECT count(*) FROM entries`); n != 4 {
		t.Errorf("%d entries, want 4 (two earlier, two good)", n)
	}
	for _, c := range []struct {
		who      lottery.Entry
		attempts int
		used     bool
	}{{good1, 1, true}, {good2, 1, true}, {dup, 0, false}, {wrong, 1, false}, {late, 0, false}, {mismatch, 0, false},
		{gaveUp, 0, false}} {
		var attempts int
		var used bool
		if err := f.store.DB().Raw(`SELECT attempts, used_by IS NOT NULL FROM otp_codes WHERE email_key = ?`, c.who.EmailKey).
			Row().Scan(&attempts, &used); err != nil {
			t.Fatal(err)
		}
		if attempts != c.attempts || used != c.used {
			t.Errorf("%s's code: %d attempts, used %t; want %d, %t", c.who.EmailKey, attempts, used, c.attempts, c.used)
		}
	}
	for _, c := range []struct {
		q    string
		want int
	}{
		{`SELECT count(*) FROM event_log WHERE kind = 'entry.created'`, 4},
		{`SELECT count(*) FROM outbox WHERE intent = 'entry.received'`, 4},
		{`SELECT count(*) FROM idempotency_keys WHERE key = 'key-10'`, 1},
		{`SELECT count(*) FROM otp_codes WHERE used_by IS NOT NULL`, 4},
	} {
		if n := f.count(t, c.q); n != c.want {
			t.Errorf("%s: %d, want %d", c.q, n, c.want)
		}
	}
	// The dashboard's rollup saw the batch (its statement-level trigger).
	if n := f.count(t, `SELECT coalesce(sum(n), 0) FROM entry_tally_deltas WHERE hour IS NOT NULL`); n != 4 {
		t.Errorf("tally deltas count %d entries, want 4", n)
	}
}

// TestApplyBatchStorm: many concurrent applications, each runner trying
// twice with the right code (half of them retrying with one
// Idempotency-Key) and once with a wrong one: exactly one entry per
// runner, every acknowledged entry stored, the other right try answered
// as a replay or a duplicate, every wrong try counted.
func TestApplyBatchStorm(t *testing.T) {
	f := newApplyFixture(t, lottery.PaceGroupSpec{Code: "a", Label: "A", Capacity: 1000})
	const runners = 150
	type try struct {
		runner int
		tx     registration.ApplyTx
		right  bool
	}
	var tries []try
	for n := 1; n <= runners; n++ {
		e := f.entry(t, n, "a")
		hash := f.giveCode(t, e.EmailKey)
		for k := range 3 {
			again := e
			again.ID = uuid.NewString()
			tx := f.tx(again, hash)
			if k == 2 {
				tx.OTPHash = []byte("wrong")
			} else if n%2 == 0 {
				tx.IdempotencyKey, tx.RequestHash = fmt.Sprintf("key-%d", n), []byte(fmt.Sprintf("body-%d", n))
			}
			tries = append(tries, try{runner: n, tx: tx, right: k < 2})
		}
	}
	type answer struct {
		out registration.ApplyOutcome
		err error
	}
	answers := make([]answer, len(tries))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 96)
	// Interleave runners so one person's tries race each other.
	for i := range tries {
		j := (i%3)*runners + i/3
		if j >= len(tries) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, err := f.store.Apply(context.Background(), tries[j].tx)
			answers[j] = answer{out, err}
		}()
	}
	wg.Wait()

	acked := map[int]map[string]bool{} // runner → entry ids acknowledged
	for i, tr := range tries {
		a := answers[i]
		switch {
		case !tr.right:
			wantError(t, a.err, lottery.CodeInvalidOTP, "otp", "the code is wrong")
		case a.err == nil:
			if acked[tr.runner] == nil {
				acked[tr.runner] = map[string]bool{}
			}
			acked[tr.runner][a.out.EntryID] = true
			if a.out.Replayed && tr.tx.IdempotencyKey == "" {
				t.Errorf("runner %d: a replay without a key", tr.runner)
			}
		default:
			var e *lottery.Error
			if !errors.As(a.err, &e) || e.Code != lottery.CodeDuplicateEntry || tr.tx.IdempotencyKey != "" {
				t.Errorf("runner %d (key %q): %v, want a duplicate (or a replay with a key)", tr.runner, tr.tx.IdempotencyKey, a.err)
			}
		}
	}
	for n := 1; n <= runners; n++ {
		if len(acked[n]) != 1 {
			t.Errorf("runner %d: acknowledged entries %v, want exactly one", n, acked[n])
		}
		for id := range acked[n] {
			if got := f.count(t, `SELECT count(*) FROM entries WHERE id = ?`, id); got != 1 {
				t.Errorf("runner %d: acknowledged entry %s not stored", n, id)
			}
		}
	}
	if n := f.count(t, `SELECT count(*) FROM entries`); n != runners {
		t.Errorf("%d entries, want %d", n, runners)
	}
	if batches, members := f.store.ApplyBatchStats(); members != int64(len(tries)) {
		t.Errorf("%d applications went through the batcher, want %d", members, len(tries))
	} else {
		t.Logf("%d applications in %d batch statements", members, batches)
	}
	// Each code: the consuming try and the wrong try counted.
	if n := f.count(t, `SELECT count(*) FROM otp_codes WHERE attempts = 2 AND used_by IS NOT NULL`); n != runners {
		t.Errorf("%d codes with 2 attempts and used, want %d", n, runners)
	}
}
