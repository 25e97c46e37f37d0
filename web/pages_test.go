package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/payments/sandbox"
)

// i13-pages: the language switch keeps the step and what was typed, names
// and translated statuses on the receipt and status page, the decline
// confirmation, a declined card's message, and the form without JavaScript.

var (
	// applySwitchRe is the switch of a form page: a button of the page's form.
	applySwitchRe = regexp.MustCompile(`<button type="submit" form="([a-z-]+)" formaction="([^"]+)" formmethod="post" formnovalidate name="lang" value="([a-z]+)"`)
	// linkSwitchRe is the switch of any other page: a link.
	linkSwitchRe = regexp.MustCompile(`<a href="([^"]*)" hreflang="([a-z]+)" lang="[a-z]+" data-lang-switch>`)
	htmlLangRe   = regexp.MustCompile(`<html lang="([a-z]+)">`)
)

// hiddenFields reads a page's hidden inputs, as the browser would post them.
func hiddenFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// pressSwitch checks that the page's switch re-posts its form to action and
// posts form (what the browser sends: the form's fields and lang) there.
func (s *site) pressSwitch(page, formID, action string, form url.Values) (int, string, http.Header) {
	s.t.Helper()
	m := applySwitchRe.FindStringSubmatch(page)
	if m == nil || m[1] != formID || html.UnescapeString(m[2]) != action {
		s.t.Fatalf("no switch re-posting form %s to %s: %v", formID, action, m)
	}
	form = clone(form)
	form.Set("lang", m[3])
	return s.post(action, form)
}

func pageLang(t *testing.T, body string) string {
	t.Helper()
	m := htmlLangRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("page has no html lang")
	}
	return m[1]
}

