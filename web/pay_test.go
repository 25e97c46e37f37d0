package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/payments/sandbox"
)

// drawnSite is a dev site with the sandbox payment provider whose spring is
// drawn and published: n synthetic entries in half:open, capacity of them
// selected, each holding a pending offer. It returns the selected entries.
func drawnSite(t *testing.T, o siteOptions, n, capacity int) (*site, *testClock, []string) {
	t.Helper()
	clk := &testClock{t: time.Now()}
	o.dev, o.clock, o.sandbox = true, clk, sandbox.New([]byte("sandbox-test-key"))
	s := newSiteWith(t, o)
	ctx := context.Background()
	if _, err := s.store.InsertSyntheticEntries(ctx, "spring", n); err != nil {
		t.Fatal(err)
	}
	s.store.DB().Exec("UPDATE subqueues SET capacity = ?, price_minor = 80000 WHERE key = 'half:open'", capacity) // a free place needs no checkout
	s.store.DB().Exec("UPDATE events SET unreviewed_policy = 'exclude'")
	clk.Add(2 * time.Hour) // the window has closed
	for _, a := range []string{lottery.ActionFreeze, lottery.ActionReveal, lottery.ActionDraw} {
		if _, err := s.svc.Transition(ctx, s.org, "spring", a, lottery.TransitionParams{}); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	var subs []int64
	s.store.DB().Raw("SELECT subqueue_id FROM draws").Scan(&subs)
	for _, id := range subs {
		if _, err := s.draws.RunDraw(ctx, id); err != nil {
			t.Fatalf("draw %d: %v", id, err)
		}
	}
	if _, err := s.svc.Transition(ctx, s.org, "spring", lottery.ActionPublishResults, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	var selected []string
	s.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE selected ORDER BY position").Scan(&selected)
	if len(selected) < capacity {
		t.Fatalf("%d selected, want %d", len(selected), capacity)
	}
	return s, clk, selected
}

// standing is what the database says of an entry's offer and payment.
type standing struct{ Offer, Entry, Payments string }

func (s *site) standing(entry string) standing {
	s.t.Helper()
	var st standing
	s.store.DB().Raw(`SELECT o.status, e.status, coalesce((SELECT string_agg(p.status, ',') FROM payments p WHERE p.offer_id = o.id), '')
		FROM offers o JOIN entries e ON e.id = o.entry_id WHERE o.entry_id = ?`, entry).Row().Scan(&st.Offer, &st.Entry, &st.Payments)
	return st
}

func (s *site) offerID(entry string) string {
	s.t.Helper()
	var id string
	s.store.DB().Raw("SELECT id::text FROM offers WHERE entry_id = ?", entry).Row().Scan(&id)
	return id
}

func (s *site) receipt(entry string) string { return s.keys.ReceiptToken(entry) }

// startPay presses the status page's pay button and returns the sandbox
// checkout it redirects to.
func (s *site) startPay(entry string, header http.Header) *url.URL {
	s.t.Helper()
	form := url.Values{"token": {s.receipt(entry)}}
	res, body := s.send("POST", "/offers/"+s.offerID(entry)+"/pay", "application/x-www-form-urlencoded", []byte(form.Encode()), header)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.Path, "/sandbox/checkout/sbx_") {
		s.t.Fatalf("pay: %d %q %s", res.StatusCode, res.Header.Get("Location"), body)
	}
	return loc
}

// checkoutForm loads the sandbox checkout page and returns its form.
func (s *site) checkoutForm(checkout *url.URL, header http.Header) url.Values {
	s.t.Helper()
	res, body := s.send("GET", checkout.RequestURI(), "", nil, header)
	if res.StatusCode != http.StatusOK {
		s.t.Fatalf("checkout page: %d %s", res.StatusCode, body)
	}
	form := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	return form
}

func (s *site) outcome(checkoutPath, outcome string, form url.Values, header http.Header) *http.Response {
	s.t.Helper()
	res, _ := s.send("POST", checkoutPath+"/"+outcome, "application/x-www-form-urlencoded", []byte(form.Encode()), header)
	return res
}

// TestSandboxCheckoutAuthorization: the sandbox checkout pays only the offer
// its session was created for (by the pay flow, which took the receipt
// token), only while that offer is payable, and answers bad input with a 4xx.
func TestSandboxCheckoutAuthorization(t *testing.T) {
	s, clk, sel := drawnSite(t, siteOptions{}, 12, 6)
	honest, victim, reviewed, late := sel[0], sel[1], sel[2], sel[3]

	t.Run("the honest flow pays and confirms", func(t *testing.T) {
		checkout := s.startPay(honest, nil)
		form := s.checkoutForm(checkout, nil)
		if form.Get("offer") != s.offerID(honest) {
			t.Fatalf("checkout form offer %q, want %q", form.Get("offer"), s.offerID(honest))
		}
		res := s.outcome(checkout.Path, "pay", form, nil)
		if want := "/entries/" + honest + "?token=" + s.receipt(honest); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("pay: %d to %q, want 303 to %q", res.StatusCode, res.Header.Get("Location"), want)
		}
		if got, want := s.standing(honest), (standing{"paid", "confirmed", "captured"}); got != want {
			t.Errorf("after paying: %+v, want %+v", got, want)
		}
	})

	mine := s.startPay(sel[4], nil) // the attacker's own, honestly started checkout
	before := s.standing(victim)
	attacks := []struct {
		name     string
		path     string
		outcome  string
		form     url.Values
		wantCode int
	}{
		{"someone else's offer on a made-up session", "/sandbox/checkout/sbx_madeup", "pay",
			url.Values{"offer": {s.offerID(victim)}}, http.StatusNotFound},
		{"someone else's offer on my own session", mine.Path, "pay", url.Values{"offer": {s.offerID(victim)}}, http.StatusNotFound},
		{"someone else's offer, captured directly", mine.Path, "capture", url.Values{"offer": {s.offerID(victim)}}, http.StatusNotFound},
		{"empty offer on a made-up session", "/sandbox/checkout/x", "pay", url.Values{"offer": {""}}, http.StatusNotFound},
		{"empty offer on my own session", mine.Path, "pay", url.Values{"offer": {""}}, http.StatusUnprocessableEntity},
		{"no offer at all", mine.Path, "pay", url.Values{}, http.StatusUnprocessableEntity},
		{"an offer id that is not one", mine.Path, "pay", url.Values{"offer": {"zzz"}}, http.StatusNotFound},
		{"an offer id with a NUL (refused at the edge)", mine.Path, "pay", url.Values{"offer": {"zzz\x00"}}, http.StatusUnprocessableEntity},
		{"unknown outcome", mine.Path, "refund", url.Values{"offer": {s.offerID(sel[4])}}, http.StatusNotFound},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			res := s.outcome(a.path, a.outcome, a.form, nil)
			if res.StatusCode != a.wantCode {
				t.Errorf("status %d, want %d", res.StatusCode, a.wantCode)
			}
			if got := s.standing(victim); got != before {
				t.Errorf("victim's offer changed: %+v, was %+v", got, before)
			}
		})
	}
	if code, _, _ := s.get("/sandbox/checkout/sbx_madeup?offer=" + s.offerID(victim)); code != http.StatusNotFound {
		t.Errorf("checkout page of a made-up session: %d, want 404", code)
	}

	t.Run("an entry sent to review after accepting cannot pay", func(t *testing.T) {
		checkout := s.startPay(reviewed, nil)
		form := s.checkoutForm(checkout, nil)
		s.store.DB().Exec("UPDATE entries SET status = 'in_review' WHERE id = ?", reviewed)
		before := s.standing(reviewed)
		if res := s.outcome(checkout.Path, "pay", form, nil); res.StatusCode != http.StatusConflict {
			t.Errorf("pay while in review: %d, want 409", res.StatusCode)
		}
		if got := s.standing(reviewed); got != before {
			t.Errorf("in review: %+v, was %+v", got, before)
		}
	})
	t.Run("an expired offer cannot pay", func(t *testing.T) {
		checkout := s.startPay(late, nil)
		form := s.checkoutForm(checkout, nil)
		clk.Add(49 * time.Hour) // past the 48h hold
		if res := s.outcome(checkout.Path, "pay", form, nil); res.StatusCode != http.StatusConflict {
			t.Errorf("pay after the hold: %d, want 409", res.StatusCode)
		}
		if got := s.standing(late); got.Offer == "paid" || got.Entry == "confirmed" {
			t.Errorf("expired offer paid: %+v", got)
		}
	})
}

