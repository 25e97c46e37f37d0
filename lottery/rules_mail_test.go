package lottery_test

import (
	"testing"
	"time"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery"
)

func TestRejectionCategory(t *testing.T) {
	r := func(codes ...string) []antibot.Reason {
		var out []antibot.Reason
		for _, c := range codes {
			out = append(out, antibot.Reason{Code: c, Detail: "detail never shown"})
		}
		return out
	}
	tests := []struct {
		name    string
		reasons []antibot.Reason
		want    string
	}{
		{"none", nil, lottery.RejectOther},
		{"unknown code", r("something_new"), lottery.RejectOther},
		{"webdriver", r("webdriver"), lottery.RejectAutomated},
		{"cluster", r("linked_cluster"), lottery.RejectLinked},
		{"vpn", r("hosting_network"), lottery.RejectNetwork},
		{"disposable", r("disposable_email"), lottery.RejectEmail},
		{"claim", r("ticket_claim"), lottery.RejectClaim},
		{"automated wins over network", r("hosting_network", "fast_fill"), lottery.RejectAutomated},
		{"linked wins over claim", r("ticket_claim", "linked_cluster"), lottery.RejectLinked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lottery.RejectionCategory(tt.reasons); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReminderLead(t *testing.T) {
	for _, tt := range []struct{ hold, want time.Duration }{
		{48 * time.Hour, 12 * time.Hour},
		{2 * time.Hour, 30 * time.Minute},
		{96 * time.Hour, 24 * time.Hour},
		{720 * time.Hour, 24 * time.Hour},
		{time.Minute, 15 * time.Second},
	} {
		if got := lottery.ReminderLead(tt.hold); got != tt.want {
			t.Errorf("ReminderLead(%s) = %s, want %s", tt.hold, got, tt.want)
		}
	}
}
