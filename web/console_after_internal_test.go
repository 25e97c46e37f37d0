package web

import (
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

func TestReadAfterTerms(t *testing.T) {
	ev := lottery.Event{TimeZone: "Asia/Seoul"}
	seoul := ev.Location()
	at := time.Date(2030, 1, 2, 9, 0, 0, 0, seoul)
	for _, tt := range []struct {
		name      string
		in        afterTransferForm
		wantField string
		wantMax   int
		wantFee   int64
		deadline  *time.Time
	}{
		{"open-ended", afterTransferForm{"", "3", "500"}, "", 3, 500, nil},
		{"with a deadline", afterTransferForm{"2030-01-02T09:00", " 0 ", "0"}, "", 0, 0, &at},
		{"bad deadline", afterTransferForm{"2030-13-02T09:00", "3", "0"}, "transfer_deadline", 0, 0, nil},
		{"negative max", afterTransferForm{"", "-1", "0"}, "transfer_max", 0, 0, nil},
		{"max too big", afterTransferForm{"", "1000001", "0"}, "transfer_max", 0, 0, nil},
		{"blank max", afterTransferForm{"", "", "0"}, "transfer_max", 0, 0, nil},
		{"fraction fee", afterTransferForm{"", "1", "1.5"}, "transfer_fee", 0, 0, nil},
	} {
		t.Run("transfer/"+tt.name, func(t *testing.T) {
			p, err := readTransferTerms(tt.in, ev)
			if got := fieldOf(err); got != tt.wantField {
				t.Fatalf("field %q (%v), want %q", got, err, tt.wantField)
			}
			if err != nil {
				return
			}
			if p.Max != tt.wantMax || p.FeeMinor != tt.wantFee || (p.Deadline == nil) != (tt.deadline == nil) ||
				p.Deadline != nil && !p.Deadline.Equal(*tt.deadline) {
				t.Errorf("got %+v, want max %d fee %d deadline %v", p, tt.wantMax, tt.wantFee, tt.deadline)
			}
		})
	}
	for _, tt := range []struct {
		name      string
		in        afterDeferralForm
		wantField string
	}{
		{"ok", afterDeferralForm{"2030-01-02T09:00", "1000", "0"}, ""},
		{"no deadline", afterDeferralForm{"", "1000", "0"}, "deferral_deadline"},
		{"negative fee", afterDeferralForm{"2030-01-02T09:00", "-5", "0"}, "deferral_fee"},
		{"cap too big", afterDeferralForm{"2030-01-02T09:00", "0", "1000001"}, "deferral_cap"},
	} {
		t.Run("deferral/"+tt.name, func(t *testing.T) {
			d, err := readDeferralTerms(tt.in, ev)
			if got := fieldOf(err); got != tt.wantField {
				t.Fatalf("field %q (%v), want %q", got, err, tt.wantField)
			}
			if err == nil && !d.Deadline.Equal(at) {
				t.Errorf("deadline %v, want %v", d.Deadline, at)
			}
		})
	}
}

func fieldOf(err error) string {
	if e, ok := err.(*lottery.Error); ok {
		return e.Field
	}
	return ""
}
