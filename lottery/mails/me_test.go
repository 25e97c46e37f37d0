package mails_test

import (
	"strings"
	"testing"

	"github.com/startline/startline/lottery/mails"
)

// TestMeCodeRenders: the "my entries" code mail renders in both languages
// with the code and its validity.
func TestMeCodeRenders(t *testing.T) {
	for _, tc := range []struct{ lang, subject, body string }{{"en", "Your Startline code", "is 123456.\nIt is valid for 10 minutes"},
		{"ko", "인증 코드", "코드는 123456 입니다.\n10분 동안"}} {
		m, err := mails.Render(mails.MeCode, tc.lang, mails.MeCodeData{Code: "123456", Minutes: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Subject, tc.subject) || !strings.Contains(m.Subject, "123456") ||
			!strings.Contains(m.Body, tc.body) || !strings.Contains(m.HTML, "123456") {
			t.Errorf("%s: %+v", tc.lang, m)
		}
	}
}
