package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestMyEntriesLanguageSwitch: on every step of "my entries" the language
// switch shows the same step in the other language with what was typed:
// the address, the code step with the half-typed code (no new mail), and
// the list again without a new code (a view pass, never in a URL); a pass
// for another address, or a made-up one, starts again at the address.
func TestMyEntriesLanguageSwitch(t *testing.T) {
	s := newSite(t, true)
	const addr = "5003.switch@example.com"
	s.applyViaForm(addr, `{"webdriver":false,"fill_ms":42000,"timezone":"Asia/Seoul","languages":["ko-KR","en"]}`)

	// Step 1: the address typed, switched to Korean.
	code, body, _ := s.post("/me/lang", url.Values{"lang": {"ko"}, "step": {"email"}, "email": {addr}})
	if code != http.StatusOK || pageLang(t, body) != "ko" || !strings.Contains(body, `value="`+addr+`"`) || !strings.Contains(body, `action="/me/code"`) {
		t.Fatalf("switch on the address step: %d\n%s", code, body)
	}
	if !strings.Contains(body, `formaction="/me/lang"`) {
		t.Error("the page's switch does not re-post its form")
	}

	// Step 2: the code asked for, three digits typed, switched.
	if code, _, _ := s.post("/me/code", url.Values{"email": {addr}}); code != http.StatusOK {
		t.Fatalf("ask for a code: %d", code)
	}
	before, _ := s.store.OutboxFor(context.Background(), addr, 50)
	code, body, _ = s.post("/me/lang", url.Values{"lang": {"ko"}, "step": {"code"}, "email": {addr}, "otp": {"123"}})
	if code != http.StatusOK || pageLang(t, body) != "ko" || !strings.Contains(body, `name="otp" value="123"`) ||
		!strings.Contains(body, `action="/me/entries"`) {
		t.Fatalf("switch on the code step: %d\n%s", code, body)
	}
	if after, _ := s.store.OutboxFor(context.Background(), addr, 50); len(after) != len(before) {
		t.Errorf("the switch mailed %d messages", len(after)-len(before))
	}

	// Step 3: the list, then the switch shows it again without a code.
	msgs, _ := s.store.OutboxFor(context.Background(), addr, 1)
	m := codeRe.FindStringSubmatch(msgs[0].Body)
	if m == nil {
		t.Fatalf("no code in %q", msgs[0].Body)
	}
	code, body, _ = s.post("/me/entries", url.Values{"email": {addr}, "otp": {m[1]}})
	if code != http.StatusOK || !strings.Contains(body, "data-me-entry") {
		t.Fatalf("list: %d\n%s", code, body)
	}
	var pass string
	for _, h := range hiddenRe.FindAllStringSubmatch(body, -1) {
		if h[1] == "pass" {
			pass = h[2]
		}
	}
	if pass == "" {
		t.Fatal("the list has no view pass for its switch")
	}
	code, body, _ = s.post("/me/lang", url.Values{"lang": {"ko"}, "step": {"list"}, "email": {addr}, "pass": {pass}})
	if code != http.StatusOK || pageLang(t, body) != "ko" || !strings.Contains(body, "data-me-entry") || !strings.Contains(body, "내 신청") {
		t.Fatalf("switch on the list: %d\n%s", code, body)
	}
	for _, bad := range []url.Values{
		{"lang": {"en"}, "step": {"list"}, "email": {"someone.else@example.com"}, "pass": {pass}},
		{"lang": {"en"}, "step": {"list"}, "email": {addr}, "pass": {"made-up"}},
	} {
		code, body, _ = s.post("/me/lang", bad)
		if code != http.StatusOK || strings.Contains(body, "data-me-entry") || !strings.Contains(body, `action="/me/code"`) {
			t.Errorf("a pass for %s shows: %d\n%s", bad.Get("email"), code, body)
		}
	}
}
