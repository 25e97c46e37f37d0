package api_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	abredis "github.com/startline/startline/antibot/redis"
)

// meCode asks for a "my entries" code for email and reads it from the
// outbox ("" when no mail was sent).
func (e *env) meCode(email string) string {
	e.t.Helper()
	before, _ := e.store.OutboxFor(context.Background(), email, 1)
	if r := e.do("POST", "/api/v1/me/otp", map[string]any{"email": email}); r.Status != 202 || r.Body["sent"] != true {
		e.t.Fatalf("me/otp: %d %s", r.Status, r.Raw)
	}
	msgs, _ := e.store.OutboxFor(context.Background(), email, 1)
	if len(msgs) == 0 || (len(before) > 0 && msgs[0].ID == before[0].ID) {
		return ""
	}
	m := codeRe.FindStringSubmatch(msgs[0].Body)
	if m == nil || msgs[0].Intent != "me.code" {
		e.t.Fatalf("no my-entries code in %q (%s)", msgs[0].Body, msgs[0].Intent)
	}
	return m[1]
}

func (e *env) apply1(slug, email string) (id, token string) {
	e.t.Helper()
	b := e.applyBody(email, e.otp(slug, email))
	if slug != "spring" {
		b["altcha"] = e.altcha(slug)
	}
	r := e.do("POST", "/api/v1/events/"+slug+"/entries", b)
	if r.Status != 201 {
		e.t.Fatalf("apply %s to %s: %d %s", email, slug, r.Status, r.Raw)
	}
	return r.str("entry_id"), r.str("receipt_token")
}

// TestMyEntries: a code mailed to an address shows every entry of that
// address (and no other's) with absolute status links; wrong, reused,
// expired and over-tried codes are refused; an address with no entries is
// answered the same and mailed nothing.
func TestMyEntries(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	autumn := eventBody("autumn")
	autumn["name"] = "Autumn Half"
	if r := e.do("POST", "/api/v1/admin/events", autumn, "Authorization", "Bearer "+e.organizer); r.Status != 201 {
		t.Fatalf("create autumn: %d %s", r.Status, r.Raw)
	}
	if r := e.action("autumn", "publish", nil); r.Status != 200 {
		t.Fatalf("publish autumn: %d %s", r.Status, r.Raw)
	}
	a1, _ := e.apply1("spring", "ana@example.com")
	a2, _ := e.apply1("autumn", "Ana@Example.com")
	b1, _ := e.apply1("spring", "bo@example.com")

	if r := e.do("POST", "/api/v1/me/otp", map[string]any{"email": "not an address"}); r.Status != 422 || r.errField("field") != "email" {
		t.Errorf("bad address: %d %s", r.Status, r.Raw)
	}
	if code := e.meCode("nobody@example.com"); code != "" {
		t.Errorf("an address with no entries was mailed a code")
	}
	// Trying a code for it reads exactly as for an address with entries:
	// wrong, then too many tries. No oracle of who applied.
	for i := range 6 {
		r := e.do("POST", "/api/v1/me/entries", map[string]any{"email": "nobody@example.com", "otp": "123456"})
		want := "the code is wrong"
		if i == 5 {
			want = "too many attempts"
		}
		if r.Status != 422 || !strings.Contains(r.errField("message"), want) {
			t.Errorf("try %d for an address without entries: %d %s", i, r.Status, r.Raw)
		}
	}

	code := e.meCode("ana@example.com")
	if code == "" {
		t.Fatal("no code mailed to an address with entries")
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if r := e.do("POST", "/api/v1/me/entries", map[string]any{"email": "ana@example.com", "otp": wrong}); r.Status != 422 || r.errCode() != "invalid_otp" {
		t.Errorf("wrong code: %d %s", r.Status, r.Raw)
	}
	// Bo's code shows Bo's entry only.
	if r := e.do("POST", "/api/v1/me/entries", map[string]any{"email": "bo@example.com", "otp": code}); r.Status != 422 {
		t.Errorf("another address's code: %d %s", r.Status, r.Raw)
	}
	r := e.do("POST", "/api/v1/me/entries", map[string]any{"email": "ana@example.com", "otp": code})
	if r.Status != 200 {
		t.Fatalf("my entries: %d %s", r.Status, r.Raw)
	}
	list := r.Body["entries"].([]any)
	got := map[string]map[string]any{}
	for _, x := range list {
		m := x.(map[string]any)
		got[m["entry_id"].(string)] = m
	}
	if len(list) != 2 || got[a1] == nil || got[a2] == nil || got[b1] != nil {
		t.Fatalf("entries of ana: %s", r.Raw)
	}
	if got[a2]["event"] != "autumn" || got[a2]["event_name"] != "Autumn Half" || got[a2]["status"] != "received" ||
		got[a2]["subqueue_name"] == "half:sub-130" {
		t.Errorf("autumn line: %v", got[a2])
	}
	for id, m := range got {
		link := m["status_url"].(string)
		u, err := url.Parse(link)
		if err != nil || !u.IsAbs() || !strings.HasPrefix(link, e.srv.URL+"/entries/"+id+"?token=") {
			t.Fatalf("status_url %q is not this site's absolute status link", link)
		}
		if s := e.do("GET", "/api/v1/entries/"+id+"?token="+url.QueryEscape(u.Query().Get("token")), nil); s.Status != 200 {
			t.Errorf("the status link's token does not open the entry: %d", s.Status)
		}
	}
	if r := e.do("POST", "/api/v1/me/entries", map[string]any{"email": "ana@example.com", "otp": code}); r.Status != 422 {
		t.Errorf("a used code: %d %s", r.Status, r.Raw)
	}

	// Expired: valid ten minutes.
	code = e.meCode("bo@example.com")
	e.clock.Add(11 * time.Minute)
	if r := e.do("POST", "/api/v1/me/entries", map[string]any{"email": "bo@example.com", "otp": code}); r.Status != 422 ||
		!strings.Contains(r.errField("message"), "expired") {
		t.Errorf("expired code: %d %s", r.Status, r.Raw)
	}
	// Over-tried: five tries per code, the right one after them is refused.
	code = e.meCode("bo@example.com")
	wrong = "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range 5 {
		e.do("POST", "/api/v1/me/entries", map[string]any{"email": "bo@example.com", "otp": wrong})
	}
	if r := e.do("POST", "/api/v1/me/entries", map[string]any{"email": "bo@example.com", "otp": code}); r.Status != 422 ||
		!strings.Contains(r.errField("message"), "too many") {
		t.Errorf("over-tried code: %d %s", r.Status, r.Raw)
	}
	code = e.meCode("bo@example.com")
	if r := e.do("POST", "/api/v1/me/entries", map[string]any{"email": "bo@example.com", "otp": code}); r.Status != 200 ||
		len(r.Body["entries"].([]any)) != 1 {
		t.Errorf("bo's entries: %d %s", r.Status, r.Raw)
	}
}

