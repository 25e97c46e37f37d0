package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// TestReplaceDraftAPI: PUT /api/v1/admin/events/:slug takes the create body
// and replaces the draft (a third course, a new name); a bad field is 422
// and changes nothing; the slug cannot change; another organization's
// draft is 404; once published, 409.
func TestReplaceDraftAPI(t *testing.T) {
	e := newEnv(t, false)
	e.clock.Set(testStart.Add(-time.Hour))
	org := []string{"Authorization", "Bearer " + e.organizer}
	if r := e.do("POST", "/api/v1/admin/events", eventBody("spring"), org...); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	b := eventBody("spring")
	b["name"] = "Spring Half"
	b["max_group_size"] = 2
	b["courses"] = append(b["courses"].([]any), map[string]any{"code": "5k", "name": "5K", "distance_km": 5,
		"pace_groups": []any{map[string]any{"code": "open", "capacity": 50, "mode": "ordered"}}})
	r := e.do("PUT", "/api/v1/admin/events/spring", b, org...)
	if r.Status != http.StatusOK || r.str("name") != "Spring Half" || r.str("status") != "draft" {
		t.Fatalf("replace: %d %s", r.Status, r.Raw)
	}
	ev, err := e.store.EventBySlug(context.Background(), "spring")
	if err != nil || len(ev.Courses) != 3 || ev.MaxGroupSize != 2 || ev.Courses[2].PaceGroups[0].Mode != lottery.ModeOrdered {
		t.Fatalf("stored: %+v %v", ev, err)
	}

	bad := eventBody("spring")
	bad["courses"].([]any)[0].(map[string]any)["pace_groups"].([]any)[1].(map[string]any)["capacity"] = -1
	if r := e.do("PUT", "/api/v1/admin/events/spring", bad, org...); r.Status != http.StatusUnprocessableEntity ||
		r.errField("field") != "courses[0].pace_groups[1].capacity" {
		t.Errorf("bad capacity: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PUT", "/api/v1/admin/events/spring", eventBody("autumn"), org...); r.Status != http.StatusUnprocessableEntity ||
		r.errField("field") != "slug" {
		t.Errorf("new slug: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PUT", "/api/v1/admin/events/spring", "{", org...); r.Status != http.StatusBadRequest {
		t.Errorf("broken JSON: %d %s", r.Status, r.Raw)
	}
	if again, _ := e.store.EventBySlug(context.Background(), "spring"); again.Name != "Spring Half" || len(again.Courses) != 3 {
		t.Errorf("refused bodies changed the draft: %+v", again)
	}

	if _, err := e.staff.AddTo(context.Background(), "elsewhere", "other@example.com", lottery.RoleOrganizer, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := e.staff.IssueToken(context.Background(), "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do("PUT", "/api/v1/admin/events/spring", b, "Authorization", "Bearer "+tok); r.Status != http.StatusNotFound {
		t.Errorf("another organization: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PUT", "/api/v1/admin/events/spring", b, "Authorization", "Bearer "+e.reviewer); r.Status != http.StatusForbidden {
		t.Errorf("reviewer: %d %s", r.Status, r.Raw)
	}

	if r := e.do("POST", "/api/v1/admin/events/spring/publish", nil, org...); r.Status != http.StatusOK {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PUT", "/api/v1/admin/events/spring", b, org...); r.Status != http.StatusConflict || r.errCode() != "invalid_transition" {
		t.Errorf("published: %d %s", r.Status, r.Raw)
	}
}
