package api_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/review"
)

// outboxMsg is one message of /dev/outbox.json.
type outboxMsg struct{ To, Subject, Body, HTML string }

// outboxOf reads the dev outbox for an address, newest first, rendered.
func (e *env) outboxOf(addr string) []outboxMsg {
	e.t.Helper()
	r := e.do("GET", "/dev/outbox.json?to="+url.QueryEscape(addr), nil)
	if r.Status != 200 {
		e.t.Fatalf("outbox: %d %s", r.Status, r.Raw)
	}
	var out []outboxMsg
	for _, m := range r.Body["messages"].([]any) {
		f := m.(map[string]any)
		out = append(out, outboxMsg{To: f["to"].(string), Subject: f["subject"].(string), Body: f["body"].(string), HTML: f["html"].(string)})
	}
	return out
}

func hasHangul(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 })
}

// journeyRunner is one runner of TestMailAtEveryStateChange.
type journeyRunner struct {
	email, lang, id string
	kinds           []string // the subjects' kinds expected, in any order
}

// subjects are each kind's subject (a part of it) per language.
var subjects = map[string][2]string{ // [en, ko]
	"received":   {"Entry received: Spring Marathon", "신청 접수 완료: Spring Marathon"},
	"in_review":  {"Your entry is being reviewed: Spring Marathon", "신청 검토 중: Spring Marathon"},
	"rejected":   {"Your entry was not accepted: Spring Marathon", "신청이 승인되지 않았습니다: Spring Marathon"},
	"reinstated": {"Your entry is accepted: Spring Marathon", "신청이 승인되었습니다: Spring Marathon"},
	"waitlisted": {"on the waitlist for Spring Marathon", "Spring Marathon 대기"},
	"issued":     {"You have a place in Spring Marathon: accept by", "Spring Marathon 참가 자리가 예약되었습니다"},
	"moved_up":   {"A slot opened up for you in Spring Marathon", "Spring Marathon 대기 중 자리가 났습니다"},
	"reminder":   {"Reminder: your slot in Spring Marathon is held until", "알림: Spring Marathon 참가 자리 예약이"},
	"paid":       {"Payment received, you are registered: Spring Marathon", "결제 완료, 등록이 확정되었습니다: Spring Marathon"},
	"expired":    {"Your held slot has expired: Spring Marathon", "예약된 자리가 만료되었습니다: Spring Marathon"},
	"declined":   {"You declined your slot: Spring Marathon", "참가 자리를 거절하셨습니다: Spring Marathon"},
}

