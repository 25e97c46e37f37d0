package api_test

import (
	"net/http"
	"testing"
	"time"
)

// TestSeriesAndTicketClaims: organizers create a series, attach an event
// and import a history (a bad row is a row-numbered 422, a reviewer may
// not); the entry JSON says how tickets were counted; a claim above the
// record waits for a reviewer, who accepts it before freeze and is refused
// with 409 tickets_frozen after.
func TestSeriesAndTicketClaims(t *testing.T) {
	e := newEnv(t, true)
	org := []string{"Authorization", "Bearer " + e.organizer}
	rev := []string{"Authorization", "Bearer " + e.reviewer}
	if r := e.do("POST", "/api/v1/admin/series", map[string]any{"slug": "seoul", "name": "Seoul Marathon"}, rev...); r.Status != http.StatusForbidden {
		t.Fatalf("reviewer creates a series: %d", r.Status)
	}
	if r := e.do("POST", "/api/v1/admin/series", map[string]any{"slug": "Seoul!", "name": "x"}, org...); r.Status != 422 || r.errField("field") != "slug" {
		t.Fatalf("bad slug: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/series", map[string]any{"slug": "seoul", "name": "Seoul Marathon"}, org...); r.Status != 201 {
		t.Fatalf("create series: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/series", map[string]any{"slug": "seoul", "name": "Again"}, org...); r.Status != 409 || r.errCode() != "series_exists" {
		t.Fatalf("duplicate series: %d %s", r.Status, r.Raw)
	}
	e.openEvent("spring")
	if r := e.do("POST", "/api/v1/admin/series/seoul/events", map[string]any{"event": "spring", "edition_year": 2027}, org...); r.Status != 200 {
		t.Fatalf("attach: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/series/seoul/events", map[string]any{"event": "nope"}, org...); r.Status != 404 || r.errField("field") != "event" {
		t.Fatalf("attach unknown event: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/v1/events/spring", nil); r.str("series") != "seoul" || r.Body["edition_year"] != float64(2027) {
		t.Fatalf("event JSON: %s", r.Raw)
	}
	bad := "name,birth_date,email,phone,previous_applications,years\nKim A,1990-01-01,a@example.com,,1,\nKim B,1990-01-02,nobody,,1,\n"
	if r := e.do("POST", "/api/v1/admin/series/seoul/history", bad, org...); r.Status != 422 || r.errField("field") != "rows[3].email" {
		t.Fatalf("bad row: %d %s", r.Status, r.Raw)
	}
	good := "name,birth_date,email,phone,previous_applications,years\nKim Earned,1990-04-01,earned.runner@gmail.com,,2,2025;2024\n"
	if r := e.do("POST", "/api/v1/admin/series/seoul/history", good, org...); r.Status != 201 || r.Body["rows"] != float64(1) {
		t.Fatalf("import: %d %s", r.Status, r.Raw)
	}
	var audits int
	e.store.DB().Raw("SELECT count(*) FROM audit_log WHERE action IN ('series.create', 'series.attach', 'series.history_import')").Scan(&audits)
	if audits != 4 { // with spring's own series, created by its spec
		t.Fatalf("%d audit rows, want 4", audits)
	}

	apply := func(email, name string, claim any) (string, string, resp) {
		t.Helper()
		b := e.applyBody(email, e.otp("spring", email))
		b["name"] = name
		if claim != nil {
			b["previous_applications"], b["claim_note"] = claim, "I ran the 2019 edition too"
		}
		r := e.do("POST", "/api/v1/events/spring/entries", b)
		if r.Status != 201 {
			t.Fatalf("apply %s: %d %s", email, r.Status, r.Raw)
		}
		id, tok := r.str("entry_id"), r.str("receipt_token")
		return id, tok, e.do("GET", "/api/v1/entries/"+id+"?token="+tok, nil)
	}
	_, _, s := apply("EarnedRunner+spring@gmail.com", "Kim Earned", nil)
	if s.Body["tickets"] != float64(4) || s.str("tickets_reason") != "2 earlier applications found: 2025, 2024 → 4 tickets" {
		t.Fatalf("earned: %s", s.Raw)
	}
	_, _, s = apply("nobody@example.com", "Lee Nobody", nil)
	if s.Body["tickets"] != float64(1) || s.str("tickets_reason") != "no earlier applications found → 1 ticket" {
		t.Fatalf("nothing found: %s", s.Raw)
	}
	id, tok, s := apply("claimer@example.com", "Park Claimer", 3)
	if s.str("status") != "in_review" || s.Body["tickets"] != float64(1) ||
		s.str("tickets_reason") != "no earlier applications found; you claimed 3; a reviewer will check it; counting 0 until then → 1 ticket" {
		t.Fatalf("claim: %s", s.Raw)
	}
	if r := e.do("GET", "/api/v1/review/entries/"+id, nil, rev...); r.Status != 200 || r.Body["claim_note"] != "I ran the 2019 edition too" {
		t.Fatalf("review detail: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/review/entries/"+id+"/claim", map[string]any{"decision": "maybe"}, rev...); r.Status != 422 {
		t.Fatalf("bad decision: %d", r.Status)
	}
	if r := e.do("POST", "/api/v1/review/entries/"+id+"/claim", map[string]any{"decision": "accept", "note": "results of 2019 checked"}, rev...); r.Status != 200 || r.Body["tickets"] != float64(8) {
		t.Fatalf("accept: %d %s", r.Status, r.Raw)
	}
	if s := e.do("GET", "/api/v1/entries/"+id+"?token="+tok, nil); s.str("tickets_reason") != "no earlier applications found; a reviewer accepted your claim of 3 → 8 tickets" {
		t.Fatalf("accepted: %s", s.Raw)
	}
	later, _, _ := apply("later@example.com", "Choi Later", 2)
	e.store.DB().Exec("UPDATE events SET unreviewed_policy = 'include' WHERE slug = 'spring'")
	e.svc.ForgetEvent("spring")
	e.clock.Add(8 * 24 * time.Hour)
	if r := e.action("spring", "freeze", map[string]any{"beacon_round": "none"}); r.Status != 200 {
		t.Fatalf("freeze: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/review/entries/"+later+"/claim", map[string]any{"decision": "accept"}, rev...); r.Status != 409 || r.errCode() != "tickets_frozen" {
		t.Fatalf("after freeze: %d %s", r.Status, r.Raw)
	}
}
