package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestDeferPages: a confirmed entry of an event in a series that allows
// deferral shows "Defer to next year" with the fee and deadline (English
// and Korean); the confirmation step carries the button; a cross-site post
// is refused; the post defers and the status page says so; an unconfirmed
// entry's step is a 409 and a wrong token a 404.
func TestDeferPages(t *testing.T) {
	s, clk, sel := drawnSite(t, siteOptions{}, 12, 4)
	entry, pending := sel[0], sel[1]
	db := s.store.DB()
	for _, q := range []string{
		`INSERT INTO series (slug, name, org_id) SELECT 'spring-series', 'Spring', org_id FROM events WHERE slug = 'spring'`,
		`UPDATE events SET series_id = (SELECT id FROM series WHERE slug = 'spring-series') WHERE slug = 'spring'`,
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	db.Exec(`INSERT INTO event_deferral_settings (event_id, deadline, fee_minor, cap) SELECT id, ?, 20000, 5 FROM events WHERE slug = 'spring'`,
		clk.Now().Add(48*time.Hour))
	// The runner paid (the pay pages have their own tests).
	db.Exec(`UPDATE offers SET status = 'paid' WHERE entry_id = ?`, entry)
	db.Exec(`UPDATE entries SET status = 'confirmed' WHERE id = ?`, entry)

	tok := url.QueryEscape(s.receipt(entry))
	status := "/entries/" + entry + "?token=" + tok
	for _, tt := range []struct{ lang, want string }{
		{"en", "Deferral fee: ₩20,000"},
		{"ko", "연기 수수료: ₩20,000"},
	} {
		_, body, _ := s.get(status, "Cookie", "sl_lang="+tt.lang)
		if !strings.Contains(body, `id="defer"`) || !strings.Contains(body, tt.want) || !strings.Contains(body, "/entries/"+entry+"/defer?token=") {
			t.Fatalf("%s status page defer section: %.3000s", tt.lang, body)
		}
	}
	confirm := "/entries/" + entry + "/defer?token=" + tok
	if code, page, _ := s.get(confirm); code != 200 || !strings.Contains(page, "data-confirm-defer") || !strings.Contains(page, "Defer your place to next year?") {
		t.Fatalf("confirmation: %d %.2000s", code, page)
	}
	if _, ko, _ := s.get(confirm, "Cookie", "sl_lang=ko"); !strings.Contains(ko, "네, 내년으로 연기합니다") {
		t.Errorf("Korean confirmation: %.2000s", ko)
	}
	if code, _, _ := s.get("/entries/" + pending + "/defer?token=" + url.QueryEscape(s.receipt(pending))); code != http.StatusConflict {
		t.Errorf("unconfirmed entry's confirmation: %d, want 409", code)
	}
	if code, _, _ := s.get("/entries/" + entry + "/defer?token=wrong"); code != http.StatusNotFound {
		t.Errorf("wrong token: %d, want 404", code)
	}

	post := url.Values{"token": {s.receipt(entry)}}
	res, _ := s.send("POST", "/entries/"+entry+"/defer", "application/x-www-form-urlencoded", []byte(post.Encode()),
		http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if res.StatusCode != http.StatusForbidden || s.standing(entry).Entry != "confirmed" {
		t.Fatalf("cross-site defer: %d, entry %s", res.StatusCode, s.standing(entry).Entry)
	}
	res, _ = s.send("POST", "/entries/"+entry+"/defer", "application/x-www-form-urlencoded", []byte(post.Encode()),
		http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/entries/"+entry+"?token=") {
		t.Fatalf("defer: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if st := s.standing(entry); st.Entry != "deferred" {
		t.Errorf("after deferring: %+v", st)
	}
	_, body, _ := s.get(status)
	if !strings.Contains(body, "data-deferred") || !strings.Contains(body, "A place is held for you there") {
		t.Errorf("status page after deferring: %.3000s", body)
	}
	if _, ko, _ := s.get(status, "Cookie", "sl_lang=ko"); !strings.Contains(ko, "연기됨") {
		t.Errorf("Korean status after deferring lacks the status: %.3000s", ko)
	}
}
