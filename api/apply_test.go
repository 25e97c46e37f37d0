package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestApplyAndStatus(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("runner@example.com", e.otp("spring", "runner@example.com")))
	if r.Status != http.StatusCreated {
		t.Fatalf("apply: got %d %s, want 201", r.Status, r.Raw)
	}
	id, tok := r.str("entry_id"), r.str("receipt_token")
	if r.str("status") != "received" || r.str("subqueue") != "half:sub-130" || id == "" || tok == "" {
		t.Fatalf("apply answer: %s", r.Raw)
	}

	s := e.do("GET", "/api/v1/entries/"+id+"?token="+tok, nil)
	if s.Status != 200 || s.str("status") != "received" || s.str("subqueue") != "half:sub-130" || s.str("entry_id") != id {
		t.Fatalf("status: %d %s", s.Status, s.Raw)
	}
	for name, path := range map[string]string{
		"wrong token":   "/api/v1/entries/" + id + "?token=" + strings.Repeat("A", len(tok)),
		"no token":      "/api/v1/entries/" + id,
		"unknown id":    "/api/v1/entries/00000000-0000-4000-8000-000000000000?token=" + tok,
		"malformed id":  "/api/v1/entries/not-a-uuid?token=" + tok,
		"other's token": "/api/v1/entries/" + id + "?token=" + tok[:len(tok)-1],
	} {
		got := e.do("GET", path, nil)
		if got.Status != 404 || got.errCode() != "not_found" {
			t.Errorf("%s: got %d %s, want 404 not_found", name, got.Status, got.Raw)
		}
		if strings.Contains(string(got.Raw), "received") || strings.Contains(string(got.Raw), "half") {
			t.Errorf("%s: answer leaks entry data: %s", name, got.Raw)
		}
	}

	// Every state change is in the append-only log.
	var kinds []string
	e.store.DB().Raw("SELECT kind FROM event_log WHERE entry_id = ?", id).Scan(&kinds)
	if len(kinds) != 1 || kinds[0] != "entry.created" {
		t.Errorf("event log for entry: %v", kinds)
	}
	if err := e.store.DB().Exec("DELETE FROM event_log").Error; err == nil {
		t.Error("event_log accepted a DELETE; it must be append-only")
	}
}

func TestApplyDuplicatePerson(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	if r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("kim.minjun@gmail.com", e.otp("spring", "kim.minjun@gmail.com"))); r.Status != 201 {
		t.Fatalf("first apply: %d %s", r.Status, r.Raw)
	}
	for _, email := range []string{"kim.minjun@gmail.com", "KIM.MINJUN@GMAIL.COM", "kimminjun+again@googlemail.com"} {
		b := e.applyBody(email, e.otp("spring", email))
		b["pace_group"] = "open"
		r := e.do("POST", "/api/v1/events/spring/entries", b)
		if r.Status != http.StatusConflict || r.errCode() != "duplicate_entry" {
			t.Errorf("%s: got %d %s, want 409 duplicate_entry", email, r.Status, r.Raw)
		}
	}
	// The same person under another address: caught by phone, then by name + birth date.
	other := e.applyBody("minjun.k@example.com", e.otp("spring", "minjun.k@example.com"))
	first := e.applyBody("kim.minjun@gmail.com", "")
	other["phone"] = "010 " + first["phone"].(string)[7:] // the same number written the Korean way
	if r := e.do("POST", "/api/v1/events/spring/entries", other); r.Status != http.StatusConflict || r.errField("field") != "phone" {
		t.Errorf("same phone: got %d %s, want 409 on phone", r.Status, r.Raw)
	}
	other = e.applyBody("minjun.k@example.com", e.otp("spring", "minjun.k@example.com"))
	other["name"] = "  " + strings.ToUpper(first["name"].(string)) + " "
	if r := e.do("POST", "/api/v1/events/spring/entries", other); r.Status != http.StatusConflict || r.errField("field") != "name" {
		t.Errorf("same name and birth date: got %d %s, want 409 on name", r.Status, r.Raw)
	}
	if n := e.countEntries(); n != 1 {
		t.Errorf("entries: got %d, want 1", n)
	}
}

