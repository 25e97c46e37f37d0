package api_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"
)

func TestAdminEvents(t *testing.T) {
	e := newEnv(t, false)
	e.clock.Set(testStart.Add(-time.Hour))
	auth := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	if r := e.do("POST", "/api/v1/admin/events", eventBody("spring")); r.Status != http.StatusUnauthorized || r.errCode() != "unauthorized" {
		t.Errorf("no token: got %d %s, want 401", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events", eventBody("spring"), auth("slt_forged")...); r.Status != http.StatusUnauthorized {
		t.Errorf("forged token: got %d, want 401", r.Status)
	}
	if r := e.do("POST", "/api/v1/admin/events", eventBody("spring"), auth(e.reviewer)...); r.Status != http.StatusForbidden || r.errCode() != "forbidden" {
		t.Errorf("reviewer: got %d %s, want 403", r.Status, r.Raw)
	}

	bad := []struct {
		name  string
		edit  func(b map[string]any)
		field string
	}{
		{"slug", func(b map[string]any) { b["slug"] = "Spring 2027" }, "slug"},
		{"name", func(b map[string]any) { b["name"] = "" }, "name"},
		{"time zone", func(b map[string]any) { b["time_zone"] = "Mars/Olympus" }, "time_zone"},
		{"opens_at", func(b map[string]any) { b["opens_at"] = "tomorrow" }, "opens_at"},
		{"closes_at before opens_at", func(b map[string]any) { b["closes_at"] = b["opens_at"] }, "closes_at"},
		{"offer_hold", func(b map[string]any) { b["offer_hold"] = "2 days" }, "offer_hold"},
		{"max_group_size", func(b map[string]any) { b["max_group_size"] = 99 }, "max_group_size"},
		{"ticket_rule", func(b map[string]any) { b["ticket_rule"] = "tripling" }, "ticket_rule"},
		{"no courses", func(b map[string]any) { b["courses"] = []any{} }, "courses"},
		{"capacity", func(b map[string]any) {
			b["courses"].([]any)[0].(map[string]any)["pace_groups"].([]any)[1].(map[string]any)["capacity"] = -1
		}, "courses[0].pace_groups[1].capacity"},
		{"risk rules", func(b map[string]any) { b["risk_rules"] = map[string]any{"review_at": 50, "reject_at": 20} }, "risk_rules.reject_at"},
		{"mode", func(b map[string]any) {
			b["courses"].([]any)[1].(map[string]any)["pace_groups"].([]any)[0].(map[string]any)["mode"] = "auction"
		}, "courses[1].pace_groups[0].mode"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			b := eventBody("spring")
			tt.edit(b)
			r := e.do("POST", "/api/v1/admin/events", b, auth(e.organizer)...)
			if r.Status != http.StatusUnprocessableEntity || r.errField("field") != tt.field {
				t.Errorf("got %d %s, want 422 on %s", r.Status, r.Raw, tt.field)
			}
		})
	}

	r := e.do("POST", "/api/v1/admin/events", eventBody("spring"), auth(e.organizer)...)
	if r.Status != http.StatusCreated || r.str("status") != "draft" || r.str("commitment") != "" {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events", eventBody("spring"), auth(e.organizer)...); r.Status != http.StatusConflict {
		t.Errorf("duplicate slug: got %d, want 409", r.Status)
	}
	if r := e.do("GET", "/api/v1/events/spring", nil); r.Status != 404 {
		t.Errorf("draft visible to runners: %d", r.Status)
	}
	if r := e.do("GET", "/api/v1/events", nil); len(r.Body["events"].([]any)) != 0 {
		t.Errorf("draft listed: %s", r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/close", nil, auth(e.organizer)...); r.Status != http.StatusConflict || r.errCode() != "invalid_transition" {
		t.Errorf("close a draft: got %d %s, want 409 invalid_transition", r.Status, r.Raw)
	}
	pub := e.do("POST", "/api/v1/admin/events/spring/publish", nil, auth(e.organizer)...)
	if pub.Status != 200 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(pub.str("commitment")) {
		t.Fatalf("publish: %d %s", pub.Status, pub.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/publish", nil, auth(e.organizer)...); r.Status != http.StatusConflict || r.errCode() != "invalid_transition" {
		t.Errorf("publish twice: got %d %s, want 409", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/explode", nil, auth(e.organizer)...); r.Status != http.StatusConflict {
		t.Errorf("unknown action: got %d, want 409", r.Status)
	}
	ev := e.do("GET", "/api/v1/events/spring", nil)
	if ev.Status != 200 || ev.str("commitment") != pub.str("commitment") || ev.str("status") != "published" {
		t.Fatalf("event detail: %d %s", ev.Status, ev.Raw)
	}
	subs := ev.Body["subqueues"].([]any)
	if len(subs) != 4 || subs[0].(map[string]any)["key"] != "half:sub-130" || subs[2].(map[string]any)["mode"] != "ordered" {
		t.Errorf("subqueues: %v", subs)
	}
	// The commitment can never change, even by a direct write.
	if err := e.store.DB().Exec("UPDATE events SET commitment = repeat('0', 64) WHERE slug = 'spring'").Error; err == nil {
		t.Error("commitment changed")
	}
	var audits int64
	e.store.DB().Raw("SELECT count(*) FROM audit_log WHERE action IN ('event.create', 'event.published')").Scan(&audits)
	if audits != 2 {
		t.Errorf("audit rows: got %d, want 2", audits)
	}
}

func TestHealthAndDevRoutes(t *testing.T) {
	prod := newEnv(t, false)
	if r := prod.do("GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("healthz: %d", r.Status)
	}
	if r := prod.do("GET", "/readyz", nil); r.Status != 200 {
		t.Errorf("readyz: %d", r.Status)
	}
	if r := prod.do("GET", "/dev/outbox.json?to=a@example.com", nil); r.Status != 404 {
		t.Errorf("dev route in production: %d", r.Status)
	}
	dev := newEnv(t, true)
	dev.openEvent("spring")
	dev.otp("spring", "a@example.com")
	dev.otp("spring", "b@example.com")
	r := dev.do("GET", "/dev/outbox.json?to=a@example.com", nil)
	msgs, _ := r.Body["messages"].([]any)
	if r.Status != 200 || len(msgs) != 1 || msgs[0].(map[string]any)["to"] != "a@example.com" {
		t.Errorf("dev outbox: %d %s", r.Status, r.Raw)
	}
}