// TestLanguageSwitchKeepsStepAndInput: on the code step and after a form
// error, switching language shows the same step with what the runner typed,
// sends no code and applies nothing; the Korean page then submits.
func TestLanguageSwitchKeepsStepAndInput(t *testing.T) {
	s := newSiteWith(t, siteOptions{dev: true})
	const addr = "kim.minjun@example.com"
	_, step2, _ := s.get("/events/spring/apply?subqueue=half:open")
	if !applySwitchRe.MatchString(step2) || !strings.Contains(step2, `id="apply-form"`) {
		t.Fatalf("step 2 has no form switch:\n%s", step2)
	}

	// A form error on step 2, then the switch: Korean step 2, input kept.
	form := url.Values{"subqueue": {"half:open"}, "name": {"Kim Minjun"}, "email": {"kim.minjun@"}, "phone": {"010-1234-5678"},
		"birth_date": {"1990-04-01"}, "started": {strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10)}, "signals": {""},
		"consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}}
	code, body, _ := s.post("/events/spring/apply/code", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `class="field invalid"`) {
		t.Fatalf("bad address: %d", code)
	}
	code, body, hdr := s.pressSwitch(body, "apply-form", "/events/spring/apply/lang", form)
	if code != http.StatusOK || pageLang(t, body) != "ko" || !strings.Contains(body, "2단계") {
		t.Fatalf("switch after the error: %d %s", code, body)
	}
	for _, v := range []string{`value="Kim Minjun"`, `value="kim.minjun@"`, `value="010-1234-5678"`, `value="1990-04-01"`} {
		if !strings.Contains(body, v) {
			t.Errorf("switched step 2 lost %s", v)
		}
	}
	if strings.Contains(body, `name="otp"`) || !strings.Contains(hdr.Get("Cache-Control"), "no-store") {
		t.Errorf("switched step 2 shows the code field or may be cached (%q)", hdr.Get("Cache-Control"))
	}
	if !strings.Contains(hdr.Get("Set-Cookie"), "sl_lang=ko") {
		t.Errorf("the switch does not keep the language: %q", hdr.Get("Set-Cookie"))
	}
	// The Korean page switches back the same way.
	if code, back, _ := s.pressSwitch(body, "apply-form", "/events/spring/apply/lang", form); code != http.StatusOK ||
		pageLang(t, back) != "en" || !strings.Contains(back, "Step 2") || !strings.Contains(back, `value="kim.minjun@"`) {
		t.Errorf("switch back to English: %d", code)
	}

	// The code step (POST .../apply/code), the runner halfway through typing the code.
	form.Set("email", addr)
	code, body, _ = s.post("/events/spring/apply/code", form)
	if code != http.StatusOK || !strings.Contains(body, `name="otp"`) {
		t.Fatalf("send code: %d", code)
	}
	if n := s.outboxCount(addr); n != 1 {
		t.Fatalf("%d code mails, want 1", n)
	}
	step3 := hiddenFields(body)
	typed := clone(step3)
	typed.Set("otp", "12")
	code, ko, hdr := s.pressSwitch(body, "apply-form", "/events/spring/apply/lang", typed)
	if code != http.StatusOK || pageLang(t, ko) != "ko" || !strings.Contains(ko, "3단계") {
		t.Fatalf("switch on the code step: %d %s", code, ko)
	}
	if got := hiddenFields(ko); got.Get("idem") != step3.Get("idem") || got.Get("email") != addr || got.Get("name") != "Kim Minjun" {
		t.Errorf("switched code step lost its fields: %v", got)
	}
	if !strings.Contains(ko, `name="otp" value="12"`) || !challengeRe.MatchString(ko) {
		t.Errorf("switched code step lost the typed code or has no browser check")
	}
	if n := s.outboxCount(addr); n != 1 {
		t.Errorf("the switch mailed a code: %d mails", n)
	}
	if !strings.Contains(hdr.Get("Cache-Control"), "no-store") {
		t.Errorf("the code step may be cached: %q", hdr.Get("Cache-Control"))
	}
	// Only what looks like a code is kept.
	bad := clone(typed)
	bad.Set("otp", `"><script>`)
	if _, page, _ := s.pressSwitch(body, "apply-form", "/events/spring/apply/lang", bad); strings.Contains(page, "script>\"") ||
		!strings.Contains(page, `name="otp" value=""`) {
		t.Errorf("a non-code was kept in the code field")
	}

	// A wrong code is an error on the code step; its switch keeps the step too.
	msgs, _ := s.store.OutboxFor(context.Background(), addr, 1)
	otp := codeRe.FindStringSubmatch(msgs[0].Body)[1]
	wrong := hiddenFields(ko)
	wrong.Set("otp", map[bool]string{true: "111111", false: "000000"}[otp == "000000"])
	wrong.Set("altcha", solve(t, ko))
	// The browser keeps the switch's cookie: the error page is Korean.
	res, body := s.send("POST", "/events/spring/apply", "application/x-www-form-urlencoded", []byte(wrong.Encode()),
		http.Header{"Cookie": {"sl_lang=ko"}})
	if res.StatusCode != http.StatusUnprocessableEntity || pageLang(t, body) != "ko" {
		t.Fatalf("wrong code: %d", res.StatusCode)
	}
	code, en, _ := s.pressSwitch(body, "apply-form", "/events/spring/apply/lang", hiddenFields(body))
	if code != http.StatusOK || pageLang(t, en) != "en" || !strings.Contains(en, "Step 3") || hiddenFields(en).Get("idem") != step3.Get("idem") {
		t.Fatalf("switch after a wrong code: %d", code)
	}

	// The switched page submits like the first.
	final := hiddenFields(en)
	final.Set("otp", otp)
	final.Set("altcha", solve(t, en))
	if code, _, hdr := s.post("/events/spring/apply", final); code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/entries/") {
		t.Fatalf("submit after switching: %d %v", code, hdr)
	}
}