func TestApplyOutsideWindow(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	code := e.otp("spring", "early@example.com")
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"before opens_at", testStart.Add(-time.Second), "registration_not_open"},
		{"at closes_at", testStart.Add(7 * 24 * time.Hour), "registration_closed"},
		{"after closes_at", testStart.Add(8 * 24 * time.Hour), "registration_closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Set(tt.at)
			r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("early@example.com", code))
			if r.Status != http.StatusForbidden || r.errCode() != tt.want {
				t.Errorf("got %d %s, want 403 %s", r.Status, r.Raw, tt.want)
			}
			o := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "early@example.com"})
			if o.Status != http.StatusForbidden || o.errCode() != tt.want {
				t.Errorf("otp: got %d %s, want 403 %s", o.Status, o.Raw, tt.want)
			}
		})
	}
	// An organizer's close ends registration inside the window.
	e.clock.Set(testStart.Add(time.Hour))
	if r := e.do("POST", "/api/v1/admin/events/spring/close", nil, "Authorization", "Bearer "+e.organizer); r.Status != 200 || r.str("status") != "closed" {
		t.Fatalf("close: %d %s", r.Status, r.Raw)
	}
	r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("early@example.com", code))
	if r.Status != http.StatusForbidden || r.errCode() != "registration_closed" {
		t.Errorf("after close: got %d %s, want 403 registration_closed", r.Status, r.Raw)
	}
	if n := e.countEntries(); n != 0 {
		t.Errorf("entries: got %d, want 0", n)
	}
}

func TestApplyValidation(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	code := e.otp("spring", "valid@example.com")
	tests := []struct {
		name  string
		edit  func(b map[string]any)
		field string
	}{
		{"missing course", func(b map[string]any) { delete(b, "course") }, "course"},
		{"unknown course", func(b map[string]any) { b["course"] = "ultra" }, "course"},
		{"course not a string", func(b map[string]any) { b["course"] = 42 }, "course"},
		{"unknown pace group", func(b map[string]any) { b["pace_group"] = "sub-100" }, "pace_group"},
		{"pace group of another course", func(b map[string]any) { b["course"] = "10k"; b["pace_group"] = "sub-130" }, "pace_group"},
		{"empty name", func(b map[string]any) { b["name"] = "   " }, "name"},
		{"name too long", func(b map[string]any) { b["name"] = strings.Repeat("a", 101) }, "name"},
		{"name with control char", func(b map[string]any) { b["name"] = "Kim\x00Minjun" }, "name"},
		{"missing email", func(b map[string]any) { delete(b, "email") }, "email"},
		{"bad email", func(b map[string]any) { b["email"] = "not-an-email" }, "email"},
		{"email display name", func(b map[string]any) { b["email"] = "Kim <kim@example.com>" }, "email"},
		{"missing phone", func(b map[string]any) { delete(b, "phone") }, "phone"},
		{"bad phone", func(b map[string]any) { b["phone"] = "12" }, "phone"},
		{"letters in phone", func(b map[string]any) { b["phone"] = "call me" }, "phone"},
		{"missing birth date", func(b map[string]any) { delete(b, "birth_date") }, "birth_date"},
		{"birth date format", func(b map[string]any) { b["birth_date"] = "01/04/1990" }, "birth_date"},
		{"birth date impossible", func(b map[string]any) { b["birth_date"] = "1990-02-30" }, "birth_date"},
		{"birth date in future", func(b map[string]any) { b["birth_date"] = "2030-01-01" }, "birth_date"},
		{"too old", func(b map[string]any) { b["birth_date"] = "1890-01-01" }, "birth_date"},
		{"missing otp", func(b map[string]any) { delete(b, "otp") }, "otp"},
		{"short otp", func(b map[string]any) { b["otp"] = "123" }, "otp"},
		{"non-digit otp", func(b map[string]any) { b["otp"] = "12345a" }, "otp"},
		{"bad group code", func(b map[string]any) { b["group_code"] = "bad code!" }, "group_code"},
		{"negative previous applications", func(b map[string]any) { b["previous_applications"] = -1 }, "previous_applications"},
		{"previous applications not a number", func(b map[string]any) { b["previous_applications"] = "two" }, "previous_applications"},
		{"signals too large", func(b map[string]any) { b["signals"] = map[string]any{"x": strings.Repeat("a", 5000)} }, "signals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.applyBody("valid@example.com", code)
			tt.edit(b)
			r := e.do("POST", "/api/v1/events/spring/entries", b)
			if r.Status != http.StatusUnprocessableEntity || r.errCode() != "invalid_field" || r.errField("field") != tt.field {
				t.Errorf("got %d %s, want 422 invalid_field on %s", r.Status, r.Raw, tt.field)
			}
			if r.errField("message") == "" {
				t.Error("error has no message")
			}
		})
	}
	if n := e.countEntries(); n != 0 {
		t.Fatalf("invalid requests stored %d entries", n)
	}
	// The code was not consumed by any of them: the valid request still works.
	if r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("valid@example.com", code)); r.Status != 201 {
		t.Fatalf("valid apply after invalid ones: %d %s", r.Status, r.Raw)
	}

	for name, body := range map[string]string{"not json": "{", "empty": "", "array": "[]"} {
		r := e.do("POST", "/api/v1/events/spring/entries", body)
		if r.Status != http.StatusBadRequest || r.errCode() != "invalid_json" {
			t.Errorf("%s: got %d %s, want 400 invalid_json", name, r.Status, r.Raw)
		}
	}
	if r := e.do("POST", "/api/v1/events/nope/entries", e.applyBody("x@example.com", "123456")); r.Status != 404 {
		t.Errorf("unknown event: got %d, want 404", r.Status)
	}
	b := e.applyBody("fcfs@example.com", e.otp("spring", "fcfs@example.com"))
	b["pace_group"] = "fcfs"
	if r := e.do("POST", "/api/v1/events/spring/entries", b); r.Status != 403 || r.errCode() != "admission_required" {
		t.Errorf("ordered sub-queue without admission: got %d %s", r.Status, r.Raw)
	}
	b["admission_token"], b["altcha"] = "made-up", e.altcha("spring")
	if r := e.do("POST", "/api/v1/events/spring/entries", b); r.Status != 403 || r.errCode() != "admission_required" {
		t.Errorf("ordered sub-queue with a made-up admission token: got %d %s", r.Status, r.Raw)
	}
}

