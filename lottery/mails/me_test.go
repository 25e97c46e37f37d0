package mails_test

import (
	"strings"
	"testing"

	"github.com/startline/startline/lottery/mails"
)

// TestMeCodeRenders: the "my entries" code mail renders in both languages
// with the code and its validity.
func TestMeCodeRenders(t *testing.T) {
	for _, tc := range []struct{ lang, subject string }{{"en", "Your Startline code"}, {"ko", "인증 코드"}} {
		m, err := mails.Render(mails.MeCode, tc.lang, mails.MeCodeData{Code: "123456", Minutes: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Subject, tc.subject) || !strings.Contains(m.Subject, "123456") ||
			!strings.Contains(m.Body, "is 123456.") || !strings.Contains(m.Body, "10분") {
			t.Errorf("%s: %+v", tc.lang, m)
		}
	}
}
