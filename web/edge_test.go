package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/startline/startline/lottery"
)

// sendRaw is a raw request: the body and headers go out exactly as given
// (the test browser would set its own user agent).
func (s *site) sendRaw(method, path, body string, header ...string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestPagesRefuseBadInput: what the JSON API refuses at the edge, the
// pages refuse too, with a page and a 4xx, never a 500 (ISSUE10 items 3, 11).
func TestPagesRefuseBadInput(t *testing.T) {
	s := newSite(t, true)
	ctx := context.Background()
	code := s.enrol("", "rev@example.com", lottery.RoleReviewer)
	sess, err := s.staff.Login(ctx, "rev@example.com", "correct horse battery staple", code, lottery.ClientInfo{IP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	staff := "sl_staff=" + sess.Token
	longUA := strings.Repeat("a", 511) + "é" + strings.Repeat("b", 40)
	codeForm := func(email string) string {
		return url.Values{"subqueue": {"half:open"}, "name": {"Kim Minjun"}, "email": {email}, "phone": {"010-1234-5678"},
			"birth_date": {"1990-04-01"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}}.Encode()
	}

	tests := []struct {
		name         string
		method, path string
		body         string
		header       []string
		status       int
		contains     string
	}{
		{"NUL slug", "GET", "/events/%00", "", nil, 404, "does not exist"},
		{"NUL slug in the results", "GET", "/events/%00/results", "", nil, 404, "does not exist"},
		{"NUL entry id in find my entry", "GET", "/events/spring/results?entry=%00", "", nil, 422, ""},
		{"NUL in the artifact to verify", "GET", "/verify?artifact=/a%00", "", nil, 422, ""},
		{"another site's artifact to verify", "GET", "/verify?artifact=//evil.example/a.json", "", nil, 422, "Only files published on this site"},
		{"NUL slug in the code step", "POST", "/events/%00/apply/code", codeForm("a@example.com"), nil, 404, "does not exist"},
		{"non-UTF-8 slug", "GET", "/events/%FF/queue", "", nil, 404, "does not exist"},
		{"non-UUID entry", "GET", "/entries/zzz?token=x", "", nil, 404, "does not exist"},
		{"non-UUID review entry", "GET", "/review/entries/zzz", "", []string{"Cookie", staff}, 404, "does not exist"},
		{"cluster=abc", "GET", "/review?event=spring&cluster=abc", "", []string{"Cookie", staff}, 422, ""},
		{"NUL event in the review query", "GET", "/review?event=%00", "", []string{"Cookie", staff}, 422, ""},
		{"NUL in a query value", "GET", "/events/spring/apply?subqueue=half:open&who=%00", "", nil, 422, ""},
		{"raw %FF in the login e-mail", "POST", "/staff/login", "email=rev%FF%40example.com&password=x&otp=123456", nil, 422, "(E-mail address)"},
		{"NUL in the login e-mail", "POST", "/staff/login", "email=rev%00%40example.com&password=x&otp=123456", nil, 422, "(E-mail address)"},
		{"raw %FF in the code step", "POST", "/events/spring/apply/code", codeForm("a@example.com") + "&name=%FF", nil, 422, "(Full name)"},
		{"long user agent in the code step", "POST", "/events/spring/apply/code", codeForm("ua@example.com"), []string{"User-Agent", longUA}, 200, `name="otp"`},
		{"static file", "GET", "/static/style.css", "", nil, 200, ""},
		{"static directory", "GET", "/static/", "", nil, 404, "does not exist"},
	}
	_, page := s.sendRaw("GET", "/review?event=spring", "", "Cookie", staff)
	csrf := csrfRe.FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("no CSRF token on the queue page: %.400s", page)
	}
	tests = append(tests, struct {
		name         string
		method, path string
		body         string
		header       []string
		status       int
		contains     string
	}{"non-UUID review decision", "POST", "/review/entries/zzz/decision", "decision=approve&csrf=" + url.QueryEscape(csrf[1]),
		[]string{"Cookie", staff}, 404, ""}) // the not-found page, as for another organization's entry
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := s.sendRaw(tt.method, tt.path, tt.body, tt.header...)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Fatalf("%d, want %d with %q: %.400s", status, tt.status, tt.contains, body)
			}
		})
	}

	// Signals the page script sent with a NUL, a lone surrogate and a
	// fingerprint cut inside a character are stored as valid text.
	receipt := s.applyViaForm("2002@example.com", `{"fill_ms":42000,"platform":"\u0000","languages":["\ud800"],"fingerprint":"`+
		strings.Repeat("f", 127)+`é"}`)
	if !strings.HasPrefix(receipt, "/entries/") {
		t.Fatalf("receipt %q", receipt)
	}
	var stored struct{ Signals, Fingerprint, UserAgent string }
	s.store.DB().Raw(`SELECT signals::text AS signals, fingerprint, user_agent FROM entries WHERE email = '2002@example.com'`).Scan(&stored)
	if !utf8.ValidString(stored.Signals) || strings.Contains(stored.Signals, `\u0000`) || stored.Fingerprint != strings.Repeat("f", 127) {
		t.Errorf("stored %+v", stored)
	}
	var ua string
	s.store.DB().Raw(`SELECT user_agent FROM otp_requests WHERE user_agent LIKE 'aaaa%'`).Scan(&ua)
	if ua != strings.Repeat("a", 511) {
		t.Errorf("code request's user agent cut to %d bytes, want the 511 before the character", len(ua))
	}
}
