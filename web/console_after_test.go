package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/startline/startline/lottery"
)

// TestConsoleAfterDraw: the "After the draw" tab shows the event's
// transfer and deferral terms and their counts to its organizer only;
// each form refuses bad input beside the field with what was typed kept
// (in Korean too), saves good input through the services the API uses
// (audited), and needs the session's CSRF token.
func TestConsoleAfterDraw(t *testing.T) {
	s := newSite(t, true)
	cookie := s.staffLogin("boss@example.com", lottery.RoleOrganizer)
	const page = "/admin/events/spring/after"

	if code, _, hdr := s.get(page); code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), "/staff/login") {
		t.Errorf("anonymous: %d %v", code, hdr)
	}
	if code, _, _ := s.get(page, "Cookie", s.staffLogin("rev@example.com", lottery.RoleReviewer)); code != http.StatusForbidden {
		t.Errorf("reviewer: %d, want 403", code)
	}
	if code, _, _ := s.get("/admin/events/nope/after", "Cookie", cookie); code != http.StatusNotFound {
		t.Errorf("unknown event: %d, want 404", code)
	}
	code, body, _ := s.get(page, "Cookie", cookie)
	if code != 200 || !strings.Contains(body, `id="count-transfers-done">0<`) || !strings.Contains(body, `id="count-deferrals-held">0<`) ||
		!strings.Contains(body, `name="transfer_max" type="number" value="0"`) || !strings.Contains(body, `aria-current="page">After the draw`) {
		t.Fatalf("tab: %d %s", code, body)
	}
	csrf := csrfRe.FindStringSubmatch(body)[1]

	if code, _ := s.postWith(page+"/transfers", url.Values{"transfer_max": {"3"}}, "Cookie", cookie); code != http.StatusForbidden {
		t.Errorf("without csrf: %d, want 403", code)
	}
	for _, tc := range []struct {
		name, path string
		form       url.Values
		field      string
		want       string
		lang       string
	}{
		{"negative max", "/transfers", url.Values{"transfer_deadline": {""}, "transfer_max": {"-1"}, "transfer_fee": {"500"}},
			"transfer_max", "Give a whole number from 0 to 1,000,000.", "en"},
		{"bad fee", "/transfers", url.Values{"transfer_deadline": {"2030-01-02T09:00"}, "transfer_max": {"5"}, "transfer_fee": {"abc"}},
			"transfer_fee", "Give a whole number from 0", "en"},
		{"bad time", "/transfers", url.Values{"transfer_deadline": {"tomorrow"}, "transfer_max": {"5"}, "transfer_fee": {"0"}},
			"transfer_deadline", "날짜와 시각을 입력하거나 비워 두세요.", "ko"},
		{"no deferral deadline", "/deferral", url.Values{"deferral_deadline": {""}, "deferral_fee": {"1000"}, "deferral_cap": {"2"}},
			"deferral_deadline", "Give a date and time.", "en"},
		{"cap too big", "/deferral", url.Values{"deferral_deadline": {"2030-01-02T09:00"}, "deferral_fee": {"1000"}, "deferral_cap": {"2000000"}},
			"deferral_cap", "0(제한 없음)부터 1,000,000까지", "ko"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", csrf)
			code, body, _ := s.postForm(page+tc.path+"?lang="+tc.lang, tc.form, "Cookie", cookie)
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", code, body)
			}
			if !strings.Contains(body, `id="f-`+tc.field+`"`) || !strings.Contains(body, `id="e-`+tc.field+`"`) || !strings.Contains(body, tc.want) {
				t.Errorf("no error beside %s (%q): %s", tc.field, tc.want, body)
			}
			for k, v := range tc.form {
				if k != "csrf" && !strings.Contains(body, `name="`+k+`" type=`) || v[0] != "" && !strings.Contains(body, `value="`+v[0]+`"`) {
					t.Errorf("input %s=%q not kept", k, v[0])
				}
			}
		})
	}

	code, _, hdr := s.postForm(page+"/transfers", url.Values{"csrf": {csrf}, "transfer_deadline": {"2030-01-02T09:00"},
		"transfer_max": {"25"}, "transfer_fee": {"5000"}}, "Cookie", cookie)
	if code != http.StatusSeeOther || hdr.Get("Location") != page+"?done=transfers" {
		t.Fatalf("save transfers: %d %v", code, hdr)
	}
	code, _, hdr = s.postForm(page+"/deferral", url.Values{"csrf": {csrf}, "deferral_deadline": {"2030-01-01T18:30"},
		"deferral_fee": {"3000"}, "deferral_cap": {"4"}}, "Cookie", cookie)
	if code != http.StatusSeeOther || hdr.Get("Location") != page+"?done=deferral" {
		t.Fatalf("save deferral: %d %v", code, hdr)
	}
	_, body, _ = s.get(page+"?done=deferral", "Cookie", cookie)
	for _, want := range []string{`name="transfer_deadline" type="datetime-local" value="2030-01-02T09:00"`, `name="transfer_max" type="number" value="25"`,
		`name="transfer_fee" type="number" value="5000"`, `name="deferral_deadline" type="datetime-local" value="2030-01-01T18:30"`,
		`name="deferral_fee" type="number" value="3000"`, `name="deferral_cap" type="number" value="4"`, "Deferral terms saved.", "Time zone: Asia/Seoul."} {
		if !strings.Contains(body, want) {
			t.Errorf("saved tab lacks %q", want)
		}
	}
	_, audit, _ := s.get("/admin/events/spring/audit", "Cookie", cookie)
	for _, action := range []string{"event.transfer_policy", "event.deferral_settings"} {
		if !strings.Contains(audit, `data-action="`+action+`"`) {
			t.Errorf("audit log lacks %s", action)
		}
	}
}
