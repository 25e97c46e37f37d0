package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery/fairdraw"
)

// TestDisputeWindow walks the dispute window through the API: freeze
// publishes each frozen list and its root, runners dispute their line, a
// reviewer answers, and the reveal is refused with 409 dispute_window_open
// until frozen_at plus the window, then accepted.
func TestDisputeWindow(t *testing.T) {
	e := newEnv(t, true)
	body := eventBody("spring")
	delete(body, "dispute_window") // the default: 24 hours
	if r := e.do("POST", "/api/v1/admin/events", body, "Authorization", "Bearer "+e.organizer); r.Status != 201 ||
		r.str("dispute_window") != "24h" {
		t.Fatalf("create event: %d %s", r.Status, r.Raw)
	}
	if r := e.action("spring", "publish", nil); r.Status != 200 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(time.Hour))
	ids, tokens := e.applyN("spring", 6)

	// Before freeze there is no frozen list and nothing to dispute.
	if r := e.do("GET", "/api/v1/events/spring/draws/half:sub-130/frozen.json", nil); r.Status != 404 {
		t.Errorf("frozen list before freeze: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/entries/"+ids[0]+"/disputes", map[string]any{"token": tokens[0], "message": "hi"}); r.Status != 409 ||
		r.errCode() != "dispute_window_closed" {
		t.Errorf("dispute before freeze: %d %s", r.Status, r.Raw)
	}

	frozenAt := testStart.Add(8 * 24 * time.Hour)
	e.clock.Set(frozenAt)
	if r := e.action("spring", "freeze", nil); r.Status != 200 {
		t.Fatalf("freeze: %d %s", r.Status, r.Raw)
	}
	end := frozenAt.Add(24 * time.Hour)
	ev := e.do("GET", "/api/v1/events/spring", nil)
	if got := ev.str("reveal_not_before"); got != end.Format(time.RFC3339) {
		t.Errorf("reveal_not_before = %q, want %s", got, end.Format(time.RFC3339))
	}

	// The frozen list: every eligible entry's id, tickets and group
	// pseudonym, hashing to the published entries_root.
	fl := e.do("GET", "/api/v1/events/spring/draws/half:sub-130/frozen.json", nil)
	if fl.Status != 200 {
		t.Fatalf("frozen list: %d %s", fl.Status, fl.Raw)
	}
	var entries []fairdraw.Entry
	for _, x := range fl.Body["entries"].([]any) {
		m := x.(map[string]any)
		entries = append(entries, fairdraw.Entry{EntryID: m["entry_id"].(string), Tickets: int(m["tickets"].(float64)),
			Group: m["group"].(string)})
	}
	if len(entries) != 6 || fl.str("reveal_not_before") != end.Format(time.RFC3339) {
		t.Fatalf("frozen list: %s", fl.Raw)
	}
	if got := fairdraw.EntriesRoot(entries); got != fl.str("entries_root") {
		t.Errorf("frozen list hashes to %s, published root %s", got, fl.str("entries_root"))
	}
	d := e.do("GET", "/api/v1/events/spring/draws", nil)
	if root := d.Body["draws"].([]any)[0].(map[string]any)["entries_root"]; root != fl.str("entries_root") {
		t.Errorf("draws root %v, frozen list root %s", root, fl.str("entries_root"))
	}
	for _, x := range entries {
		if strings.Contains(x.Group, "family") {
			t.Errorf("the frozen list shows a runner's group code %q, not its pseudonym", x.Group)
		}
	}

	// Runners dispute; bad messages are field errors, the fourth is refused.
	path := "/api/v1/entries/" + ids[1] + "/disputes"
	for _, bad := range []string{"", "   ", "a\x00b"} {
		if r := e.do("POST", path, map[string]any{"token": tokens[1], "message": bad}); r.Status != 422 || r.errField("field") != "message" {
			t.Errorf("message %q: %d %s", bad, r.Status, r.Raw)
		}
	}
	if r := e.do("POST", path, map[string]any{"token": tokens[0], "message": "wrong token"}); r.Status != 404 {
		t.Errorf("another entry's token: %d %s", r.Status, r.Raw)
	}
	long := strings.Repeat("가", 600)
	first := e.do("POST", path, map[string]any{"token": tokens[1], "message": long})
	if first.Status != 201 || first.str("message") != strings.Repeat("가", 500) || first.str("status") != "open" {
		t.Fatalf("dispute: %d %.200s", first.Status, first.Raw)
	}
	for i := 0; i < 2; i++ {
		if r := e.do("POST", path, map[string]any{"token": tokens[1], "message": "my tickets should be 4"}); r.Status != 201 {
			t.Fatalf("dispute %d: %d %s", i+2, r.Status, r.Raw)
		}
	}
	if r := e.do("POST", path, map[string]any{"token": tokens[1], "message": "again"}); r.Status != 409 || r.errCode() != "dispute_limit" {
		t.Errorf("fourth dispute: %d %s", r.Status, r.Raw)
	}

	// The reveal waits for the window, and says until when.
	e.clock.Set(end.Add(-time.Second))
	rv := e.action("spring", "reveal", nil)
	if rv.Status != http.StatusConflict || rv.errCode() != "dispute_window_open" ||
		!strings.Contains(rv.errField("message"), end.Format(time.RFC3339)) {
		t.Errorf("reveal inside the window: %d %s", rv.Status, rv.Raw)
	}
	if r := e.action("spring", "draw", nil); r.Status != http.StatusConflict {
		t.Errorf("draw inside the window: %d %s", r.Status, r.Raw)
	}

	// A reviewer sees the open disputes with the entry's line and answers.
	auth := []string{"Authorization", "Bearer " + e.reviewer}
	q := e.do("GET", "/api/v1/review/disputes?event=spring", nil, auth...)
	list, _ := q.Body["disputes"].([]any)
	if q.Status != 200 || len(list) != 3 {
		t.Fatalf("review disputes: %d %s", q.Status, q.Raw)
	}
	top := list[0].(map[string]any)
	var line fairdraw.Entry
	for _, x := range entries {
		if x.EntryID == ids[1] {
			line = x
		}
	}
	if top["entry_id"] != ids[1] || top["in_list"] != true || top["tickets"] != float64(line.Tickets) || top["status"] != "open" {
		t.Errorf("dispute line: %v", top)
	}
	answer := "/api/v1/review/disputes/" + first.numStr("dispute_id") + "/answer"
	for _, bad := range []map[string]any{{"outcome": "maybe", "answer": "x"}, {"outcome": "denied", "answer": " "}} {
		if r := e.do("POST", answer, bad, auth...); r.Status != 422 {
			t.Errorf("answer %v: %d %s", bad, r.Status, r.Raw)
		}
	}
	if r := e.do("POST", answer, map[string]any{"outcome": "denied", "answer": "Your record shows one earlier application."}); r.Status != 401 {
		t.Errorf("anonymous answer: %d", r.Status)
	}
	if r := e.do("POST", answer, map[string]any{"outcome": "denied", "answer": "Your record shows one earlier application."}, auth...); r.Status != 200 ||
		r.str("outcome") != "denied" {
		t.Fatalf("answer: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", answer, map[string]any{"outcome": "upheld", "answer": "changed my mind"}, auth...); r.Status != 409 {
		t.Errorf("second answer: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/v1/review/disputes?event=spring&open=1", nil, auth...); len(r.Body["disputes"].([]any)) != 2 {
		t.Errorf("open disputes after one answer: %s", r.Raw)
	}
	mine := e.do("GET", path+"?token="+tokens[1], nil)
	got := mine.Body["disputes"].([]any)[0].(map[string]any)
	if got["outcome"] != "denied" || got["answer"] != "Your record shows one earlier application." {
		t.Errorf("runner's view of the answer: %s", mine.Raw)
	}
	var audits, logs int64
	e.store.DB().Raw("SELECT count(*) FROM audit_log WHERE action IN ('dispute.file', 'dispute.answer')").Scan(&audits)
	e.store.DB().Raw("SELECT count(*) FROM event_log WHERE kind IN ('dispute_filed', 'dispute_answered')").Scan(&logs)
	if audits != 4 || logs != 4 {
		t.Errorf("audit rows %d, log rows %d, want 4 and 4", audits, logs)
	}

	// Once the window is over: no more disputes, and the reveal goes ahead.
	e.clock.Set(end)
	if r := e.do("POST", "/api/v1/entries/"+ids[2]+"/disputes", map[string]any{"token": tokens[2], "message": "late"}); r.Status != 409 ||
		r.errCode() != "dispute_window_closed" {
		t.Errorf("dispute after the window: %d %s", r.Status, r.Raw)
	}
	if r := e.action("spring", "reveal", nil); r.Status != 200 {
		t.Errorf("reveal after the window: %d %s", r.Status, r.Raw)
	}
}

// TestDisputeWindowSpec checks the organizer's dispute_window field.
func TestDisputeWindowSpec(t *testing.T) {
	e := newEnv(t, true)
	for i, c := range []struct {
		window string
		status int
		want   string
	}{{"0s", 201, "0s"}, {"90m", 201, "90m"}, {"-1h", 422, ""}, {"721h", 422, ""}, {"soon", 422, ""}, {"1.5s", 422, ""}} {
		b := eventBody("w" + string(rune('a'+i)))
		b["dispute_window"] = c.window
		r := e.do("POST", "/api/v1/admin/events", b, "Authorization", "Bearer "+e.organizer)
		if r.Status != c.status || (c.status == 201 && r.str("dispute_window") != c.want) ||
			(c.status == 422 && r.errField("field") != "dispute_window") {
			t.Errorf("dispute_window %q: %d %s", c.window, r.Status, r.Raw)
		}
	}
}

// numStr is a numeric field of the body as decimal text.
func (r resp) numStr(k string) string {
	n, _ := r.Body[k].(float64)
	return strconv.FormatInt(int64(n), 10)
}