// TestMailAtEveryStateChange runs runners in English and Korean through
// apply, review (flagged, approved, rejected), the draw (selected,
// waitlisted), decline, moved up, the reminder, payment and expiry, and
// reads every mail from the dev outbox: one per change, in the entry's
// language only, with the course's name, the price, the absolute status link
// under the public URL, times in the event's zone (KST), an HTML part with
// the link clickable, and nothing of the runner's data but the name.
func TestMailAtEveryStateChange(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	ctx := context.Background()
	if err := e.store.DB().Exec(`UPDATE events SET currency = 'krw'`).Error; err != nil {
		t.Fatal(err)
	}
	var sq int64
	if err := e.store.DB().Raw(`UPDATE subqueues SET price_minor = 50000, capacity = 2 WHERE key = 'half:sub-130' RETURNING id`).
		Scan(&sq).Error; err != nil {
		t.Fatal(err)
	}
	runners := []*journeyRunner{{email: "en1@example.com", lang: "en"}, {email: "ko1@example.com", lang: "ko"},
		{email: "en2@example.com", lang: "en"}, {email: "ko2@example.com", lang: "ko"},
		{email: "ko3@example.com", lang: "ko"}, {email: "en3@example.com", lang: "en"}}
	for i, r := range runners {
		// Korean runners say so by Accept-Language, English ones by the body.
		var hdr []string
		if r.lang == "ko" {
			hdr = []string{"Accept-Language", "ko-KR,ko;q=0.9,en;q=0.5"}
		}
		otpBody := map[string]any{"email": r.email}
		if r.lang == "en" {
			otpBody["lang"] = "en"
		}
		if res := e.do("POST", "/api/v1/events/spring/otp", otpBody, hdr...); res.Status != 202 {
			t.Fatalf("otp: %d %s", res.Status, res.Raw)
		}
		code := e.outboxOf(r.email)[0]
		if hasHangul(code.Body) != (r.lang == "ko") || !strings.Contains(code.HTML, "<!DOCTYPE html>") {
			t.Errorf("%s: code mail not in %s:\n%s", r.email, r.lang, code.Body)
		}
		c := codeRe.FindStringSubmatch(code.Body)
		if c == nil {
			t.Fatalf("no code in %q", code.Body)
		}
		body := e.applyBody(r.email, c[1])
		if r.lang == "en" && i%2 == 0 {
			body["lang"] = "en"
		}
		res := e.do("POST", "/api/v1/events/spring/entries", body, hdr...)
		if res.Status != 201 {
			t.Fatalf("apply %s: %d %s", r.email, res.Status, res.Raw)
		}
		r.id = res.str("entry_id")
		r.kinds = append(r.kinds, "received")
		var lang string
		e.store.DB().Raw("SELECT lang FROM entries WHERE id = ?", r.id).Scan(&lang)
		if lang != r.lang {
			t.Errorf("%s: entry stored lang %q, want %q", r.email, lang, r.lang)
		}
		// The receipt goes out at once, in the entry's language.
		receipt := e.outboxOf(r.email)[0]
		if !strings.Contains(receipt.Subject, subjects["received"][map[string]int{"en": 0, "ko": 1}[r.lang]]) ||
			!strings.Contains(receipt.Body, "Half · Under 1:30") || !strings.Contains(receipt.Body, "₩50,000") {
			t.Errorf("%s receipt:\n%s\n%s", r.email, receipt.Subject, receipt.Body)
		}
	}
	var eventID int64
	e.store.DB().Raw("SELECT id FROM events WHERE slug = 'spring'").Scan(&eventID)

	// Clustering sends two to review after apply; a reviewer approves one
	// and rejects the other.
	flagged, rejected := runners[4], runners[5]
	if _, err := e.store.SaveClusters(ctx, review.ClusterUpdate{EventID: eventID, ClusterOf: map[string]string{},
		Flag: map[string]string{flagged.id: "shares a device", rejected.id: "shares a device"}}); err != nil {
		t.Fatal(err)
	}
	flagged.kinds = append(flagged.kinds, "in_review", "reinstated")
	rejected.kinds = append(rejected.kinds, "in_review", "rejected")
	for id, d := range map[string]string{flagged.id: "approve", rejected.id: "reject"} {
		if r := e.do("POST", "/api/v1/review/entries/"+id+"/decision", map[string]any{"decision": d, "note": "looked at it"},
			"Authorization", "Bearer "+e.reviewer); r.Status != 200 {
			t.Fatalf("%s: %d %s", d, r.Status, r.Raw)
		}
	}

	// The draw: two of five selected, three waitlisted with their places.
	e.clock.Set(testStart.Add(8 * 24 * time.Hour))
	for _, a := range []string{"freeze", "reveal", "draw"} {
		if r := e.action("spring", a, nil); r.Status/100 != 2 {
			t.Fatalf("%s: %d %s", a, r.Status, r.Raw)
		}
	}
	e.drawAll("spring")
	if r := e.action("spring", "publish-results", nil); r.Status != 200 {
		t.Fatalf("publish-results: %d %s", r.Status, r.Raw)
	}
	published := e.clock.Now()
	byID := map[string]*journeyRunner{}
	for _, r := range runners {
		byID[r.id] = r
	}
	var order []struct {
		EntryID          string
		Selected         bool
		WaitlistPosition int
	}
	e.store.DB().Raw(`SELECT entry_id::text, selected, coalesce(waitlist_position, 0) AS waitlist_position FROM draw_results
		WHERE subqueue_id = ? ORDER BY position`, sq).Scan(&order)
	var sel, wait []*journeyRunner
	position := map[string]int{}
	for _, o := range order {
		r := byID[o.EntryID]
		if o.Selected {
			sel, r.kinds = append(sel, r), append(r.kinds, "issued")
		} else {
			wait, r.kinds = append(wait, r), append(r.kinds, "waitlisted")
			position[r.id] = o.WaitlistPosition
		}
	}
	if len(sel) != 2 || len(wait) != 3 {
		t.Fatalf("draw: %d selected, %d waitlisted", len(sel), len(wait))
	}
	offerOf := func(r *journeyRunner) string { id, _ := e.offerOf(r.id); return id }

	// The first selected declines: the first waitlisted moves up.
	if res := e.do("POST", "/api/v1/offers/"+offerOf(sel[0])+"/decline", map[string]any{"token": e.keys.ReceiptToken(sel[0].id)}); res.Status != 200 {
		t.Fatalf("decline: %d %s", res.Status, res.Raw)
	}
	sel[0].kinds = append(sel[0].kinds, "declined")
	wait[0].kinds = append(wait[0].kinds, "moved_up")

	// 37 of the 48 hours later, a quarter of the hold is left: one reminder
	// per live offer, once.
	e.clock.Set(published.Add(37 * time.Hour))
	if n, err := e.offers.RemindOffers(ctx); err != nil || n != 2 {
		t.Fatalf("reminders: %d %v, want 2", n, err)
	}
	if n, err := e.offers.RemindOffers(ctx); err != nil || n != 0 {
		t.Errorf("second reminder pass: %d %v, want 0", n, err)
	}
	sel[1].kinds = append(sel[1].kinds, "reminder")
	wait[0].kinds = append(wait[0].kinds, "reminder")

	// The moved-up runner pays; the other selected lets the hold end, and
	// the next on the waitlist moves up.
	if _, err := e.store.MarkOfferPaid(ctx, offerOf(wait[0]), "pay_test", lottery.OfferTx{Now: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	wait[0].kinds = append(wait[0].kinds, "paid")
	e.clock.Set(published.Add(49 * time.Hour))
	if n, err := e.offers.ExpireDue(ctx); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	sel[1].kinds = append(sel[1].kinds, "expired")
	wait[1].kinds = append(wait[1].kinds, "moved_up")

	seen := map[string]map[string]bool{"en": {}, "ko": {}}
	for _, r := range runners {
		li := map[string]int{"en": 0, "ko": 1}[r.lang]
		link := testPublicURL + "/entries/" + r.id + "?lang=" + r.lang + "&token=" + e.keys.ReceiptToken(r.id)
		msgs := e.outboxOf(r.email)
		var mails []outboxMsg
		for _, m := range msgs {
			if !strings.Contains(m.Subject, "code") && !strings.Contains(m.Subject, "코드") { // checked above
				mails = append(mails, m)
			}
		}
		if len(mails) != len(r.kinds) {
			var subs []string
			for _, m := range mails {
				subs = append(subs, m.Subject)
			}
			t.Errorf("%s: %d mails, want %d (%v):\n%s", r.email, len(mails), len(r.kinds), r.kinds, strings.Join(subs, "\n"))
		}
		for _, kind := range r.kinds {
			var m *outboxMsg
			for i := range mails {
				if strings.Contains(mails[i].Subject, subjects[kind][li]) {
					m = &mails[i]
				}
			}
			if m == nil {
				t.Errorf("%s (%s): no %s mail", r.email, r.lang, kind)
				continue
			}
			seen[r.lang][kind] = true
			where := r.email + " " + kind
			if hasHangul(m.Body) != (r.lang == "ko") || hasHangul(m.Subject) != (r.lang == "ko") {
				t.Errorf("%s: not in %s only:\n%s", where, r.lang, m.Body)
			}
			if !strings.Contains(m.Body, link+"\n") {
				t.Errorf("%s: no absolute status link %s:\n%s", where, link, m.Body)
			}
			if !strings.Contains(m.HTML, `<a href="`+strings.ReplaceAll(link, "&", "&amp;")+`">`) {
				t.Errorf("%s: html has no clickable link:\n%s", where, m.HTML)
			}
			if strings.Contains(m.Body, "half:sub-130") || strings.Contains(m.Body, "1990-04-01") || strings.Contains(m.Body, r.email) ||
				strings.Contains(m.Body, "+82") {
				t.Errorf("%s: shows a key or personal data:\n%s", where, m.Body)
			}
			want := []string{}
			switch kind {
			case "issued", "moved_up", "reminder":
				want = []string{"KST", "₩50,000", "Half · Under 1:30"}
			case "expired":
				want = []string{"KST"}
			case "paid":
				want = []string{"₩50,000", "KST"}
			case "waitlisted":
				want = []string{[2]string{"number ", "대기 순번은 "}[li] + strconv.Itoa(position[r.id])}
			case "rejected":
				want = []string{[2]string{"linked to other entries", "다른 신청과 연결"}[li]}
			}
			for _, w := range want {
				if !strings.Contains(m.Body, w) {
					t.Errorf("%s: lacks %q:\n%s", where, w, m.Body)
				}
			}
			if kind == "rejected" && strings.Contains(m.Body, "linked_cluster") {
				t.Errorf("%s: shows the risk reason's code", where)
			}
		}
	}
	for _, lang := range []string{"en", "ko"} {
		for _, k := range []string{"received", "in_review", "reinstated", "rejected"} {
			if !seen[lang][k] && !(lang == "en" && (k == "in_review" || k == "reinstated")) && !(lang == "ko" && k == "rejected") {
				t.Errorf("no %s %s mail seen", lang, k)
			}
		}
	}
}

// TestRunnerLang: the API's lang is "en" or "ko" (else a field error, and
// nothing is sent); without it the first Accept-Language tag decides.
func TestRunnerLang(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	if r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "a@example.com", "lang": "fr"}); r.Status != 422 || r.errField("field") != "lang" {
		t.Errorf("lang fr: %d %s", r.Status, r.Raw)
	}
	if n := len(e.outboxOf("a@example.com")); n != 0 {
		t.Errorf("a refused request mailed %d", n)
	}
	for _, tt := range []struct {
		accept string
		ko     bool
	}{{"ko-KR,ko;q=0.9", true}, {"ko", true}, {"en-US,ko;q=0.9", false}, {"", false}} {
		addr := "b" + strings.ReplaceAll(tt.accept, ",", "") + "@example.com"
		addr = strings.NewReplacer(";", "", "=", "", ".", "").Replace(addr[:len(addr)-len("@example.com")]) + "@example.com"
		if r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": addr}, "Accept-Language", tt.accept); r.Status != 202 {
			t.Fatalf("otp: %d %s", r.Status, r.Raw)
		}
		if m := e.outboxOf(addr); len(m) != 1 || hasHangul(m[0].Body) != tt.ko {
			t.Errorf("Accept-Language %q: %v", tt.accept, m)
		}
	}
}

// TestRejectedAtApplyIsMailed: an entry refused at apply gets the rejection
// (its category in plain words and the appeal link) instead of a receipt,
// never the risk reasons themselves.
func TestRejectedAtApplyIsMailed(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	body := e.applyBody("filled@example.com", e.otp("spring", "filled@example.com"))
	body["website"] = "https://spam.example"
	body["signals"] = map[string]any{"webdriver": true, "fill_ms": 300, "timezone": "Asia/Seoul"}
	r := e.do("POST", "/api/v1/events/spring/entries", body, "Accept-Language", "ko")
	if r.Status != 201 || r.str("status") != "rejected" {
		t.Fatalf("apply: %d %s", r.Status, r.Raw)
	}
	m := e.outboxOf("filled@example.com")[0]
	id := r.str("entry_id")
	if !strings.Contains(m.Subject, "신청이 승인되지 않았습니다") || !strings.Contains(m.Body, "프로그램으로 보내진") ||
		!strings.Contains(m.Body, testPublicURL+"/entries/"+id+"?lang=ko&token=") || strings.Contains(m.Body, "honeypot") ||
		strings.Contains(m.Body, "website") {
		t.Errorf("rejection at apply:\n%s\n%s", m.Subject, m.Body)
	}
}
