package api_test

import (
	"context"
	"testing"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/checkin"
)

// TestCheckinAPI: a reviewer checks a confirmed entry's code in once (200
// with name, birth year, bib and sub-queue), again is 409
// already_picked_up; a code of an entry no longer confirmed is 409
// not_confirmed; another organization's staff get 404; a forged code 422.
func TestCheckinAPI(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	ids := map[string]string{}
	for _, email := range []string{"a@example.com", "b@example.com"} {
		r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody(email, e.otp("spring", email)))
		if r.Status != 201 {
			t.Fatalf("apply: %d %s", r.Status, r.Raw)
		}
		ids[email] = r.str("entry_id")
	}
	db := e.store.DB()
	if err := db.Exec(`UPDATE entries SET status = 'confirmed', bib = CASE WHEN email LIKE 'a@%' THEN 1013 ELSE 1014 END WHERE event_id = (SELECT id FROM events WHERE slug = 'spring')`).Error; err != nil {
		t.Fatal(err)
	}
	signer := checkin.NewSigner(e.keys.Derive("checkin"))
	code := func(email string) string {
		c, err := signer.Code(ids[email])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	rev := []string{"Authorization", "Bearer " + e.reviewer}

	r := e.do("POST", "/api/v1/checkin", map[string]any{"code": code("a@example.com")}, rev...)
	if r.Status != 200 || r.str("entry") != ids["a@example.com"] || r.str("name") == "" || r.Body["birth_year"] != float64(1990) ||
		r.Body["bib"] != float64(1013) || r.str("subqueue_name") == "" {
		t.Fatalf("first check-in: %d %s", r.Status, r.Raw)
	}
	r = e.do("POST", "/api/v1/checkin", map[string]any{"code": code("a@example.com"), "event": "spring"}, rev...)
	if r.Status != 409 || r.errCode() != checkin.CodeAlreadyPickedUp || r.str("picked_up_at") == "" {
		t.Fatalf("second check-in: %d %s", r.Status, r.Raw)
	}

	// b gives the slot back (or is refunded, or transferred away): no longer confirmed.
	db.Exec(`UPDATE entries SET status = 'withdrawn' WHERE id = ?`, ids["b@example.com"])
	r = e.do("POST", "/api/v1/checkin", map[string]any{"code": code("b@example.com")}, rev...)
	if r.Status != 409 || r.errCode() != checkin.CodeNotConfirmed || r.str("reason") != checkin.ReasonWithdrawn {
		t.Fatalf("withdrawn entry: %d %s", r.Status, r.Raw)
	}
	var picked int64
	db.Raw(`SELECT count(*) FROM entries WHERE picked_up_at IS NOT NULL`).Scan(&picked)
	if picked != 1 {
		t.Errorf("pickups recorded: %d, want 1", picked)
	}

	if r := e.do("POST", "/api/v1/checkin", map[string]any{"code": code("a@example.com"), "event": "other"}, rev...); r.Status != 404 {
		t.Errorf("code of another event than the one chosen: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/checkin", map[string]any{"code": "1" + code("a@example.com")[2:]}, rev...); r.Status != 422 || r.errField("field") != "code" {
		t.Errorf("forged code: %d %s", r.Status, r.Raw)
	}
	if _, err := e.staff.AddTo(context.Background(), "elsewhere", "other@example.com", lottery.RoleReviewer, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := e.staff.IssueToken(context.Background(), "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", "/api/v1/checkin", map[string]any{"code": code("a@example.com")}, "Authorization", "Bearer "+tok); r.Status != 404 {
		t.Errorf("another organization's reviewer: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/checkin", map[string]any{"code": code("a@example.com")}); r.Status != 401 {
		t.Errorf("anonymous: %d", r.Status)
	}
}
