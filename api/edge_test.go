package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestBadInputIsNever500 sends what an attacker or a broken client sends to
// every kind of outside input (path parameters, query values, headers, JSON
// strings) and wants a stable 4xx, or the request taken with the text made
// safe, never a 500 (ISSUE10 item 3).
func TestBadInputIsNever500(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	org := "Bearer " + e.organizer
	rev := "Bearer " + e.reviewer
	bot := e.applyBody("bot@example.com", e.otp("spring", "bot@example.com"))
	bot["signals"] = map[string]any{"webdriver": true, "fill_ms": 30000}
	inReview := e.do("POST", "/api/v1/events/spring/entries", bot)
	if inReview.str("status") != "in_review" {
		t.Fatalf("flagged entry: %d %s", inReview.Status, inReview.Raw)
	}
	reviewID := inReview.str("entry_id")
	// A user agent over the stored 512 bytes with a two-byte character across the cut.
	longUA := strings.Repeat("a", 511) + "é" + strings.Repeat("b", 40)

	tests := []struct {
		name          string
		method, path  string
		body          func() any // built lazily: some need a fresh code or challenge
		headers       []string
		status        int
		code, field   string
		fieldPrefixed bool // field only has to start with field
	}{
		{name: "NUL slug", method: "GET", path: "/api/v1/events/%00", status: 404, code: "not_found"},
		{name: "NUL slug on otp", method: "POST", path: "/api/v1/events/%00/otp", body: func() any { return map[string]any{"email": "a@example.com"} }, status: 404, code: "not_found"},
		{name: "NUL sub-queue key", method: "GET", path: "/api/v1/events/spring/draws/%00/artifact.json", status: 404, code: "not_found"},
		{name: "NUL slug in admin offers", method: "GET", path: "/api/v1/admin/events/%00/offers", headers: []string{"Authorization", org}, status: 404, code: "not_found"},
		{name: "NUL sub-queue in capacity", method: "POST", path: "/api/v1/admin/events/spring/subqueues/%00/capacity", body: func() any { return map[string]any{"capacity": 5} }, headers: []string{"Authorization", org}, status: 404, code: "not_found"},
		{name: "non-UTF-8 slug", method: "GET", path: "/api/v1/events/%FF", status: 404, code: "not_found"},
		{name: "NUL ticket", method: "GET", path: "/api/v1/queue/%00", status: 404, code: "not_found"},
		{name: "non-UUID entry", method: "GET", path: "/api/v1/entries/zzz?token=x", status: 404, code: "not_found"},
		{name: "non-UUID entry proof", method: "GET", path: "/api/v1/entries/zzz/proof?token=x", status: 404, code: "not_found"},
		{name: "non-UUID offer", method: "POST", path: "/api/v1/offers/zzz/accept", body: func() any { return map[string]any{"token": "x"} }, status: 404, code: "not_found"},
		{name: "non-UUID review entry", method: "GET", path: "/api/v1/review/entries/zzz", headers: []string{"Authorization", rev}, status: 404, code: "not_found"},
		{name: "non-UUID review decision", method: "POST", path: "/api/v1/review/entries/zzz/decision", body: func() any { return map[string]any{"decision": "approve"} }, headers: []string{"Authorization", rev}, status: 404, code: "not_found"},
		{name: "cluster=abc", method: "GET", path: "/api/v1/review/queue?event=spring&cluster=abc", headers: []string{"Authorization", rev}, status: 422, code: "invalid_field", field: "cluster"},
		{name: "NUL in the event query", method: "GET", path: "/api/v1/review/queue?event=%00", headers: []string{"Authorization", rev}, status: 422, code: "invalid_field", field: "event"},
		{name: "NUL in login e-mail", method: "POST", path: "/api/v1/staff/login", body: func() any { return `{"email":"org\u0000@example.com","password":"x","otp":"123456"}` }, status: 422, code: "invalid_field", field: "email"},
		{name: "lone surrogate in login e-mail", method: "POST", path: "/api/v1/staff/login", body: func() any { return `{"email":"org\ud800@example.com","password":"x","otp":"123456"}` }, status: 401, code: "invalid_credentials"},
		{name: "raw non-UTF-8 in a JSON body", method: "POST", path: "/api/v1/staff/login", body: func() any { return []byte("{\"email\":\"org\xff@example.com\",\"password\":\"x\",\"otp\":\"1\"}") }, status: 400, code: "invalid_json"},
		{name: "NUL in decision note", method: "POST", path: "/api/v1/review/entries/" + reviewID + "/decision", body: func() any { return `{"decision":"reject","note":"bot\u0000"}` }, headers: []string{"Authorization", rev}, status: 422, code: "invalid_field", field: "note"},
		{name: "NUL in event name", method: "POST", path: "/api/v1/admin/events", body: func() any { return specWith(`"name":"Spring\u0000"`, "Spring") }, headers: []string{"Authorization", org}, status: 422, code: "invalid_field", field: "name"},
		{name: "NUL in course name", method: "POST", path: "/api/v1/admin/events", body: func() any { return specWith(`"name":"Half\u0000"`, "Half") }, headers: []string{"Authorization", org}, status: 422, code: "invalid_field", field: "courses[0].name"},
		{name: "NUL in label", method: "POST", path: "/api/v1/admin/events", body: func() any { return specWith(`"label":"Open\u0000"`, "Open") }, headers: []string{"Authorization", org}, status: 422, code: "invalid_field", field: "courses[0].pace_groups[0].label"},
		{name: "lone surrogate in event name", method: "POST", path: "/api/v1/admin/events", body: func() any { return specWith(`"name":"\ud800\ud800"`, "Spring") }, headers: []string{"Authorization", org}, status: 201},
		{name: "year 0000", method: "POST", path: "/api/v1/admin/events", body: func() any {
			return strings.Replace(specWith(`"name":"Y0"`, "Spring"), "2027-03-01T09:00:00Z", "0000-03-01T09:00:00Z", 1)
		}, headers: []string{"Authorization", org}, status: 422, code: "invalid_field", field: "opens_at"},
		{name: "year 9999", method: "POST", path: "/api/v1/admin/events", body: func() any {
			return strings.Replace(specWith(`"name":"Y9"`, "Spring"), "2027-03-08T09:00:00Z", "9999-03-08T09:00:00Z", 1)
		}, headers: []string{"Authorization", org}, status: 422, code: "invalid_field", field: "closes_at"},
		{name: "zero-width event name", method: "POST", path: "/api/v1/admin/events", body: func() any { return specWith(`"name":"\u200b\u200d\ufeff"`, "Spring") }, headers: []string{"Authorization", org}, status: 422, code: "invalid_field", field: "name"},
		{name: "NUL in apply signals", method: "POST", path: "/api/v1/events/spring/entries", body: func() any {
			b := e.applyBody("sig-nul@example.com", e.otp("spring", "sig-nul@example.com"))
			b["signals"] = map[string]any{"fill_ms": 42000, "timezone": "Asia/Seoul\x00", "screen\x00": "1x1"}
			return b
		}, status: 201},
		{name: "lone surrogate in apply signals", method: "POST", path: "/api/v1/events/spring/entries", body: func() any {
			b := e.applyBody("sig-sur@example.com", e.otp("spring", "sig-sur@example.com"))
			delete(b, "signals")
			return rawSignals(b, `{"fill_ms":42000,"platform":"\ud800","languages":["\udfff"]}`)
		}, status: 201},
		{name: "number out of jsonb range in signals", method: "POST", path: "/api/v1/events/spring/entries", body: func() any {
			b := e.applyBody("sig-num@example.com", e.otp("spring", "sig-num@example.com"))
			delete(b, "signals")
			return rawSignals(b, `{"fill_ms":1e1000000}`)
		}, status: 422, code: "invalid_field", field: "signals"},
		{name: "fingerprint cut inside a character", method: "POST", path: "/api/v1/events/spring/entries", body: func() any {
			b := e.applyBody("fp@example.com", e.otp("spring", "fp@example.com"))
			b["signals"] = map[string]any{"fill_ms": 42000, "fingerprint": strings.Repeat("f", 127) + "é"}
			return b
		}, status: 201},
		{name: "zero-width runner name", method: "POST", path: "/api/v1/events/spring/entries", body: func() any {
			b := e.applyBody("zw@example.com", e.otp("spring", "zw@example.com"))
			b["name"] = "\u200b\u200c\u200d\u2060"
			return b
		}, status: 422, code: "invalid_field", field: "name"},
		{name: "non-UTF-8 Idempotency-Key", method: "POST", path: "/api/v1/events/spring/entries", body: func() any {
			return e.applyBody("idem@example.com", e.otp("spring", "idem@example.com"))
		}, headers: []string{"Idempotency-Key", "key-\xff"}, status: 422, code: "invalid_field", field: "Idempotency-Key"},
		{name: "long user agent on otp", method: "POST", path: "/api/v1/events/spring/otp", body: func() any { return map[string]any{"email": "ua-otp@example.com"} }, headers: []string{"User-Agent", longUA}, status: 202},
		{name: "long user agent on entries", method: "POST", path: "/api/v1/events/spring/entries", body: func() any {
			return e.applyBody("ua-apply@example.com", e.otp("spring", "ua-apply@example.com"))
		}, headers: []string{"User-Agent", longUA}, status: 201},
		{name: "long user agent on queue", method: "POST", path: "/api/v1/events/spring/queue", body: func() any {
			return map[string]any{"course": "half", "pace_group": "fcfs", "email": "ua-queue@example.com", "altcha": e.altcha("spring")}
		}, headers: []string{"User-Agent", longUA}, status: 201},
		{name: "non-UTF-8 user agent", method: "POST", path: "/api/v1/events/spring/otp", body: func() any { return map[string]any{"email": "ua-bad@example.com"} }, headers: []string{"User-Agent", "Mozilla/5.0 \xff\xfe"}, status: 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != nil {
				body = tt.body()
			}
			r := e.do(tt.method, tt.path, body, tt.headers...)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Raw)
			}
			if got := r.errCode(); got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
			if got := r.errField("field"); got != tt.field {
				t.Errorf("field %q, want %q", got, tt.field)
			}
		})
	}

	// What was taken is stored as valid text, cut on a character boundary.
	var texts []string
	if err := e.store.DB().WithContext(context.Background()).Raw(
		`SELECT user_agent FROM entries UNION ALL SELECT fingerprint FROM entries UNION ALL SELECT signals::text FROM entries WHERE signals IS NOT NULL
		 UNION ALL SELECT user_agent FROM otp_requests UNION ALL SELECT user_agent FROM queue_tickets`).Scan(&texts).Error; err != nil {
		t.Fatal(err)
	}
	for _, s := range texts {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || len(s) > 64<<10 {
			t.Errorf("stored text %q", s)
		}
	}
	var fp string
	e.store.DB().Raw(`SELECT fingerprint FROM entries WHERE email = 'fp@example.com'`).Scan(&fp)
	if fp != strings.Repeat("f", 127) {
		t.Errorf("fingerprint cut to %q, want the 127 bytes before the character", fp)
	}
	var ua string
	e.store.DB().Raw(`SELECT user_agent FROM entries WHERE email = 'ua-apply@example.com'`).Scan(&ua)
	if ua != strings.Repeat("a", 511) {
		t.Errorf("user agent cut to %d bytes %q…, want the 511 before the character", len(ua), ua[max(0, len(ua)-4):])
	}
}

// specWith is a create-event body with the first "name":"<old>" (or label)
// replaced by repl, as raw JSON so escapes reach the server as sent.
func specWith(repl, old string) string {
	s := `{"slug":"ev-` + slugOf(repl) + `","name":"Spring","time_zone":"UTC","opens_at":"2027-03-01T09:00:00Z","closes_at":"2027-03-08T09:00:00Z",` +
		`"courses":[{"code":"half","name":"Half","distance_km":21.1,"pace_groups":[{"code":"open","label":"Open","capacity":10}]}]}`
	for _, k := range []string{`"name":"` + old + `"`, `"label":"` + old + `"`} {
		if strings.Contains(s, k) && strings.HasPrefix(repl, k[:strings.Index(k, ":")]) {
			return strings.Replace(s, k, repl, 1)
		}
	}
	return s
}

// slugOf makes a distinct, valid slug from a test's replacement text.
func slugOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String() + "x"
}

// rawSignals is the JSON of b with signals spliced in as raw text.
func rawSignals(b map[string]any, signals string) string {
	j, _ := json.Marshal(b)
	return strings.TrimSuffix(string(j), "}") + `,"signals":` + signals + `}`
}