// TestLanguageSwitchLinksKeepThePage: on every page reached by a link the
// switch is a link to the same page (its query kept) that answers in the
// other language; the waiting room's join form re-posts with the address.
func TestLanguageSwitchLinksKeepThePage(t *testing.T) {
	s := newSiteWith(t, siteOptions{dev: true, ordered: true})
	receipt := s.applyViaForm("1001@example.com", `{"webdriver":false,"fill_ms":30000}`)
	u, _ := url.Parse(receipt)
	id, tok := strings.TrimPrefix(u.Path, "/entries/"), url.QueryEscape(u.Query().Get("token"))
	for _, tc := range []struct {
		path string
		code int // in Korean
	}{
		{"/events/spring?subqueue=half:open", 200}, {"/events/spring/results", 200},
		{"/verify?artifact=/api/v1/events/spring/draws/half:open/artifact.json", 200}, {"/status", 200},
		{"/status?entry_id=" + id + "&token=wrong", 404}, {receipt, 200}, {u.Path + "?token=" + tok, 200},
	} {
		_, body, _ := s.get(tc.path)
		m := linkSwitchRe.FindStringSubmatch(body)
		if m == nil || m[2] != "ko" {
			t.Errorf("%s: no link switch to Korean", tc.path)
			continue
		}
		to, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		from, _ := url.Parse(tc.path)
		if to.Path != from.Path || to.Query().Get("lang") != "ko" {
			t.Errorf("%s: switch goes to %s", tc.path, to)
		}
		for k := range from.Query() {
			if to.Query().Get(k) != from.Query().Get(k) {
				t.Errorf("%s: switch drops %s: %s", tc.path, k, to)
			}
		}
		code, ko, _ := s.get(to.RequestURI())
		if code != tc.code || code == 200 && pageLang(t, ko) != "ko" {
			t.Errorf("%s in Korean: %d, want %d", to, code, tc.code)
		}
	}

	// The waiting room's join form.
	_, join, _ := s.get("/events/spring/queue?course=half&pace=fcfs")
	form := url.Values{"course": {"half"}, "pace": {"fcfs"}, "email": {"ana@example.com"}, "altcha": {""}}
	code, ko, _ := s.pressSwitch(join, "queue-form", "/events/spring/queue/lang", form)
	if code != http.StatusOK || pageLang(t, ko) != "ko" || !strings.Contains(ko, `value="ana@example.com"`) || !challengeRe.MatchString(ko) {
		t.Fatalf("queue switch: %d %s", code, ko)
	}
}

// TestCachedPagesSwitch: a cached page's switch keeps only the query the
// page is keyed by, so one visitor's query never reaches another's page.
func TestCachedPagesSwitch(t *testing.T) {
	s := newSiteWith(t, siteOptions{dev: true, cache: time.Minute})
	for _, tc := range []struct{ path, want string }{
		{"/events/spring?subqueue=half:open&ref=someone%40example.com", "/events/spring?lang=ko&subqueue=half%3Aopen"},
		{"/events/spring?ref=x", "/events/spring?lang=ko"},
		{"/events/spring/results?ref=someone", "/events/spring/results?lang=ko"},
	} {
		for range 2 { // rendered, then from the cache
			_, body, _ := s.get(tc.path)
			m := linkSwitchRe.FindStringSubmatch(body)
			if m == nil || html.UnescapeString(m[1]) != tc.want {
				t.Errorf("%s: switch %v, want %s", tc.path, m, tc.want)
			}
		}
	}
}

// TestReceiptNamesStatusesAndLink: the receipt names the course and pace
// group, says the status in the page's language with its explanation, and
// gives the absolute status link (STARTLINE_PUBLIC_URL) in a wrapping block
// with a copy button, saying it was mailed too.
func TestReceiptNamesStatusesAndLink(t *testing.T) {
	s := newSiteWith(t, siteOptions{dev: true, public: "https://run.example"})
	receipt := s.applyViaForm("1002@example.com", `{"webdriver":false,"fill_ms":30000}`)
	u, _ := url.Parse(receipt)
	abs := "https://run.example" + u.Path + "?token=" + url.QueryEscape(u.Query().Get("token"))
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"en", []string{"Application received", "Half Marathon · Open", ">Received<", "Received: you are in the draw", "We also e-mailed this link"}},
		{"ko", []string{"신청이 접수되었습니다", "Half Marathon · Open", ">접수됨<", "접수됨: 접수가 마감되면", "이메일 주소로도 보내 드렸습니다"}},
	} {
		code, body, _ := s.get(receipt + "&lang=" + tc.lang)
		if code != 200 {
			t.Fatalf("%s receipt: %d", tc.lang, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s receipt lacks %q", tc.lang, w)
			}
		}
		if strings.Contains(body, "half:open") || strings.Contains(body, ">received<") {
			t.Errorf("%s receipt shows an internal key", tc.lang)
		}
		if !strings.Contains(body, `<code class="status-link" id="status-link"><a href="`+html.EscapeString(abs)+`" data-status-link>`) ||
			!strings.Contains(body, `data-copy="status-link"`) {
			t.Errorf("%s receipt lacks the absolute link block %s:\n%s", tc.lang, abs, body)
		}
	}
	// The status page (not the receipt) does not claim a mail.
	if _, body, _ := s.get(u.Path + "?token=" + url.QueryEscape(u.Query().Get("token"))); strings.Contains(body, "data-mailed") {
		t.Errorf("status page says the link was mailed")
	}
}