// TestWithdraw: a runner withdraws before close (logged, mailed, idempotent,
// the identity kept), not after (409 registration_closed), and a withdrawn
// entry is in no frozen list, so it is not drawn.
func TestWithdraw(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	ids, tokens := e.applyN("spring", 4)

	if r := e.do("POST", "/api/v1/entries/"+ids[0]+"/withdraw", map[string]any{"token": tokens[1]}); r.Status != 404 {
		t.Errorf("wrong token: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/entries/not-a-uuid/withdraw", map[string]any{"token": tokens[1]}); r.Status != 404 {
		t.Errorf("bad id: %d %s", r.Status, r.Raw)
	}
	for range 2 { // the second answers the same and changes nothing
		if r := e.do("POST", "/api/v1/entries/"+ids[0]+"/withdraw", map[string]any{"token": tokens[0]}); r.Status != 200 ||
			r.str("status") != "withdrawn" {
			t.Fatalf("withdraw: %d %s", r.Status, r.Raw)
		}
	}
	if s := e.do("GET", "/api/v1/entries/"+ids[0]+"?token="+tokens[0], nil); s.str("status") != "withdrawn" {
		t.Errorf("status after withdrawing: %s", s.Raw)
	}
	var logs, intents int64
	e.store.DB().Raw("SELECT count(*) FROM event_log WHERE kind = 'entry.withdrawn' AND entry_id = ? AND to_status = 'withdrawn'", ids[0]).Scan(&logs)
	e.store.DB().Raw("SELECT count(*) FROM outbox WHERE intent = 'entry.withdrawn' AND entry_id = ?", ids[0]).Scan(&intents)
	if logs != 1 || intents != 1 {
		t.Errorf("withdrawal logged %d and mailed %d times, want once each", logs, intents)
	}
	// The identity stays with the withdrawn entry: no second entry.
	if r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("r000@example.com", e.otp("spring", "r000@example.com"))); r.Status != 409 ||
		r.errCode() != "duplicate_entry" {
		t.Errorf("apply again after withdrawing: %d %s", r.Status, r.Raw)
	}

	// The live count (the odds pass) leaves the withdrawn entry out.
	if _, err := e.stats.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev := e.do("GET", "/api/v1/events/spring", nil)
	counted := -1.0
	for _, x := range ev.Body["subqueues"].([]any) {
		if q := x.(map[string]any); q["key"] == "half:sub-130" {
			counted, _ = q["entries"].(float64)
		}
	}
	if counted != 3 {
		t.Errorf("half:sub-130 counts %v entries, want 3 (one withdrawn)", counted)
	}

	e.clock.Set(testStart.Add(8 * 24 * time.Hour)) // registration closed
	if r := e.do("POST", "/api/v1/entries/"+ids[1]+"/withdraw", map[string]any{"token": tokens[1]}); r.Status != 409 ||
		r.errCode() != "registration_closed" {
		t.Errorf("withdraw after close: %d %s", r.Status, r.Raw)
	}
	if r := e.action("spring", "freeze", nil); r.Status != 200 {
		t.Fatalf("freeze: %d %s", r.Status, r.Raw)
	}
	fl := e.do("GET", "/api/v1/events/spring/draws/half:sub-130/frozen.json", nil)
	listed := map[string]bool{}
	for _, x := range fl.Body["entries"].([]any) {
		listed[x.(map[string]any)["entry_id"].(string)] = true
	}
	if len(listed) != 3 || listed[ids[0]] || !listed[ids[1]] {
		t.Errorf("frozen list %v: the withdrawn entry %s must be out, the others in", listed, ids[0])
	}
	for _, a := range []string{"reveal", "draw"} {
		if r := e.action("spring", a, nil); r.Status/100 != 2 {
			t.Fatalf("%s: %d %s", a, r.Status, r.Raw)
		}
	}
	e.drawAll("spring")
	var drawn int64
	e.store.DB().Raw("SELECT count(*) FROM draw_results WHERE entry_id = ?", ids[0]).Scan(&drawn)
	art := e.do("GET", "/api/v1/events/spring/draws/half:sub-130/artifact.json", nil, "Accept-Encoding", "identity")
	if drawn != 0 || strings.Contains(string(art.Raw), ids[0]) || !strings.Contains(string(art.Raw), ids[1]) {
		t.Errorf("the withdrawn entry was drawn (%d results)", drawn)
	}
	if s := e.do("GET", "/api/v1/entries/"+ids[0]+"?token="+tokens[0], nil); s.str("status") != "withdrawn" {
		t.Errorf("status after the draw: %s", s.Raw)
	}
}

