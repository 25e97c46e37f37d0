package offers

import (
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

func TestTransferable(t *testing.T) {
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Second)
	ok := TransferAsk{Offer: lottery.OfferPaid, Entry: lottery.EntryConfirmed, FromKey: "a@x.kr", ToKey: "b@x.kr", PriceMinor: 50000}
	open := TransferPolicy{Deadline: &later, Max: 2, FeeMinor: 5000}
	cases := []struct {
		name string
		p    TransferPolicy
		a    func(TransferAsk) TransferAsk
		code string
	}{
		{"allowed", open, nil, ""},
		{"no deadline", TransferPolicy{Max: 1}, nil, ""},
		{"fee equal to price", TransferPolicy{Max: 1, FeeMinor: 50000}, nil, ""},
		{"accepted, not paid", open, func(a TransferAsk) TransferAsk { a.Offer = lottery.OfferAccepted; return a }, lottery.CodeNoSlotHeld},
		{"transferred already", open, func(a TransferAsk) TransferAsk { a.Entry = lottery.EntryTransferred; return a }, lottery.CodeNoSlotHeld},
		{"withdrawn", open, func(a TransferAsk) TransferAsk { a.Entry = lottery.EntryWithdrawn; return a }, lottery.CodeNoSlotHeld},
		{"bib picked up", open, func(a TransferAsk) TransferAsk { a.PickedUp = true; return a }, lottery.CodeInvalidTransition},
		{"event allows none", TransferPolicy{Deadline: &later}, nil, lottery.CodeInvalidTransition},
		{"deadline passed", TransferPolicy{Deadline: &earlier, Max: 2}, nil, lottery.CodeInvalidTransition},
		{"deadline is now", TransferPolicy{Deadline: &now, Max: 2}, nil, lottery.CodeInvalidTransition},
		{"count used up", open, func(a TransferAsk) TransferAsk { a.Used = 2; return a }, lottery.CodeConflict},
		{"self", open, func(a TransferAsk) TransferAsk { a.ToKey = a.FromKey; return a }, lottery.CodeInvalidField},
		{"fee above price", TransferPolicy{Max: 1, FeeMinor: 50001}, nil, lottery.CodeInvalidTransition},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := ok
			if c.a != nil {
				a = c.a(a)
			}
			err := Transferable(c.p, a, now)
			if got := codeOrEmpty(err); got != c.code {
				t.Fatalf("Transferable = %v (%q), want %q", err, got, c.code)
			}
		})
	}
}

func codeOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return lottery.CodeOf(err)
}

func TestTransferHeld(t *testing.T) {
	cases := []struct {
		offer    lottery.OfferStatus
		entry    lottery.EntryStatus
		pickedUp bool
		code     string
	}{
		{lottery.OfferPaid, lottery.EntryConfirmed, false, ""},
		{lottery.OfferPaid, lottery.EntryConfirmed, true, lottery.CodeInvalidTransition},
		{lottery.OfferVoid, lottery.EntryWithdrawn, false, lottery.CodeNoSlotHeld},
		{lottery.OfferVoid, lottery.EntryTransferred, false, lottery.CodeNoSlotHeld},
		{lottery.OfferPaid, lottery.EntryDeferred, false, lottery.CodeNoSlotHeld},
	}
	for _, c := range cases {
		if got := codeOrEmpty(TransferHeld(c.offer, c.entry, c.pickedUp)); got != c.code {
			t.Errorf("TransferHeld(%s, %s, %v) = %q, want %q", c.offer, c.entry, c.pickedUp, got, c.code)
		}
	}
}

func TestTransferExpiryAndRefund(t *testing.T) {
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	soon := now.Add(5 * time.Hour)
	if got := TransferExpiry(TransferPolicy{Max: 1}, now); !got.Equal(now.Add(72 * time.Hour)) {
		t.Errorf("no deadline: %v", got)
	}
	if got := TransferExpiry(TransferPolicy{Max: 1, Deadline: &soon}, now); !got.Equal(soon) {
		t.Errorf("deadline first: %v", got)
	}
	for _, c := range []struct{ price, fee, want int64 }{{50000, 5000, 45000}, {50000, 0, 50000}, {50000, 50000, 0}, {100, 200, 0}} {
		if got := TransferRefund(c.price, c.fee); got != c.want {
			t.Errorf("TransferRefund(%d, %d) = %d, want %d", c.price, c.fee, got, c.want)
		}
	}
}