// TestOfferDeclineNeedsConfirmation: the offer names its group and state;
// Decline is a confirmation step (details element, no JavaScript), and a
// decline posted without it only opens the confirmation.
func TestOfferDeclineNeedsConfirmation(t *testing.T) {
	s, _, sel := drawnSite(t, siteOptions{}, 4, 2)
	entry := sel[0]
	status := "/entries/" + entry + "?token=" + url.QueryEscape(s.receipt(entry))
	_, body, _ := s.get(status)
	for _, w := range []string{`<details class="decline" id="decline">`, `name="confirm" value="yes"`, "Decline this place…",
		"Waiting for your answer", `<p data-offer-subqueue>Half Marathon · Open</p>`} {
		if !strings.Contains(body, w) {
			t.Errorf("offer section lacks %q", w)
		}
	}
	if strings.Contains(body, `formaction="/offers/`+s.offerID(entry)+`/decline"`) {
		t.Errorf("decline still sits next to accept without confirmation")
	}
	if _, ko, _ := s.get(status + "&lang=ko"); !strings.Contains(ko, "이 자리 포기하기") || !strings.Contains(ko, "응답 대기") {
		t.Errorf("Korean offer section untranslated")
	}

	decline := "/offers/" + s.offerID(entry) + "/decline"
	code, _, hdr := s.post(decline, url.Values{"token": {s.receipt(entry)}})
	if code != http.StatusSeeOther || hdr.Get("Location") != status+"&decline=1#offer" {
		t.Fatalf("decline without confirmation: %d %q", code, hdr.Get("Location"))
	}
	if st := s.standing(entry); st.Offer != "pending" {
		t.Fatalf("unconfirmed decline changed the offer: %+v", st)
	}
	if _, body, _ = s.get(status + "&decline=1"); !strings.Contains(body, `<details class="decline" id="decline" open>`) {
		t.Errorf("the confirmation is not open")
	}
	if code, _, _ := s.post(decline, url.Values{"token": {"forged"}}); code != http.StatusNotFound {
		t.Errorf("unconfirmed decline with a forged token: %d", code)
	}
	code, _, hdr = s.post(decline, url.Values{"token": {s.receipt(entry)}, "confirm": {"yes"}})
	if code != http.StatusSeeOther || s.standing(entry).Offer != "declined" {
		t.Fatalf("confirmed decline: %d %+v", code, s.standing(entry))
	}
	if _, body, _ = s.get(hdr.Get("Location")); !strings.Contains(body, "You declined") || strings.Contains(body, `class="decline"`) {
		t.Errorf("after declining: %s", body)
	}
}

// TestDeclinedCardMessage: after the sandbox's "card declined" the status
// page says so and what to do, in both languages, until a payment goes
// through.
func TestDeclinedCardMessage(t *testing.T) {
	s, _, sel := drawnSite(t, siteOptions{sandbox: sandbox.New([]byte("sandbox-test-key"))}, 4, 2)
	entry := sel[0]
	status := "/entries/" + entry + "?token=" + url.QueryEscape(s.receipt(entry))
	if _, body, _ := s.get(status); strings.Contains(body, "data-card-declined") {
		t.Fatal("declined message before any payment")
	}
	checkout := s.startPay(entry, nil)
	if res := s.outcome(checkout.Path, "fail", s.checkoutForm(checkout, nil), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("card declined: %d", res.StatusCode)
	}
	_, body, _ := s.get(status)
	for _, w := range []string{"data-card-declined", "Your card was declined.", "Try another card", "Pay with another card"} {
		if !strings.Contains(body, w) {
			t.Errorf("status page after a declined card lacks %q", w)
		}
	}
	if _, ko, _ := s.get(status + "&lang=ko"); !strings.Contains(ko, "카드 결제가 거절되었습니다") || !strings.Contains(ko, "다른 카드로") {
		t.Errorf("Korean declined-card message missing")
	}
	checkout = s.startPay(entry, nil)
	if res := s.outcome(checkout.Path, "pay", s.checkoutForm(checkout, nil), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay: %d", res.StatusCode)
	}
	if _, body, _ = s.get(status); strings.Contains(body, "data-card-declined") || s.standing(entry).Offer != "paid" {
		t.Errorf("declined message after paying (%+v)", s.standing(entry))
	}
}

