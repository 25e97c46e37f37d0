package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/startline/startline/lottery"
)

// TestStaffLoginReusedCodeMessage (issue 14, i14-login): a TOTP code that
// already signed in is refused on the login page with a message that says
// so, in English and in Korean.
func TestStaffLoginReusedCodeMessage(t *testing.T) {
	s := newSite(t, true)
	code := s.enrol("", "rev@example.com", lottery.RoleReviewer)
	form := url.Values{"email": {"rev@example.com"}, "password": {"correct horse battery staple"}, "otp": {code}}
	if status, _, _ := s.postLang("/staff/login", form, "en"); status != http.StatusSeeOther {
		t.Fatalf("first login: %d", status)
	}
	for lang, want := range map[string]string{"en": "This code was already used; wait for the next one.",
		"ko": "이미 사용한 코드입니다. 다음 코드가 나올 때까지 기다리세요."} {
		status, body, _ := s.postLang("/staff/login", form, lang)
		if status != http.StatusUnauthorized || !strings.Contains(body, want) {
			t.Errorf("%s: reused code: %d, want 401 with %q in\n%s", lang, status, want, body)
		}
	}
}
