package lottery_test

import (
	"context"
	"strings"
	"testing"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

// TestPaidMailCarriesCheckinCode: with check-in codes in use the paid mail
// carries the entry's code and the token-guarded link to its QR image.
func TestPaidMailCarriesCheckinCode(t *testing.T) {
	keys, _ := lottery.NewKeys([]byte("render-test-secret-key-render-test-key"))
	ev := lottery.Event{ID: 3, Name: "Han River 10K", TimeZone: "Asia/Seoul", Currency: "krw",
		Courses: []lottery.Course{{Code: "10k", Name: "10 km", PaceGroups: []lottery.PaceGroup{{Code: "open", Label: "Open", Price: 50000}}}}}
	src := fakeIntents{entry: lottery.Entry{ID: "e1", EventID: 3, SubQueue: "10k:open", Name: "Kim Minji", Lang: "en",
		Status: lottery.EntryConfirmed}, event: ev}
	r := lottery.NewMailRenderer(src, keys, "https://run.example")
	r.UseCheckinCodes(func(id string) (string, error) { return "1CODE" + strings.ToUpper(id), nil })
	got, err := r.Render(context.Background(), lottery.Mail{Intent: mails.OfferPaid, EntryID: "e1"})
	if err != nil {
		t.Fatal(err)
	}
	link := "https://run.example/entries/e1/checkin.png?token=" + keys.ReceiptToken("e1")
	if !strings.Contains(got.Body, "Race-day check-in code: 1CODEE1") || !strings.Contains(got.Body, link) {
		t.Errorf("paid mail:\n%s", got.Body)
	}
}