func TestIdempotentReplay(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	body := e.applyBody("idem@example.com", e.otp("spring", "idem@example.com"))
	first := e.do("POST", "/api/v1/events/spring/entries", body, "Idempotency-Key", "key-1")
	if first.Status != 201 {
		t.Fatalf("first: %d %s", first.Status, first.Raw)
	}
	again := e.do("POST", "/api/v1/events/spring/entries", body, "Idempotency-Key", "key-1")
	if again.Status != 201 || string(again.Raw) != string(first.Raw) {
		t.Errorf("replay: got %d %s, want the first answer %s", again.Status, again.Raw, first.Raw)
	}
	body["name"] = "Someone Else"
	body["altcha"] = e.altcha("spring")
	other := e.do("POST", "/api/v1/events/spring/entries", body, "Idempotency-Key", "key-1")
	if other.Status != http.StatusConflict || other.errCode() != "idempotency_key_reused" {
		t.Errorf("different body, same key: got %d %s, want 409", other.Status, other.Raw)
	}
	noKey := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("idem@example.com", e.otp("spring", "idem@example.com")))
	if noKey.Status != http.StatusConflict || noKey.errCode() != "duplicate_entry" {
		t.Errorf("new request without key: got %d %s, want 409 duplicate_entry", noKey.Status, noKey.Raw)
	}
	// Concurrent retries of one request with one key all get the same receipt.
	body2 := e.applyBody("idem2@example.com", e.otp("spring", "idem2@example.com"))
	var wg sync.WaitGroup
	answers := make([]resp, 40)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = e.do("POST", "/api/v1/events/spring/entries", body2, "Idempotency-Key", "key-2")
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.Status != 201 || string(a.Raw) != string(answers[0].Raw) {
			t.Errorf("concurrent retry %d: %d %s vs %s", i, a.Status, a.Raw, answers[0].Raw)
		}
	}
	if n := e.countEntries(); n != 2 {
		t.Errorf("entries: got %d, want 2", n)
	}
}

