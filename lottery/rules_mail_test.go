package lottery_test

import (
	"testing"

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
