package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/antibot/pow"
	"github.com/startline/startline/internal/browsertest"
)

// postLang posts a form as a browser whose language is lang.
func (s *site) postLang(path string, form url.Values, lang string) (int, string, http.Header) {
	s.t.Helper()
	return s.postForm(path, form, "Accept-Language", lang)
}

// applyByForm applies through the form's code and submit steps as a
// browser speaking lang, and returns the entry id.
func (s *site) applyByForm(email, name, lang string) string {
	t := s.t
	t.Helper()
	form := url.Values{"subqueue": {"half:sub-130"}, "name": {name}, "email": {email},
		"phone": {"010-2345-6789"}, "birth_date": {"1990-04-01"}, "group_code": {""}, "previous_applications": {""},
		"website": {""}, "started": {strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10)}, "signals": {""},
		"consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}}
	code, body, _ := s.postLang("/events/spring/apply/code", form, lang)
	if code != 200 || !strings.Contains(body, `name="otp"`) {
		t.Fatalf("send code: %d %s", code, body)
	}
	msgs, _ := s.store.OutboxFor(context.Background(), email, 1)
	if len(msgs) != 1 {
		t.Fatalf("no code mail to %s", email)
	}
	step3 := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		step3.Set(m[1], html.UnescapeString(m[2]))
	}
	step3.Set("otp", codeRe.FindStringSubmatch(msgs[0].Body)[1])
	m := challengeRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no embedded challenge")
	}
	var ch pow.Challenge
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &ch); err != nil {
		t.Fatal(err)
	}
	step3.Set("altcha", guardtest.Solve(t, ch))
	code, _, hdr := s.postLang("/events/spring/apply", step3, lang)
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/entries/") {
		t.Fatalf("submit: %d %v", code, hdr)
	}
	u, _ := url.Parse(hdr.Get("Location"))
	return strings.TrimPrefix(u.Path, "/entries/")
}

// TestFormMailsInThePageLanguage: a runner on the Korean form gets the code
// and the receipt in Korean only (the entry keeps the page's language), and
// the dev outbox shows each mail's text and its HTML part in a sandboxed
// frame, escaped.
func TestFormMailsInThePageLanguage(t *testing.T) {
	s := newSite(t, true)
	const ko = "ko-KR,ko;q=0.9"
	id := s.applyByForm("minjun.ko@example.com", `김민준 <b>`, ko)
	msgs, _ := s.store.OutboxFor(context.Background(), "minjun.ko@example.com", 2)
	if len(msgs) != 2 || !strings.Contains(msgs[1].Body, "인증 코드는") || strings.Contains(msgs[1].Body, "Your code") ||
		!strings.Contains(msgs[1].HTML, `<html lang="ko">`) {
		t.Fatalf("code mail not in Korean only: %+v", msgs)
	}
	var lang string
	s.store.DB().Raw("SELECT lang FROM entries WHERE id = ?", id).Scan(&lang)
	if lang != "ko" {
		t.Errorf("entry lang %q, want ko", lang)
	}

	code, page, _ := s.get("/dev/outbox?to=minjun.ko@example.com")
	if code != 200 {
		t.Fatalf("outbox page: %d", code)
	}
	link := "https://run.example/entries/" + id + "?lang=ko&amp;token="
	if !strings.Contains(page, "신청 접수 완료: Spring Marathon") || !strings.Contains(page, "Half Marathon · Under 1:30") ||
		!strings.Contains(page, link) {
		t.Errorf("receipt in the outbox page:\n%s", page)
	}
	// The HTML part sits in a sandboxed frame; the runner's name stays text
	// (escaped twice: once in the mail's HTML, once in the attribute).
	frame := regexp.MustCompile(`<iframe sandbox="" [^>]*srcdoc="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(frame) != 2 {
		t.Fatalf("%d sandboxed frames, want 2 (code and receipt):\n%s", len(frame), page)
	}
	receiptHTML := html.UnescapeString(frame[0][1])
	if !strings.Contains(receiptHTML, "김민준 &lt;b&gt; 님") || strings.Contains(receiptHTML, "<b>") ||
		!strings.Contains(receiptHTML, `<a href="https://run.example/entries/`+id+`?lang=ko&amp;token=`) {
		t.Errorf("receipt html:\n%s", receiptHTML)
	}
}

// TestBrowserDevOutbox: the dev outbox on a phone screen, where runners (and
// the journey's browser test) read their mail: long links wrap, the HTML
// part opens in its sandboxed frame, nothing is wider than the screen. (A
// full-page screenshot leaves the sandboxed frames blank: Chromium draws
// them in a process of their own; they render on screen.)
func TestBrowserDevOutbox(t *testing.T) {
	s := newSite(t, true)
	s.applyByForm("outbox.reader@example.com", "Park Jiwoo", "en-US,en;q=0.9")
	b := browsertest.New(t, browsertest.Options{Lang: "en-US"})
	b.Open(s.srv.URL + "/dev/outbox?to=outbox.reader@example.com")
	b.Check("outbox", "en")
	browsertest.Eval[bool](b, `(document.querySelectorAll("details.mail-html").forEach(d => d.open = true), true)`)
	b.Check("outbox-html", "en")
	if n := browsertest.Eval[int](b, `document.querySelectorAll("iframe[sandbox='']").length`); n != 2 {
		t.Errorf("%d sandboxed frames, want 2", n)
	}
	if got := b.Text("main"); !strings.Contains(got, "Entry received: Spring Marathon") || !strings.Contains(got, "https://run.example/entries/") {
		t.Errorf("outbox page:\n%s", got)
	}
}