func TestOTPRules(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	apply := func(email, code string) resp {
		return e.do("POST", "/api/v1/events/spring/entries", e.applyBody(email, code))
	}
	wrong := func(code string) string {
		if code == "000000" {
			return "000001"
		}
		return "000000"
	}

	t.Run("expired", func(t *testing.T) {
		code := e.otp("spring", "late@example.com")
		e.clock.Add(10*time.Minute + time.Second)
		if r := apply("late@example.com", code); r.Status != 422 || r.errCode() != "invalid_otp" {
			t.Errorf("got %d %s, want 422 invalid_otp", r.Status, r.Raw)
		}
	})
	t.Run("five attempts", func(t *testing.T) {
		code := e.otp("spring", "guess@example.com")
		for i := 0; i < 5; i++ {
			if r := apply("guess@example.com", wrong(code)); r.Status != 422 || r.errCode() != "invalid_otp" {
				t.Fatalf("wrong guess %d: %d %s", i, r.Status, r.Raw)
			}
		}
		if r := apply("guess@example.com", code); r.Status != 422 || r.errCode() != "invalid_otp" {
			t.Errorf("right code after 5 wrong: got %d %s, want 422 invalid_otp", r.Status, r.Raw)
		}
	})
	t.Run("fewer than five wrong then right", func(t *testing.T) {
		code := e.otp("spring", "typo@example.com")
		for i := 0; i < 4; i++ {
			apply("typo@example.com", wrong(code))
		}
		if r := apply("typo@example.com", code); r.Status != 201 {
			t.Errorf("got %d %s, want 201", r.Status, r.Raw)
		}
	})
	t.Run("single use", func(t *testing.T) {
		code := e.otp("spring", "once@example.com")
		if r := apply("once@example.com", code); r.Status != 201 {
			t.Fatalf("first use: %d %s", r.Status, r.Raw)
		}
		b := e.applyBody("once@example.com", code)
		b["pace_group"] = "open"
		if r := e.do("POST", "/api/v1/events/spring/entries", b); r.Status == 201 {
			t.Errorf("second use of a code created an entry: %s", r.Raw)
		}
	})
	t.Run("code belongs to one address", func(t *testing.T) {
		code := e.otp("spring", "owner@example.com")
		if r := apply("thief@example.com", code); r.Status != 422 || r.errCode() != "invalid_otp" {
			t.Errorf("got %d %s, want 422 invalid_otp", r.Status, r.Raw)
		}
	})
	t.Run("new code replaces old", func(t *testing.T) {
		old := e.otp("spring", "twice@example.com")
		fresh := e.otp("spring", "twice@example.com")
		if old != fresh {
			if r := apply("twice@example.com", old); r.Status != 422 {
				t.Errorf("old code: got %d %s, want 422", r.Status, r.Raw)
			}
		}
		if r := apply("twice@example.com", fresh); r.Status != 201 {
			t.Errorf("fresh code: got %d %s, want 201", r.Status, r.Raw)
		}
	})
	t.Run("no enumeration and stored as hash", func(t *testing.T) {
		r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "nobody@example.com"})
		if r.Status != 202 || r.Body["sent"] != true {
			t.Errorf("unknown address: got %d %s", r.Status, r.Raw)
		}
		code := e.otp("spring", "hash@example.com")
		var n int64
		e.store.DB().Raw("SELECT count(*) FROM otp_codes WHERE encode(code_hash, 'escape') LIKE ?", "%"+code+"%").Scan(&n)
		if n != 0 {
			t.Error("otp_codes holds the code in clear")
		}
		if r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "bad"}); r.Status != 422 || r.errField("field") != "email" {
			t.Errorf("bad email: got %d %s", r.Status, r.Raw)
		}
		// A script asking codes for a disposable address gets the same answer and no mail.
		r = e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "bot@mailinator.com"}, "User-Agent", "curl/8.5.0")
		msgs, _ := e.store.OutboxFor(context.Background(), "bot@mailinator.com", 1)
		if r.Status != 202 || len(msgs) != 0 {
			t.Errorf("scripted code request for a disposable address: %d, %d mails", r.Status, len(msgs))
		}
		// Both decisions are kept, with their reasons, so the refusal can
		// be explained later; the record cannot be rewritten.
		var reqs []struct {
			EmailKey, RiskDecision, RiskReasons string
			Mailed                              bool
			ClientIP                            *string
		}
		e.store.DB().Raw(`SELECT email_key, risk_decision, risk_reasons::text, mailed, host(client_ip) AS client_ip
			FROM otp_requests WHERE email_key IN ('hash@example.com', 'bot@mailinator.com') ORDER BY id`).Scan(&reqs)
		if len(reqs) != 2 || !reqs[0].Mailed || reqs[0].RiskDecision != "accept" || reqs[1].Mailed ||
			reqs[1].RiskDecision != "reject" || !strings.Contains(reqs[1].RiskReasons, "disposable_email") ||
			!strings.Contains(reqs[1].RiskReasons, "apply-v3/otp") || reqs[1].ClientIP == nil {
			t.Errorf("stored code requests: %+v", reqs)
		}
		if err := e.store.DB().Exec(`UPDATE otp_requests SET mailed = true`).Error; err == nil {
			t.Error("otp_requests is not append-only")
		}
	})
}

