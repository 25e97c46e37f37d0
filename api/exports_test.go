package api_test

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/exports"
)

// readCSV parses a download, which starts with the UTF-8 byte order mark.
func readCSV(t *testing.T, r resp) [][]string {
	t.Helper()
	if r.Status != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("download: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	raw := string(r.Raw)
	if !strings.HasPrefix(raw, exports.BOM) {
		t.Errorf("no byte order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, exports.BOM))).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, raw)
	}
	return rows
}

// TestExportEntriesCSV is API.md's export: the organizer of the event's
// organization gets text/csv, a header row then one row per entry with
// the answers in columns named by the questions, formula-looking answers
// defused, and an audit row; a reviewer is 403, another organization's
// organizer 404, a script without a token 401.
func TestExportEntriesCSV(t *testing.T) {
	e := newEnv(t, true)
	e.openQuestionsEvent()
	ids := map[string]string{}
	for _, email := range []string{"a@example.com", "b@example.com"} {
		b := e.applyBody(email, e.otp("spring", email))
		answers := validAnswers()
		if email == "b@example.com" {
			answers["club"] = "=cmd|' /C calc'!A0"
			answers["rules"] = true
		}
		b["answers"], b["consents"] = answers, formConsents()
		r := e.do("POST", "/api/v1/events/spring/entries", b)
		if r.Status != 201 {
			t.Fatalf("apply: %d %s", r.Status, r.Raw)
		}
		ids[email] = r.str("entry_id")
	}
	org := []string{"Authorization", "Bearer " + e.organizer}
	rows := readCSV(t, e.do("GET", "/api/v1/admin/events/spring/exports/entries.csv", nil, org...))
	acct, _ := e.store.StaffByEmail(context.Background(), "org@example.com")
	ev, err := e.svc.ManagedEvent(context.Background(), acct, "spring")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(exports.EntriesHeader(ev), rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want a header and one per entry", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	byID := map[string][]string{rows[1][0]: rows[1], rows[2][0]: rows[2]}
	a, b := byID[ids["a@example.com"]], byID[ids["b@example.com"]]
	if a == nil || b == nil {
		t.Fatalf("rows are not the entries: %v", rows)
	}
	for _, c := range []struct{ col, want string }{{"Course", ev.Courses[0].Name}, {"Pace group", ev.Courses[0].PaceGroups[0].Label},
		{"E-mail", "a@example.com"}, {"Medical notes", "Asthma inhaler in my belt"}, {"I read the race rules", "yes"},
		{"Privacy notice version", "2027-01"}, {"Waiver version", "w-2"}, {"Review state", "not flagged"}} {
		if got := a[col[c.col]]; got != c.want {
			t.Errorf("%s = %q, want %q", c.col, got, c.want)
		}
	}
	if got := b[col[ev.Form.Questions[2].Label.EN]]; got != "'=cmd|' /C calc'!A0" {
		t.Errorf("club answer %q is not defused", got)
	}
	var audits int64
	e.store.DB().Raw(`SELECT count(*) FROM audit_log WHERE action = 'export.entries' AND staff_id = ? AND target = 'spring'
		AND details->>'rows' = '2'`, acct.ID).Scan(&audits)
	if audits != 1 {
		t.Errorf("audit rows: %d", audits)
	}

	if r := e.do("GET", "/api/v1/admin/events/spring/exports/entries.csv", nil, "Authorization", "Bearer "+e.reviewer); r.Status != 403 {
		t.Errorf("reviewer: %d %s", r.Status, r.Raw)
	}
	if _, err := e.staff.AddTo(context.Background(), "elsewhere", "other@example.com", lottery.RoleOrganizer, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := e.staff.IssueToken(context.Background(), "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"exports/entries.csv", "exports/payments.csv", "bibs", "entries"} {
		if r := e.do("GET", "/api/v1/admin/events/spring/"+p, nil, "Authorization", "Bearer "+tok); r.Status != 404 || r.errCode() != "not_found" {
			t.Errorf("another organization's organizer, %s: %d %s", p, r.Status, r.Raw)
		}
	}
	if r := e.do("GET", "/api/v1/admin/events/spring/exports/entries.csv", nil); r.Status != 401 {
		t.Errorf("anonymous: %d", r.Status)
	}
	if r := e.do("GET", "/api/v1/admin/events/spring/exports/other.csv", nil, org...); r.Status != 404 {
		t.Errorf("unknown export: %d", r.Status)
	}
	if r := e.do("GET", "/api/v1/admin/events/spring/exports/entries.csv?bom=0", nil, org...); strings.HasPrefix(string(r.Raw), exports.BOM) {
		t.Errorf("?bom=0 still starts with the byte order mark")
	}
	list := e.do("GET", "/api/v1/admin/events/spring/entries?q=b@example.com", nil, org...)
	if got, _ := list.Body["entries"].([]any); list.Status != 200 || len(got) != 1 {
		t.Errorf("entries list search: %d %s", list.Status, list.Raw)
	}
}

// TestExportBibsAndResults: after a draw, bib ranges through the API (an
// overlap is 422 on its field), assignment for the confirmed entries
// (idempotent), the start list numbered, and results and payments files
// with a row per drawn entry.
func TestExportBibsAndResults(t *testing.T) {
	e := newEnv(t, true)
	e.drawnEvent(20, 5)
	org := []string{"Authorization", "Bearer " + e.organizer}
	db := e.store.DB()
	db.Exec(`UPDATE entries SET status = 'confirmed' WHERE id IN (SELECT entry_id FROM draw_results WHERE selected LIMIT 4)`)

	r := e.do("PUT", "/api/v1/admin/events/spring/bibs", map[string]any{"ranges": []any{
		map[string]any{"subqueue": "half:sub-130", "first": 1, "last": 10}, map[string]any{"subqueue": "half:open", "first": 10, "last": 20}}}, org...)
	if r.Status != 422 || r.errField("field") != "bibs.half:open.first" {
		t.Errorf("overlapping ranges: %d %s", r.Status, r.Raw)
	}
	var ranges []any
	for _, sq := range []string{"half:sub-130", "half:open", "10k:open"} {
		first := 1 + len(ranges)*1000
		ranges = append(ranges, map[string]any{"subqueue": sq, "first": first, "last": first + 999})
	}
	if r := e.do("PUT", "/api/v1/admin/events/spring/bibs", map[string]any{"ranges": ranges}, org...); r.Status != 200 {
		t.Fatalf("set ranges: %d %s", r.Status, r.Raw)
	}
	r = e.do("POST", "/api/v1/admin/events/spring/bibs/assign", nil, org...)
	if r.Status != 200 || r.Body["assigned"] != float64(4) || r.Body["numbered"] != float64(4) {
		t.Errorf("assign: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/bibs/assign", nil, org...); r.Body["assigned"] != float64(0) {
		t.Errorf("assign again: %d %s", r.Status, r.Raw)
	}
	start := readCSV(t, e.do("GET", "/api/v1/admin/events/spring/exports/start-list.csv", nil, org...))
	if len(start) != 5 || start[1][0] == "" || start[4][0] == "" {
		t.Errorf("start list: %q", start)
	}
	var drawn int
	db.Raw(`SELECT count(*) FROM draw_results`).Scan(&drawn)
	results := readCSV(t, e.do("GET", "/api/v1/admin/events/spring/exports/results.csv", nil, org...))
	if len(results) != drawn+1 || results[0][6] != "Outcome" {
		t.Errorf("results: %d rows for %d drawn", len(results)-1, drawn)
	}
	payments := readCSV(t, e.do("GET", "/api/v1/admin/events/spring/exports/payments.csv", nil, org...))
	if diff := cmp.Diff(exports.PaymentsHeader, payments[0]); diff != "" {
		t.Errorf("payments header: %s", diff)
	}
}
