package registration

import (
	"testing"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery"
)

func TestTransferRecipientStatus(t *testing.T) {
	for _, tt := range []struct {
		d        antibot.Decision
		want     lottery.EntryStatus
		wantCode string
	}{
		{antibot.Accept, lottery.EntryOffered, ""},
		{antibot.Review, lottery.EntryInReview, ""},
		{antibot.Reject, "", lottery.CodeForbidden},
		{"", "", lottery.CodeForbidden},
	} {
		t.Run(string(tt.d), func(t *testing.T) {
			got, err := TransferRecipientStatus(tt.d)
			code := ""
			if err != nil {
				code = lottery.CodeOf(err)
			}
			if got != tt.want || code != tt.wantCode {
				t.Errorf("TransferRecipientStatus(%q) = %q, %v; want %q, %q", tt.d, got, err, tt.want, tt.wantCode)
			}
		})
	}
}