func TestConcurrentApplies(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	const n = 200
	codes := make([]string, n)
	for i := range codes {
		codes[i] = e.otp("spring", fmt.Sprintf("runner%03d@example.com", i))
	}
	var wg sync.WaitGroup
	status := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status[i] = e.do("POST", "/api/v1/events/spring/entries", e.applyBody(fmt.Sprintf("runner%03d@example.com", i), codes[i])).Status
		}()
	}
	wg.Wait()
	for i, s := range status {
		if s != 201 {
			t.Errorf("distinct person %d: got %d, want 201", i, s)
		}
	}
	if got := e.countEntries(); got != n {
		t.Fatalf("entries after %d distinct applies: got %d", n, got)
	}

	// 200 concurrent applies of one person: exactly one entry.
	code := e.otp("spring", "same@example.com")
	counts := map[int]int{}
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := e.applyBody("same@example.com", code)
			if i%2 == 1 {
				b["email"] = "Same@Example.com"
			}
			s := e.do("POST", "/api/v1/events/spring/entries", b).Status
			mu.Lock()
			counts[s]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if counts[201] != 1 || counts[409] != n-1 {
		t.Errorf("one person x %d: statuses %v, want one 201 and %d 409", n, counts, n-1)
	}
	var same int64
	e.store.DB().Raw("SELECT count(*) FROM entries WHERE email_key = 'same@example.com'").Scan(&same)
	if same != 1 {
		t.Errorf("entries for one person: got %d, want 1", same)
	}
}

// An event can tighten the scoring thresholds; the decision records the
// rule version it used.
func TestEventRiskRules(t *testing.T) {
	e := newEnv(t, true)
	b := eventBody("spring")
	b["risk_rules"] = map[string]any{"review_at": 30, "min_fill_ms": 10000}
	if r := e.do("POST", "/api/v1/admin/events", b, "Authorization", "Bearer "+e.organizer); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	e.do("POST", "/api/v1/admin/events/spring/publish", nil, "Authorization", "Bearer "+e.organizer)
	e.clock.Set(testStart.Add(time.Hour))
	body := e.applyBody("quick@example.com", e.otp("spring", "quick@example.com"))
	body["signals"] = map[string]any{"webdriver": false, "fill_ms": 8000}
	r := e.do("POST", "/api/v1/events/spring/entries", body)
	if r.Status != 201 || r.str("status") != "in_review" {
		t.Fatalf("an 8 s fill under a 10 s minimum and a review threshold of 30: %d %s", r.Status, r.Raw)
	}
	var version string
	e.store.DB().Raw("SELECT risk_reasons->>'rules_version' FROM entries").Scan(&version)
	if !strings.Contains(version, "spring:review30") {
		t.Errorf("stored rules version %q", version)
	}
}
