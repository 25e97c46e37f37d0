package lottery_test

import (
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// TestOfferTxHoldOf: one event's change uses its hold; the reconciler's
// per-event holds fall back to the default for an event it did not load.
func TestOfferTxHoldOf(t *testing.T) {
	tests := []struct {
		name  string
		tx    lottery.OfferTx
		event int64
		want  time.Duration
	}{
		{"one event", lottery.OfferTx{Hold: time.Hour}, 7, time.Hour},
		{"one event, zero hold", lottery.OfferTx{}, 7, 0},
		{"reconciler, loaded event", lottery.OfferTx{Hold: time.Hour, Holds: map[int64]time.Duration{7: 3 * time.Hour}}, 7, 3 * time.Hour},
		{"reconciler, event not loaded", lottery.OfferTx{Holds: map[int64]time.Duration{7: 3 * time.Hour}}, 8, lottery.DefaultOfferHold},
		{"reconciler, nothing loaded", lottery.OfferTx{Holds: map[int64]time.Duration{}}, 8, lottery.DefaultOfferHold},
	}
	for _, tt := range tests {
		if got := tt.tx.HoldOf(tt.event); got != tt.want {
			t.Errorf("%s: HoldOf(%d) = %s, want %s", tt.name, tt.event, got, tt.want)
		}
	}
}