// TestSandboxBackStaysOnSite: the checkout's back= is a path on this site or
// nothing.
func TestSandboxBackStaysOnSite(t *testing.T) {
	s, _, sel := drawnSite(t, siteOptions{}, 6, 4)
	for i, back := range []string{`/\evil.example/x`, "/\t/evil.example", "//evil.example", "https://evil.example/"} {
		checkout := s.startPay(sel[i], nil)
		q := checkout.Query()
		q.Set("back", back)
		q.Del("return")
		checkout.RawQuery = q.Encode()
		form := s.checkoutForm(checkout, nil)
		if form.Get("back") != "/" {
			t.Errorf("checkout page with back=%q shows back %q, want /", back, form.Get("back"))
		}
		form.Set("back", back)
		res := s.outcome(checkout.Path, "cancel", form, nil)
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("cancel with back=%q: %d to %q, want 303 to /", back, res.StatusCode, loc)
		}
	}
}

// TestPayThroughTrustedProxy pays as a browser and as an API client behind a
// TLS-terminating proxy the server trusts: return URLs and the checkout URL
// are the public https origin the proxy names, and a public return URL is
// accepted from the proxy but not on a client's own word.
func TestPayThroughTrustedProxy(t *testing.T) {
	s, _, sel := drawnSite(t, siteOptions{trusted: loopback}, 6, 4)
	proxy := http.Header{"X-Forwarded-For": {"198.51.100.7"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"run.example"}}

	t.Run("web", func(t *testing.T) {
		entry := sel[0]
		back := "/entries/" + entry + "?token=" + s.receipt(entry)
		checkout := s.startPay(entry, proxy)
		if got, want := checkout.Query().Get("return"), "https://run.example"+back; got != want {
			t.Errorf("return URL handed to the provider: %q, want %q", got, want)
		}
		form := s.checkoutForm(checkout, proxy)
		res := s.outcome(checkout.Path, "pay", form, proxy)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != back {
			t.Errorf("pay: %d to %q, want 303 to %q", res.StatusCode, res.Header.Get("Location"), back)
		}
		if got := s.standing(entry); got.Offer != "paid" {
			t.Errorf("after paying: %+v", got)
		}
	})

	t.Run("API", func(t *testing.T) {
		entry := sel[1]
		back := "/entries/" + entry + "?token=" + s.receipt(entry)
		body, _ := json.Marshal(map[string]string{"token": s.receipt(entry)})
		pay := "/api/v1/offers/" + s.offerID(entry) + "/pay?return=" + url.QueryEscape("https://run.example"+back)

		// The same public return URL, straight from a client: not this site.
		res, raw := s.send("POST", pay, "application/json", body, http.Header{"X-Forwarded-Proto": {"https"}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(raw, `"field":"return"`) {
			t.Errorf("public return URL without the proxy: %d %s, want 422 on return", res.StatusCode, raw)
		}
		res, raw = s.send("POST", "/api/v1/offers/"+s.offerID(entry)+"/pay?return="+url.QueryEscape("https://evil.example/x"),
			"application/json", body, proxy)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("return URL on another site: %d %s, want 422", res.StatusCode, raw)
		}

		res, raw = s.send("POST", pay, "application/json", body, proxy)
		var out struct {
			CheckoutURL string `json:"checkout_url"`
		}
		json.Unmarshal([]byte(raw), &out)
		checkout, err := url.Parse(out.CheckoutURL)
		if res.StatusCode != http.StatusOK || err != nil || checkout.Scheme != "https" || checkout.Host != "run.example" ||
			!strings.HasPrefix(checkout.Path, "/sandbox/checkout/sbx_") {
			t.Fatalf("pay: %d %s, want a checkout URL on https://run.example", res.StatusCode, raw)
		}
		form := s.checkoutForm(checkout, proxy)
		if form.Get("back") != back {
			t.Errorf("checkout page returns to %q, want %q", form.Get("back"), back)
		}
		res = s.outcome(checkout.Path, "pay", form, proxy)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != back {
			t.Errorf("pay: %d to %q, want 303 to %q", res.StatusCode, res.Header.Get("Location"), back)
		}
		if got := s.standing(entry); got.Offer != "paid" {
			t.Errorf("after paying: %+v", got)
		}
	})
}
