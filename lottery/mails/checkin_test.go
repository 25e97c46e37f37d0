package mails_test

import (
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery/mails"
)

// TestPaidMailCheckinCode: the paid mail carries the check-in code and its
// QR link (clickable in the HTML part) when given one, in both languages,
// and says nothing of check-in without.
func TestPaidMailCheckinCode(t *testing.T) {
	d := mails.EntryData{Event: "Spring", Name: "Kim", SubQueue: "Half · Open", Link: "https://run.example/entries/x?token=t",
		At: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC), CheckinCode: "1ABCD", CheckinQR: "https://run.example/entries/x/checkin.png?token=t"}
	for lang, word := range map[string]string{"en": "Race-day check-in code: 1ABCD", "ko": "대회 당일 체크인 코드: 1ABCD"} {
		m, err := mails.Render(mails.OfferPaid, lang, d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Body, word) || !strings.Contains(m.Body, d.CheckinQR) || !strings.Contains(m.HTML, `<a href="https://run.example/entries/x/checkin.png?token=t">`) {
			t.Errorf("%s paid mail:\n%s\n%s", lang, m.Body, m.HTML)
		}
		d2 := d
		d2.CheckinCode, d2.CheckinQR = "", ""
		if m, _ := mails.Render(mails.OfferPaid, lang, d2); strings.Contains(m.Body, "1ABCD") || strings.Contains(m.Body, "checkin.png") || strings.Contains(m.Body, "\n\n\n") {
			t.Errorf("%s paid mail without a code:\n%s", lang, m.Body)
		}
	}
}
