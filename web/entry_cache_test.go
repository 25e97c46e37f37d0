package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/internal/readcache"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/web"
)

// withViews gives d the read cache and its change feed on the test's
// database, as cmd/startline does (views.go): pages cached, every commit
// announced, a page's write waiting for its own process's feed.
func withViews(t *testing.T, dsn string, store *postgres.Store, d *web.Deps) {
	t.Helper()
	c := readcache.New(readcache.Config{})
	feed := postgres.NewViewFeed(dsn, store, slog.New(slog.NewTextHandler(io.Discard, nil)), c.Invalidate, c.Flush)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { feed.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done }) // before the database is dropped
	select {
	case <-feed.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("view feed never listened")
	}
	d.Views, d.ViewSync, d.ViewAnnounce = c, feed.Sync, feed.Announce
	if d.PageCacheTTL <= 0 {
		d.PageCacheTTL = time.Second // as cmd/startline
	}
}

// TestStatusPageCache (issue 16): a plain visit of the status page is
// rendered once per entry and language and then answered from the read
// cache, revalidates with its ETag, is personal (private, no-cache), never
// answers a wrong token, and shows the runner's own payment and give-back
// on the very next visit.
func TestStatusPageCache(t *testing.T) {
	s, _, sel := drawnSite(t, siteOptions{views: true}, 12, 4)
	entry, other := sel[0], sel[1]
	status := "/entries/" + entry + "?token=" + url.QueryEscape(s.receipt(entry))
	fills := func() uint64 { return s.views.Stats().Fills }
	if err := s.viewSync(context.Background()); err != nil { // the setup's own changes announced
		t.Fatal(err)
	}

	before := fills()
	code, en, h := s.get(status)
	etag := h.Get("ETag")
	if code != 200 || etag == "" || !strings.Contains(en, "data-offer-state") {
		t.Fatalf("status page: %d ETag %q %.1000s", code, etag, en)
	}
	for k, want := range map[string]string{"Cache-Control": readcache.Personal, "Vary": "Accept-Language, Cookie",
		"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Content-Type": "text/html; charset=utf-8"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s %q, want %q", k, got, want)
		}
	}
	if fills() != before+1 {
		t.Fatalf("first visit: %d fills, want 1", fills()-before)
	}
	if _, again, _ := s.get(status); again != en || fills() != before+1 {
		t.Errorf("second visit rendered again (%d fills) or differs", fills()-before)
	}
	if code, body, h := s.get(status, "If-None-Match", etag); code != http.StatusNotModified || body != "" || h.Get("ETag") != etag {
		t.Errorf("revalidation: %d, %d bytes, ETag %q", code, len(body), h.Get("ETag"))
	}

	// Korean: a page of its own, by Accept-Language, the cookie or ?lang=.
	_, ko, kh := s.get(status, "Accept-Language", "ko-KR")
	if ko == en || kh.Get("ETag") == etag || fills() != before+2 {
		t.Fatalf("Korean page: same as English %v, %d fills", ko == en, fills()-before)
	}
	if _, body, _ := s.get(status, "Cookie", "sl_lang=ko"); body != ko || fills() != before+2 {
		t.Errorf("Korean by cookie: same page %v, %d fills", body == ko, fills()-before)
	}
	_, body, lh := s.get(status + "&lang=ko")
	if body != ko || fills() != before+2 || !strings.Contains(lh.Get("Set-Cookie"), "sl_lang=ko") || lh.Get("Cache-Control") != readcache.Personal {
		t.Errorf("?lang=ko: same page %v, %d fills, Set-Cookie %q, Cache-Control %q", body == ko, fills()-before, lh.Get("Set-Cookie"), lh.Get("Cache-Control"))
	}

	// A wrong token, or another entry's, is a 404 and never the cached page.
	for _, tok := range []string{"wrong", s.receipt(other), ""} {
		code, body, _ := s.get("/entries/" + entry + "?token=" + url.QueryEscape(tok))
		if code != http.StatusNotFound || strings.Contains(body, "data-offer-state") {
			t.Errorf("token %q: %d", tok, code)
		}
	}
	// A visit with a flag renders as before: not cached, not from the cache.
	n := fills()
	if code, body, h := s.get(status + "&new=1"); code != 200 || h.Get("ETag") != "" || h.Get("Cache-Control") != "private, no-store" ||
		body == en || fills() != n {
		t.Errorf("new=1: %d ETag %q Cache-Control %q, %d fills", code, h.Get("ETag"), h.Get("Cache-Control"), fills()-n)
	}

	// The runner pays in the sandbox: the page it returns to shows it.
	checkout := s.startPay(entry, nil)
	if res := s.outcome(checkout.Path, "pay", s.checkoutForm(checkout, nil), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay: %d", res.StatusCode)
	}
	_, paid, ph := s.get(status)
	if paid == en || ph.Get("ETag") == etag || !strings.Contains(paid, `id="giveback"`) {
		t.Fatalf("status page after paying is the one from before: %.3000s", paid)
	}
	if code, _, _ := s.get(status, "If-None-Match", etag); code != http.StatusOK {
		t.Errorf("the old ETag after paying: %d, want 200", code)
	}
	// Naming a transfer's recipient writes a row no trigger watches: the
	// page write itself drops the page (and announces it to the others).
	s.store.DB().Exec("UPDATE events SET transfer_max = 1")
	_, canTransfer, _ := s.get(status) // the event's change reached the page
	if !strings.Contains(canTransfer, "data-offer-transfer") {
		t.Fatalf("no transfer form after the event allowed transfers: %.3000s", canTransfer)
	}
	form := url.Values{"token": {s.receipt(entry)}, "to_email": {"friend@example.org"}}
	if code, _, _ := s.postForm("/entries/"+entry+"/transfer", form, "Sec-Fetch-Site", "same-origin"); code != http.StatusSeeOther {
		t.Fatalf("transfer: %d", code)
	}
	if _, body, _ := s.get(status); !strings.Contains(body, "data-transfer-open") {
		t.Fatalf("status page after naming the recipient is the one from before: %.3000s", body)
	}
	if code, _, _ := s.postForm("/entries/"+entry+"/transfer/cancel", url.Values{"token": {s.receipt(entry)}}, "Sec-Fetch-Site", "same-origin"); code != http.StatusSeeOther {
		t.Fatalf("cancel transfer: %d", code)
	}
	if _, body, _ := s.get(status); strings.Contains(body, "data-transfer-open") {
		t.Fatal("status page still shows the cancelled transfer")
	}
	// … and gives the place back: the next visit says so.
	post := url.Values{"token": {s.receipt(entry)}}
	res, _ := s.send("POST", "/entries/"+entry+"/give-back", "application/x-www-form-urlencoded", []byte(post.Encode()),
		http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("give back: %d", res.StatusCode)
	}
	if _, body, _ := s.get(status); !strings.Contains(body, "data-given-back") {
		t.Errorf("status page after give-back: %.3000s", body)
	}
	// A change committed elsewhere (another process, the console) reaches
	// the cached page through the change feed.
	_, before2, _ := s.get("/entries/" + other + "?token=" + url.QueryEscape(s.receipt(other)))
	s.store.DB().Exec("UPDATE offers SET status = 'declined' WHERE entry_id = ?", other)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, after, _ := s.get("/entries/" + other + "?token=" + url.QueryEscape(s.receipt(other)))
		if after != before2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a committed change never reached the cached status page")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