// TestApplyWithoutJavaScript: the form says before the code is sent what
// happens without JavaScript, and a form sent without the browser check is
// taken for a reviewer with the reason no_browser_check, never accepted.
func TestApplyWithoutJavaScript(t *testing.T) {
	s := newSiteWith(t, siteOptions{dev: true})
	const addr = "nojs@example.com"
	if _, step2, _ := s.get("/events/spring/apply?subqueue=half:open"); !strings.Contains(step2, "<noscript><p class=\"notice\">JavaScript is off. You can still apply") {
		t.Errorf("step 2 does not say what happens without JavaScript")
	}
	form := url.Values{"subqueue": {"half:open"}, "name": {"No Script"}, "email": {addr}, "phone": {"010-2222-3333"},
		"birth_date": {"1980-01-02"}, "started": {"1"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}}
	code, body, _ := s.post("/events/spring/apply/code", form)
	if code != http.StatusOK || !strings.Contains(body, "JavaScript is off, so the automatic browser check cannot run") {
		t.Fatalf("code step: %d", code)
	}
	step3 := hiddenFields(body) // the altcha field stays empty: no script solved it
	msgs, _ := s.store.OutboxFor(context.Background(), addr, 1)
	step3.Set("otp", codeRe.FindStringSubmatch(msgs[0].Body)[1])
	code, _, hdr := s.post("/events/spring/apply", step3)
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/entries/") {
		t.Fatalf("submit without JavaScript: %d %v", code, hdr)
	}
	var st struct {
		Status, RiskDecision string
		RiskReasons          string
	}
	s.store.DB().Raw("SELECT status, risk_decision, risk_reasons::text AS risk_reasons FROM entries WHERE email_key = ?", addr).Scan(&st)
	if st.Status != "in_review" || st.RiskDecision != "review" || !strings.Contains(st.RiskReasons, `"no_browser_check"`) ||
		strings.Contains(st.RiskReasons, `"no_signals"`) {
		t.Errorf("entry without JavaScript: %+v", st)
	}
	if _, page, _ := s.get(hdr.Get("Location")); !strings.Contains(page, "In review: a person will check") {
		t.Errorf("receipt does not say the entry is in review")
	}
	// The review console names the reason in both languages and filters by it.
	cookie := s.staffLogin("rev@example.com", lottery.RoleReviewer)
	id := strings.TrimPrefix(strings.Split(hdr.Get("Location"), "?")[0], "/entries/")
	for lang, name := range map[string]string{"en": "No browser check (JavaScript off)", "ko": "브라우저 확인 없음 (JavaScript 꺼짐)"} {
		if _, page, _ := s.get("/review/entries/"+id+"?lang="+lang, "Cookie", cookie); !strings.Contains(page, name) {
			t.Errorf("review console (%s) does not name the reason %q", lang, name)
		}
		if _, page, _ := s.get("/review?event=spring&reason=no_browser_check&lang="+lang, "Cookie", cookie); !strings.Contains(page, id[:8]) ||
			!strings.Contains(page, `<option value="no_browser_check" selected>`+name) {
			t.Errorf("review queue (%s) filtered by no_browser_check lacks the entry", lang)
		}
	}
	// A double submit answers the same receipt; a browser check that does
	// not verify is still refused.
	if code, _, again := s.post("/events/spring/apply", step3); code != http.StatusSeeOther || again.Get("Location") != hdr.Get("Location") {
		t.Errorf("double submit without JavaScript: %d %q", code, again.Get("Location"))
	}
	step3.Set("altcha", "bm90IGEgcHJvb2Y=")
	if code, _, _ := s.post("/events/spring/apply", step3); code != http.StatusUnprocessableEntity {
		t.Errorf("bad proof: %d, want 422", code)
	}
}
