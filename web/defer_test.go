package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// deferSite is a drawn site whose spring race is an edition of a series
// and takes deferrals (₩20,000, for two days, five per pace group), with
// one confirmed entry and one still offered.
func deferSite(t *testing.T) (s *site, entry, pending string) {
	t.Helper()
	s, clk, sel := drawnSite(t, siteOptions{}, 12, 4)
	entry, pending = sel[0], sel[1]
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
	return s, entry, pending
}

// TestDeferPages: a confirmed entry of an event in a series that allows
// deferral shows "Defer to next year" with the fee and deadline (English
// and Korean); the confirmation step carries the button; a cross-site post
// is refused; the post defers and the status page says so; an unconfirmed
// entry's step is a 409 and a wrong token a 404.
func TestDeferPages(t *testing.T) {
	s, entry, pending := deferSite(t)
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
	// The fee: deferring goes on to its checkout; abandoned, the status
	// page shows the pending deferral with a pay button (the place kept).
	res, _ = s.send("POST", "/entries/"+entry+"/defer", "application/x-www-form-urlencoded", []byte(post.Encode()),
		http.Header{"Sec-Fetch-Site": {"same-origin"}})
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.Path, "/sandbox/checkout/sbx_") {
		t.Fatalf("defer: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if st := s.standing(entry); st.Entry != "confirmed" {
		t.Errorf("before paying the fee: %+v", st)
	}
	for _, tt := range []struct{ lang, want string }{
		{"en", "Your deferral waits for its fee of ₩20,000."},
		{"ko", "연기 수수료 ₩20,000 결제를 기다리고 있습니다."},
	} {
		if _, body, _ := s.get(status, "Cookie", "sl_lang="+tt.lang); !strings.Contains(body, "data-defer-pending") ||
			!strings.Contains(body, tt.want) || !strings.Contains(body, "data-defer-pay") {
			t.Errorf("%s status page with the fee unpaid: %.3000s", tt.lang, body)
		}
	}
	res, _ = s.send("POST", "/entries/"+entry+"/defer/pay", "application/x-www-form-urlencoded", []byte(post.Encode()),
		http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if again, _ := url.Parse(res.Header.Get("Location")); res.StatusCode != http.StatusSeeOther || again.Path != loc.Path {
		t.Fatalf("pay button: %d %q, want the same checkout %s", res.StatusCode, res.Header.Get("Location"), loc.Path)
	}
	if res := s.outcome(loc.Path, "pay", s.checkoutForm(loc, nil), nil); res.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(res.Header.Get("Location"), "/entries/"+entry+"?token=") {
		t.Fatalf("fee checkout: %d %q", res.StatusCode, res.Header.Get("Location"))
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

// TestEventPageDeferredSlots: slots that runners deferred from the previous
// edition hold come off the pace group's capacity for the draw, and the
// event page's odds say so (English and Korean); the deferred runners'
// entries are not counted in the draw.
func TestEventPageDeferredSlots(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, false)
	db := s.store.DB()
	db.Exec("UPDATE subqueues SET capacity = 10 WHERE key = 'half:sub-130'")
	if _, err := s.store.InsertSyntheticLotteryEntries(ctx, "spring", 30); err != nil {
		t.Fatal(err)
	}
	// Three of the entries stand for runners deferred in (their deferrals
	// used here): the store's own path is TestDeferral's (api).
	for _, q := range []string{
		`INSERT INTO series (slug, name, org_id) SELECT 'spring-series', 'Spring', org_id FROM events WHERE slug = 'spring'`,
		`INSERT INTO deferrals (entry_id, from_event_id, series_id, subqueue_key, state, to_event_id, to_subqueue_id, to_entry_id)
			SELECT e.id, e.event_id, (SELECT id FROM series WHERE slug = 'spring-series'), q.key, 'used', e.event_id, q.id, e.id
			FROM entries e JOIN subqueues q ON q.id = e.subqueue_id WHERE q.key = 'half:sub-130' AND e.group_code = ''
			ORDER BY e.id LIMIT 3`,
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.stats.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ lang, want string }{
		{"en", "3 slots are held by runners who deferred from the previous edition; the draw gives out 7."},
		{"ko", "지난 회차에서 연기한 주자가 3자리를 갖고 있어 추첨 정원은 7입니다."},
	} {
		_, page, _ := s.get("/events/spring", "Cookie", "sl_lang="+tt.lang)
		if !strings.Contains(page, tt.want) || !strings.Contains(page, "<dd>7</dd>") || !strings.Contains(page, "<dd>27</dd>") {
			t.Errorf("%s event page: want %q, capacity 7 and 27 entries: %.4000s", tt.lang, tt.want, page)
		}
	}
}
