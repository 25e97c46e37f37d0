package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/lottery"
)

// TestConsoleRefusesCrossSiteForms: the console's forms carry a CSRF token;
// a form posted from another site's page is refused even with the token,
// and a login form posted from another site is refused outright.
func TestConsoleRefusesCrossSiteForms(t *testing.T) {
	s := newSite(t, true)
	ctx := context.Background()
	const password = "correct horse battery staple"
	enr, err := s.staff.Add(ctx, "rev@example.com", lottery.RoleReviewer, password)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	receipt := s.applyViaForm("2002@example.com", `{"webdriver":true,"fill_ms":30000}`)
	id := strings.TrimPrefix(strings.Split(receipt, "?")[0], "/entries/")

	send := func(path string, form url.Values, headers ...string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", s.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	code, _ := totp.GenerateCode(key.Secret(), time.Now())
	login := url.Values{"email": {"rev@example.com"}, "password": {password}, "otp": {code}}
	if got := send("/staff/login", login, "Origin", "https://evil.example"); got != http.StatusForbidden {
		t.Errorf("login form from another site: %d, want 403", got)
	}
	sess, err := s.staff.Login(ctx, "rev@example.com", password, code, lottery.ClientInfo{IP: "127.0.0.1", UserAgent: "Mozilla/5.0"})
	if err != nil {
		t.Fatal(err)
	}
	cookie := "sl_staff=" + sess.Token
	_, body, _ := s.get("/review/entries/"+id, "Cookie", cookie)
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field on the entry page:\n%s", body)
	}
	decision := url.Values{"decision": {"reject"}, "note": {"bot"}, "csrf": {m[1]}, "event": {"spring"}}
	for name, h := range map[string][]string{
		"evil Origin":               {"Origin", "https://evil.example"},
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site", "same-site"},
	} {
		if got := send("/review/entries/"+id+"/decision", decision, append([]string{"Cookie", cookie}, h...)...); got != http.StatusForbidden {
			t.Errorf("decision form, %s: %d, want 403", name, got)
		}
	}
	if v, _ := s.reg.EntryStatus(ctx, id, strings.Split(receipt, "token=")[1][:32]); v.Entry.Status != lottery.EntryInReview {
		t.Fatalf("a cross-site form changed the entry: %s", v.Entry.Status)
	}
	if got := send("/review/entries/"+id+"/decision", decision, "Cookie", cookie, "Origin", s.srv.URL,
		"Sec-Fetch-Site", "same-origin"); got != http.StatusSeeOther {
		t.Errorf("the console's own form: %d, want 303", got)
	}
	if v, _ := s.reg.EntryStatus(ctx, id, strings.Split(receipt, "token=")[1][:32]); v.Entry.Status != lottery.EntryRejected {
		t.Errorf("after the console's decision: %s", v.Entry.Status)
	}
}

// TestConsoleLoginRemembersDevice: the login form gives the browser its
// device cookie, and signing in through the form makes that device known to
// the account (its logins then have a budget strangers cannot spend).
func TestConsoleLoginRemembersDevice(t *testing.T) {
	s := newSite(t, true)
	ctx := context.Background()
	const password = "correct horse battery staple"
	enr, err := s.staff.Add(ctx, "rev@example.com", lottery.RoleReviewer, password)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	_, _, hdr := s.get("/staff/login")
	var device *http.Cookie
	for _, c := range (&http.Response{Header: hdr}).Cookies() {
		if c.Name == "sl_device" {
			device = c
		}
	}
	if device == nil {
		t.Fatalf("the login form set no device cookie: %v", hdr)
	}
	code, _ := totp.GenerateCode(key.Secret(), time.Now())
	form := url.Values{"email": {"rev@example.com"}, "password": {password}, "otp": {code}}
	req, _ := http.NewRequest("POST", s.srv.URL+"/staff/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(device)
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	id, _, _ := strings.Cut(device.Value, ".")
	if known, err := s.staff.DeviceKnown(ctx, "rev@example.com", id); err != nil || !known {
		t.Errorf("device known after the console login: %v %v", known, err)
	}
}