// rejected applies a flagged entry and has the reviewer reject it.
func (e *env) rejected(email string) (id, token string) {
	e.t.Helper()
	b := e.applyBody(email, e.otp("spring", email))
	b["signals"] = map[string]any{"webdriver": true, "fill_ms": 40000}
	r := e.do("POST", "/api/v1/events/spring/entries", b)
	if r.str("status") != "in_review" {
		e.t.Fatalf("flagged apply: %s", r.Raw)
	}
	id, token = r.str("entry_id"), r.str("receipt_token")
	if d := e.do("POST", "/api/v1/review/entries/"+id+"/decision", map[string]any{"decision": "reject", "note": "automated browser"},
		"Authorization", "Bearer "+e.reviewer); d.Status != 200 {
		e.t.Fatalf("reject: %d %s", d.Status, d.Raw)
	}
	return id, token
}

// TestAppeal: a rejected runner appeals once with a message; reviewers see
// it with the entry's reasons and reinstate (back into the draw) or uphold,
// each audited, logged and mailed; after the freeze appeals are closed.
func TestAppeal(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	okIDs, okTokens := e.applyN("spring", 1)
	x, xt := e.rejected("x@example.com")
	y, yt := e.rejected("y@example.com")
	z, zt := e.rejected("z@example.com")

	path := "/api/v1/entries/" + x + "/appeal"
	if r := e.do("POST", "/api/v1/entries/"+okIDs[0]+"/appeal", map[string]any{"token": okTokens[0], "message": "hi"}); r.Status != 409 ||
		r.errCode() != "invalid_transition" {
		t.Errorf("appeal of an entry not rejected: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", path, map[string]any{"token": yt, "message": "hi"}); r.Status != 404 {
		t.Errorf("appeal with another entry's token: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", path, map[string]any{"token": xt, "message": "   "}); r.Status != 422 || r.errField("field") != "message" {
		t.Errorf("empty message: %d %s", r.Status, r.Raw)
	}
	msg := "I use a screen reader with automation; I am one person."
	if r := e.do("POST", path, map[string]any{"token": xt, "message": msg}); r.Status != 201 || r.str("status") != "open" {
		t.Fatalf("appeal: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", path, map[string]any{"token": xt, "message": "again"}); r.Status != 409 || r.errCode() != "appeal_exists" {
		t.Errorf("second appeal: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/entries/"+y+"/appeal", map[string]any{"token": yt, "message": "please"}); r.Status != 201 {
		t.Fatalf("appeal y: %d %s", r.Status, r.Raw)
	}

	auth := []string{"Authorization", "Bearer " + e.reviewer}
	l := e.do("GET", "/api/v1/review/appeals?event=spring", nil, auth...)
	if l.Status != 200 {
		t.Fatalf("appeals: %d %s", l.Status, l.Raw)
	}
	as := l.Body["appeals"].([]any)
	first := as[0].(map[string]any)
	if len(as) != 2 || first["entry_id"] != x || first["message"] != msg || !strings.Contains(string(l.Raw), "webdriver") {
		t.Fatalf("appeals list: %s", l.Raw)
	}
	if r := e.do("GET", "/api/v1/review/appeals?event=spring", nil); r.Status != 401 {
		t.Errorf("appeals without staff: %d", r.Status)
	}
	xID := int64(first["appeal_id"].(float64))
	yID := int64(as[1].(map[string]any)["appeal_id"].(float64))
	dec := func(id int64) string { return "/api/v1/review/appeals/" + strconv.FormatInt(id, 10) + "/decision" }
	if r := e.do("POST", dec(xID), map[string]any{"decision": "uphold"}, auth...); r.Status != 422 || r.errField("field") != "note" {
		t.Errorf("uphold without a note: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", dec(xID), map[string]any{"decision": "uphold", "note": "the device is shared by many entries"}, auth...); r.Status != 200 ||
		r.str("status") != "upheld" {
		t.Fatalf("uphold: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", dec(xID), map[string]any{"decision": "reinstate"}, auth...); r.Status != 409 {
		t.Errorf("decide twice: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", dec(yID), map[string]any{"decision": "reinstate"}, auth...); r.Status != 200 || r.str("status") != "reinstated" {
		t.Fatalf("reinstate: %d %s", r.Status, r.Raw)
	}
	appealOf := func(s resp) string {
		a, _ := s.Body["appeal"].(map[string]any)
		st, _ := a["status"].(string)
		return st
	}
	if s := e.do("GET", "/api/v1/entries/"+x+"?token="+xt, nil); s.str("status") != "rejected" || appealOf(s) != "upheld" ||
		s.str("rejection") == "" || strings.Contains(string(s.Raw), "shared by many") {
		t.Errorf("upheld entry (its appeal, the category, never the reviewer's note): %s", s.Raw)
	}
	if s := e.do("GET", "/api/v1/entries/"+y+"?token="+yt, nil); s.str("status") != "received" || appealOf(s) != "reinstated" {
		t.Errorf("reinstated entry: %s", s.Raw)
	}
	if s := e.do("GET", "/api/v1/entries/"+z+"?token="+zt, nil); s.Body["appeal"] != nil || s.str("rejection") == "" {
		t.Errorf("rejected entry without an appeal: %s", s.Raw)
	}
	count := func(q string, args ...any) int64 {
		var n int64
		e.store.DB().Raw(q, args...).Scan(&n)
		return n
	}
	if n := count("SELECT count(*) FROM audit_log WHERE action IN ('appeal.file', 'appeal.uphold', 'appeal.reinstate')"); n != 4 {
		t.Errorf("audit rows %d, want 4 (two filed, two decided)", n)
	}
	if count("SELECT count(*) FROM audit_log WHERE action = 'appeal.uphold' AND target = ? AND staff_id IS NOT NULL", x) != 1 ||
		count("SELECT count(*) FROM audit_log WHERE action = 'appeal.reinstate' AND target = ?", y) != 1 {
		t.Error("a decision is not audited with its reviewer")
	}
	if count("SELECT count(*) FROM event_log WHERE kind = 'entry.reinstated' AND entry_id = ? AND from_status = 'rejected' AND to_status = 'received'", y) != 1 ||
		count("SELECT count(*) FROM event_log WHERE kind = 'appeal_upheld' AND entry_id = ?", x) != 1 {
		t.Error("decisions are not in the event log")
	}
	if count("SELECT count(*) FROM event_log WHERE details::text LIKE '%screen reader%'") != 0 {
		t.Error("the event log carries the runner's message")
	}
	for _, w := range []struct{ entry, intent string }{{x, "entry.appealed"}, {x, "entry.appeal_upheld"}, {y, "entry.appealed"}, {y, "entry.reinstated"}} {
		if count("SELECT count(*) FROM outbox WHERE entry_id = ? AND intent = ?", w.entry, w.intent) != 1 {
			t.Errorf("no %s mail for %s", w.intent, w.entry)
		}
	}

	// After the freeze nothing could enter the draw: appeals are closed.
	e.clock.Set(testStart.Add(8 * 24 * time.Hour))
	if r := e.action("spring", "freeze", nil); r.Status != 200 {
		t.Fatalf("freeze: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/entries/"+z+"/appeal", map[string]any{"token": zt, "message": "late"}); r.Status != 409 ||
		r.errCode() != "appeal_closed" {
		t.Errorf("appeal after freeze: %d %s", r.Status, r.Raw)
	}
	fl := e.do("GET", "/api/v1/events/spring/draws/half:sub-130/frozen.json", nil)
	if !strings.Contains(string(fl.Raw), y) || strings.Contains(string(fl.Raw), x) {
		t.Error("the reinstated entry must be in the frozen list, the upheld one not")
	}
}

// TestEraseAndRetention: a runner's erase request is refused while the
// entry holds a slot and anonymizes it otherwise; the retention pass
// anonymizes an event past retention and leaves a recent one, the
// statuses and the published artifacts as they were.
func TestEraseAndRetention(t *testing.T) {
	e := newEnv(t, true) // retention 24h
	e.drawnEvent(5, 2)
	// An applicant of autumn, which closes a month later.
	autumn := eventBody("autumn")
	autumn["opens_at"] = testStart.Add(8 * 24 * time.Hour).Format(time.RFC3339)
	autumn["closes_at"] = testStart.Add(40 * 24 * time.Hour).Format(time.RFC3339)
	if r := e.do("POST", "/api/v1/admin/events", autumn, "Authorization", "Bearer "+e.organizer); r.Status != 201 {
		t.Fatalf("create autumn: %d %s", r.Status, r.Raw)
	}
	if r := e.action("autumn", "publish", nil); r.Status != 200 {
		t.Fatalf("publish autumn: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(9 * 24 * time.Hour))
	aid, _ := e.apply1("autumn", "kept@example.com")

	var holder, waiting string
	// In half:sub-130 (capacity 2): a winner holding an offer, the first on the waitlist.
	e.store.DB().Raw(`SELECT o.entry_id::text FROM offers o JOIN subqueues q ON q.id = o.subqueue_id
		WHERE o.status = 'pending' AND q.key = 'half:sub-130' ORDER BY o.entry_id LIMIT 1`).Scan(&holder)
	e.store.DB().Raw(`SELECT r.entry_id::text FROM draw_results r JOIN subqueues q ON q.id = r.subqueue_id
		WHERE NOT r.selected AND q.key = 'half:sub-130' ORDER BY r.position LIMIT 1`).Scan(&waiting)
	if holder == "" || waiting == "" {
		t.Fatal("no offered or waitlisted entry after the draw")
	}
	if r := e.do("POST", "/api/v1/entries/"+holder+"/erase", map[string]any{"token": e.keys.ReceiptToken(holder)}); r.Status != 409 ||
		r.errCode() != "entry_holds_slot" {
		t.Errorf("erase while holding a slot: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/entries/"+waiting+"/erase", map[string]any{"token": "nope"}); r.Status != 404 {
		t.Errorf("erase with a wrong token: %d %s", r.Status, r.Raw)
	}
	// Answers hold personal data too (an emergency contact): erased with the rest.
	e.store.DB().Exec(`UPDATE entries SET answers = '{"emergency":{"name":"Kim Jiwoo","phone":"+821012345678"}}' WHERE id = ?`, waiting)
	before := e.do("GET", "/api/v1/entries/"+waiting+"?token="+e.keys.ReceiptToken(waiting), nil).str("status")
	if r := e.do("POST", "/api/v1/entries/"+waiting+"/erase", map[string]any{"token": e.keys.ReceiptToken(waiting)}); r.Status != 200 {
		t.Fatalf("erase: %d %s", r.Status, r.Raw)
	}
	if s := e.do("GET", "/api/v1/entries/"+waiting+"?token="+e.keys.ReceiptToken(waiting), nil); s.Status != 200 || s.str("status") != before {
		t.Errorf("after erasing, the status page answers %d %q, want %q", s.Status, s.str("status"), before)
	}
	var erased struct {
		Name, Email, Phone, Answers string
		Anon                        bool
	}
	e.store.DB().Raw("SELECT name, email, phone, answers::text AS answers, anonymized_at IS NOT NULL AS anon FROM entries WHERE id = ?", waiting).Scan(&erased)
	if !erased.Anon || erased.Name != "erased" || !strings.HasSuffix(erased.Email, "@erased.invalid") || !strings.HasPrefix(erased.Phone, "+999") ||
		erased.Answers != "{}" {
		t.Errorf("erased entry: %+v", erased)
	}
	count := func(q string, args ...any) int64 {
		var n int64
		e.store.DB().Raw(q, args...).Scan(&n)
		return n
	}
	// The erased runner cannot be told of a slot: a released one passes them by.
	offer, _ := e.offerOf(holder)
	if r := e.do("POST", "/api/v1/offers/"+offer+"/decline", map[string]any{"token": e.keys.ReceiptToken(holder)}); r.Status != 200 {
		t.Fatalf("decline: %d %s", r.Status, r.Raw)
	}
	if count("SELECT count(*) FROM offers WHERE entry_id = ?", waiting) != 0 ||
		count(`SELECT count(*) FROM offers o JOIN subqueues q ON q.id = o.subqueue_id WHERE q.key = 'half:sub-130' AND o.round = 1`) != 1 {
		t.Error("the released slot went to the erased entry, or to no one")
	}
	if count("SELECT count(*) FROM audit_log WHERE action = 'entry.erase' AND target = ?", waiting) != 1 ||
		count("SELECT count(*) FROM event_log WHERE kind = 'entry.erased' AND entry_id = ?", waiting) != 1 {
		t.Error("the erase is not audited and logged")
	}

	// Retention: spring closed at +7d; its entries are due 24h later.
	artifact := func() [32]byte {
		a := e.do("GET", "/api/v1/events/spring/draws/half:sub-130/artifact.json", nil, "Accept-Encoding", "identity")
		if a.Status != 200 {
			t.Fatalf("artifact: %d", a.Status)
		}
		return sha256.Sum256(a.Raw)
	}
	art := artifact()
	frozen := e.do("GET", "/api/v1/events/spring/draws/half:sub-130/frozen.json", nil).Raw
	statuses := func() map[string]string {
		var rows []struct{ ID, Status string }
		e.store.DB().Raw("SELECT id::text AS id, status FROM entries ORDER BY id").Scan(&rows)
		m := map[string]string{}
		for _, r := range rows {
			m[r.ID] = r.Status
		}
		return m
	}
	st := statuses()
	// Two runners of a group ("kim-family"): a group still, without the name.
	var pair []string
	e.store.DB().Raw(`SELECT e.id::text FROM entries e JOIN events ev ON ev.id = e.event_id
		WHERE ev.slug = 'spring' AND e.anonymized_at IS NULL ORDER BY e.id LIMIT 2`).Scan(&pair)
	e.store.DB().Exec("UPDATE entries SET group_code = 'kim-family' WHERE id IN ?", pair)
	ctx := context.Background()
	e.clock.Set(testStart.Add(7*24*time.Hour + 23*time.Hour))
	if evs, n, err := e.self.RunRetention(ctx, 10); err != nil || evs != 0 || n != 0 {
		t.Fatalf("retention before it is due: %d events %d entries %v", evs, n, err)
	}
	e.clock.Set(testStart.Add(8*24*time.Hour + time.Minute))
	evs, n, err := e.self.RunRetention(ctx, 10)
	if err != nil || evs != 1 || n != int(count("SELECT count(*) FROM entries e JOIN events ev ON ev.id = e.event_id WHERE ev.slug = 'spring'"))-1 {
		t.Fatalf("retention: %d events %d entries %v", evs, n, err)
	}
	if kept := count(`SELECT count(*) FROM entries e JOIN events ev ON ev.id = e.event_id
		WHERE ev.slug = 'spring' AND (e.anonymized_at IS NULL OR e.name <> 'erased' OR e.person_key <> '' OR e.client_ip IS NOT NULL
			OR e.user_agent <> '' OR e.device_id <> '' OR e.fingerprint <> '' OR e.signals <> '{}'::jsonb OR e.birth_date <> DATE '1900-01-01'
			OR e.email NOT LIKE 'erased-%@erased.invalid' OR e.phone NOT LIKE '+999%' OR e.group_code LIKE '%family%')`); kept != 0 {
		t.Errorf("%d spring entries keep personal data", kept)
	}
	if count("SELECT count(DISTINCT group_code) FROM entries WHERE id IN ? AND group_code LIKE 'x%'", pair) != 1 {
		t.Error("a group's members no longer share one (new) group code")
	}
	if count("SELECT count(*) FROM entries WHERE id = ? AND anonymized_at IS NULL AND email = 'kept@example.com'", aid) != 1 {
		t.Error("autumn's entry, not due yet, was anonymized")
	}
	if artifact() != art || string(e.do("GET", "/api/v1/events/spring/draws/half:sub-130/frozen.json", nil).Raw) != string(frozen) {
		t.Error("the published artifacts changed")
	}
	if after := statuses(); len(after) != len(st) {
		t.Error("entries disappeared")
	} else {
		for id, s := range st {
			if after[id] != s {
				t.Errorf("entry %s status %s → %s", id, s, after[id])
			}
		}
	}
	if count("SELECT count(*) FROM audit_log WHERE action = 'retention.anonymize' AND target = 'spring' AND staff_id IS NULL AND details->>'actor' = 'system'") != 1 ||
		count("SELECT count(*) FROM event_log WHERE kind = 'entries.anonymized'") != 1 {
		t.Error("the retention pass is not audited and logged once")
	}
	if count(`SELECT count(*) FROM otp_requests r JOIN events ev ON ev.id = r.event_id WHERE ev.slug = 'spring' AND r.email_key NOT LIKE 'erased:%'`) != 0 {
		t.Error("spring's code requests keep addresses")
	}
	if evs, _, _ := e.self.RunRetention(ctx, 10); evs != 0 {
		t.Error("a second pass found work")
	}
}

// TestMeCodeBudgets: "my entries" codes are counted like apply codes, per
// (requester, address), separately from them; a refused request (a bad
// address, or one past the budget) spends nothing, so the requester's
// other addresses and the apply codes still work.
func TestMeCodeBudgets(t *testing.T) {
	rules := rulesWith(abredis.Rule{Kind: abredis.KindOTPEmail, Rate: limiter.Rate{Limit: 2, Period: 10 * time.Minute}},
		abredis.Rule{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: 8, Period: time.Minute}})
	e := newEnvRules(t, true, rules, true)
	e.openEvent("spring")
	e.apply1("spring", "ana@example.com")
	for range 3 { // refused at the edge: counted nowhere
		if r := e.do("POST", "/api/v1/me/otp", map[string]any{"email": "nope"}); r.Status != 422 {
			t.Fatalf("bad address: %d %s", r.Status, r.Raw)
		}
	}
	for i := range 2 {
		if r := e.do("POST", "/api/v1/me/otp", map[string]any{"email": "ana@example.com"}); r.Status != 202 {
			t.Fatalf("code %d: %d %s", i, r.Status, r.Raw)
		}
	}
	r := e.do("POST", "/api/v1/me/otp", map[string]any{"email": "ana@example.com"})
	if r.Status != http.StatusTooManyRequests || r.errCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("third code: %d %s", r.Status, r.Raw)
	}
	// The refusal spent neither the IP's budget nor the apply code's pair.
	if r := e.do("POST", "/api/v1/me/otp", map[string]any{"email": "bo@example.com"}); r.Status != 202 {
		t.Errorf("another address: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "ana@example.com"}); r.Status != 202 {
		t.Errorf("apply code after my-entries codes: %d %s", r.Status, r.Raw)
	}
}
