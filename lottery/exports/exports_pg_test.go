package exports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/exports"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/staff"
)

var _ exports.Storer = (*postgres.Store)(nil)

type fixture struct {
	t      testing.TB
	store  *postgres.Store
	svc    *lottery.Service
	ex     *exports.Service
	org    lottery.StaffAccount // organizer of the event's organization
	other  lottery.StaffAccount // organizer of another organization
	rev    lottery.StaffAccount // reviewer of the event's organization
	ev     lottery.Event
	phones int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	store, _ := pgtest.NewStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	keys, _ := lottery.NewKeys([]byte("exports-test-secret-key-exports-test-secret"))
	svc := lottery.NewService(store, keys, lottery.SystemClock{}, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	stf := staff.NewService(store, store, keys, lottery.SystemClock{}, nil, log, staff.Config{})
	f := &fixture{t: t, store: store, svc: svc, ex: exports.NewService(store, svc, log, "KR")}
	for _, a := range []struct {
		org, email string
		role       lottery.Role
		into       *lottery.StaffAccount
	}{{"alpha", "org@alpha.example", lottery.RoleOrganizer, &f.org}, {"beta", "org@beta.example", lottery.RoleOrganizer, &f.other},
		{"alpha", "rev@alpha.example", lottery.RoleReviewer, &f.rev}} {
		if _, err := stf.AddTo(ctx, a.org, a.email, a.role, ""); err != nil {
			t.Fatal(err)
		}
		*a.into, _ = store.StaffByEmail(ctx, a.email)
	}
	_, err := svc.CreateEvent(ctx, f.org, lottery.EventSpec{Slug: "spring", Name: "Spring Marathon", TimeZone: "Asia/Seoul",
		DisputeWindow: "0s", OpensAt: time.Now().Add(-time.Hour), ClosesAt: time.Now().Add(time.Hour), MaxGroupSize: 1,
		Courses: []lottery.CourseSpec{
			{Code: "half", Name: "Half Marathon", DistanceKM: 21.1, PaceGroups: []lottery.PaceGroupSpec{
				{Code: "fast", Label: "Under 1:30", Capacity: 10}, {Code: "open", Label: "Open", Capacity: 10}}},
			{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{{Code: "open", Label: "Open", Capacity: 10}}}},
		Form: lottery.FormSpec{Questions: []lottery.QuestionSpec{
			{ID: "club", Kind: "club", Label: "Club"},
			{ID: "size", Kind: "tshirt_size", Label: "T-shirt", Options: []lottery.OptionSpec{{Value: "m", Label: "Medium"}}},
			{ID: "sos", Kind: "emergency_contact", Label: "Emergency contact"},
			{ID: "photo", Kind: "checkbox", Label: "Photos OK"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if f.ev, err = svc.ManagedEvent(ctx, f.org, "spring"); err != nil {
		t.Fatal(err)
	}
	return f
}

// entry inserts an entry straight into the store (as apply and the
// offers would leave it), created created-ago, and returns its id.
func (f *fixture) entry(key, name, status, answers string, ago time.Duration) string {
	f.t.Helper()
	course, pace, _ := strings.Cut(key, ":")
	sq, ok := f.ev.SubQueue(course, pace)
	if !ok {
		f.t.Fatalf("no sub-queue %s", key)
	}
	f.phones++
	email := fmt.Sprintf("runner%d@example.com", f.phones)
	var id string
	if err := f.store.DB().Raw(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status,
			answers, risk_score, risk_decision, lang, created_at)
		VALUES (gen_random_uuid(), ?, ?, ?, ?, ?, ?, date '1990-04-01', ?, ?::jsonb, ?, ?, 'ko', now() - ?::interval) RETURNING id`,
		f.ev.ID, sq.ID, name, email, email, fmt.Sprintf("+82105555%04d", f.phones), status, answers,
		map[bool]int{true: 700, false: 10}[status == "in_review"], map[bool]string{true: "review", false: "accept"}[status == "in_review"],
		fmt.Sprintf("%d microseconds", ago.Microseconds())).Scan(&id).Error; err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) export(actor lottery.StaffAccount, file string) ([][]string, string) {
	f.t.Helper()
	ctx := context.Background()
	x, err := f.ex.Open(ctx, actor, "spring", file)
	if err != nil {
		f.t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := f.ex.Write(ctx, x, &buf, true)
	if err != nil {
		f.t.Fatal(err)
	}
	raw := buf.String()
	if !strings.HasPrefix(raw, exports.BOM) {
		f.t.Errorf("%s does not start with the UTF-8 BOM", file)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, exports.BOM))).ReadAll()
	if err != nil {
		f.t.Fatalf("%s is not CSV: %v\n%s", file, err, raw)
	}
	if n != len(rows)-1 {
		f.t.Errorf("%s: Write counted %d rows, the file has %d", file, n, len(rows)-1)
	}
	return rows, raw
}

func (f *fixture) audits(action string) []map[string]any {
	f.t.Helper()
	var rows []struct {
		StaffID int64
		Target  string
		Details []byte
	}
	f.store.DB().Raw(`SELECT staff_id, target, details FROM audit_log WHERE action = ? ORDER BY id`, action).Scan(&rows)
	var out []map[string]any
	for _, r := range rows {
		out = append(out, map[string]any{"staff": r.StaffID, "target": r.Target, "details": string(r.Details)})
	}
	return out
}

// TestEntriesExport: the header names every column (questions by their
// labels), one row per entry with names not keys, answers as cells,
// formula-looking cells defused, and the download audited without its
// content; another organization's organizer sees no such event and a
// reviewer may not export.
func TestEntriesExport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.entry("half:fast", "Kim Minjun", "received", `{"club":"Seoul Runners","size":"m","sos":{"name":"Kim Mother","phone":"+821099998888"},"photo":true}`, 2*time.Hour)
	b := f.entry("10k:open", "=HYPERLINK(\"http://evil\",\"x\")", "in_review", `{"club":"@SUM(A1)","photo":false}`, time.Hour)
	if err := f.store.DB().Exec(`INSERT INTO entry_consents (entry_id, document, version, accepted_at) VALUES
		(?, 'privacy', 'default-2', '2026-03-01T01:02:03Z'), (?, 'waiver', 'default-2', '2026-03-01T01:02:03Z')`, a, a).Error; err != nil {
		t.Fatal(err)
	}
	rows, raw := f.export(f.org, exports.FileEntries)
	wantHeader := []string{"Entry ID", "Created at (Asia/Seoul)", "Status", "Course", "Pace group", "E-mail", "Name", "Phone",
		"Birth date", "Group", "Risk score", "Review state", "Tickets", "Language", "Club", "T-shirt", "Emergency contact",
		"Photos OK", "Privacy notice version", "Privacy accepted at", "Waiver version", "Waiver accepted at"}
	if diff := cmp.Diff(wantHeader, rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if len(rows) != 3 {
		t.Fatalf("rows = %d, want a header and 2 entries:\n%s", len(rows), raw)
	}
	got := rows[1]
	want := []string{a, got[1], "received", "Half Marathon", "Under 1:30", "runner1@example.com", "Kim Minjun", "'+821055550001",
		"1990-04-01", "", "10", "not flagged", "1", "ko", "Seoul Runners", "Medium", "Kim Mother +821099998888", "yes",
		"default-2", "2026-03-01 10:02:03", "default-2", "2026-03-01 10:02:03"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("first entry (-want +got):\n%s", diff)
	}
	if rows[2][0] != b || rows[2][6] != `'=HYPERLINK("http://evil","x")` || rows[2][14] != "'@SUM(A1)" || rows[2][17] != "no" ||
		rows[2][11] != "in review" || rows[2][3] != "10K" {
		t.Errorf("second entry: %q", rows[2])
	}
	audits := f.audits("export.entries")
	if len(audits) != 1 || audits[0]["staff"] != f.org.ID || audits[0]["target"] != "spring" ||
		!strings.Contains(audits[0]["details"].(string), `"rows": 2`) || strings.Contains(audits[0]["details"].(string), "Kim") {
		t.Errorf("audit rows: %v", audits)
	}

	if _, err := f.ex.Open(ctx, f.other, "spring", exports.FileEntries); !errors.Is(err, lottery.ErrNotFound) {
		t.Errorf("another organization's organizer: %v, want not found", err)
	}
	if _, err := f.ex.Open(ctx, f.rev, "spring", exports.FileEntries); !errors.Is(err, lottery.ErrForbidden) {
		t.Errorf("reviewer: %v, want forbidden", err)
	}
	if _, err := f.ex.Open(ctx, f.org, "spring", "secrets.csv"); !errors.Is(err, lottery.ErrNotFound) {
		t.Errorf("unknown file: %v, want not found", err)
	}
	if n := len(f.audits("export.entries")); n != 1 {
		t.Errorf("refused exports were audited: %d rows", n)
	}
}

// TestBibAssignment sets ranges (an overlap refused with its field),
// numbers the confirmed entries by course, pace group and name, runs again
// without change, numbers a newcomer, refuses a range grown too small
// (nothing changed), and the start list shows the bibs with the club and
// emergency contact answers.
func TestBibAssignment(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	set := func(rs ...exports.BibRange) error { return f.ex.SetBibRanges(ctx, f.org, f.ev, rs) }
	err := set(exports.BibRange{Key: "half:fast", First: 1, Last: 3}, exports.BibRange{Key: "half:open", First: 3, Last: 10})
	var le *lottery.Error
	if !errors.As(err, &le) || le.Field != "bibs.half:open.first" {
		t.Fatalf("overlap: %v", err)
	}
	if err := set(exports.BibRange{Key: "half:fast", First: 1, Last: 3}, exports.BibRange{Key: "half:open", First: 100, Last: 199},
		exports.BibRange{Key: "10k:open", First: 1000, Last: 1999}); err != nil {
		t.Fatal(err)
	}
	sos := `{"club":"Han River RC","sos":{"name":"Lee Father","phone":"+821011112222"}}`
	park := f.entry("half:fast", "Park", "confirmed", sos, time.Hour)
	ahn := f.entry("half:fast", "Ahn", "confirmed", `{}`, time.Hour)
	choi := f.entry("10k:open", "Choi", "confirmed", `{}`, time.Hour)
	f.entry("half:open", "Waiting", "waitlisted", `{}`, time.Hour)

	plan, err := f.ex.AssignBibs(ctx, f.org, f.ev)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{ahn: 1, park: 2, choi: 1000}, plan.Bibs); diff != "" || plan.Assigned != 3 {
		t.Errorf("first run: assigned %d (-want +got):\n%s", plan.Assigned, diff)
	}
	if again, err := f.ex.AssignBibs(ctx, f.org, f.ev); err != nil || again.Assigned != 0 || cmp.Diff(plan.Bibs, again.Bibs) != "" {
		t.Errorf("second run: %+v %v", again, err)
	}
	abe := f.entry("half:fast", "Abe", "confirmed", `{}`, time.Hour)
	plan, err = f.ex.AssignBibs(ctx, f.org, f.ev)
	if err != nil || plan.Assigned != 1 || plan.Bibs[abe] != 3 || plan.Bibs[ahn] != 1 {
		t.Errorf("newcomer: %+v %v", plan, err)
	}
	f.entry("half:fast", "Bae", "confirmed", `{}`, time.Hour)
	if _, err := f.ex.AssignBibs(ctx, f.org, f.ev); !errors.As(err, &le) || le.Field != "bibs.half:fast.last" {
		t.Errorf("range too small: %v", err)
	}
	rows, _ := f.export(f.org, exports.FileStartList)
	want := [][]string{exports.StartListHeader,
		{"1", "Ahn", "Half Marathon", "Under 1:30", "", ""},
		{"2", "Park", "Half Marathon", "Under 1:30", "Han River RC", "Lee Father +821011112222"},
		{"3", "Abe", "Half Marathon", "Under 1:30", "", ""},
		{"1000", "Choi", "10K", "Open", "", ""},
		{"", "Bae", "Half Marathon", "Under 1:30", "", ""}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("start list (-want +got):\n%s", diff)
	}
	if n := len(f.audits("bibs.assign")); n != 3 {
		t.Errorf("bibs.assign audited %d times, want 3 (the refusal changes nothing)", n)
	}
	var logged int
	f.store.DB().Raw(`SELECT count(*) FROM event_log WHERE kind = 'event.bibs_assigned'`).Scan(&logged)
	if logged != 3 {
		t.Errorf("event_log records: %d", logged)
	}
}

// TestResultsAndPaymentsExports: the draw's outcome per sub-queue with the
// offer's state, and each payment with its refund.
func TestResultsAndPaymentsExports(t *testing.T) {
	f := newFixture(t)
	won := f.entry("half:fast", "Winner", "confirmed", `{}`, time.Hour)
	wait := f.entry("half:fast", "Waiting", "waitlisted", `{}`, time.Hour)
	sq, _ := f.ev.SubQueue("half", "fast")
	db := f.store.DB()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO draw_results (entry_id, subqueue_id, position, unit_id, selected, waitlist_position) VALUES (?, ?, 1, 'u1', true, NULL), (?, ?, 2, 'u2', false, 1)`,
			[]any{won, sq.ID, wait, sq.ID}},
		{`INSERT INTO offers (id, event_id, subqueue_id, entry_id, unit_id, status, round, issued_at, expires_at)
			VALUES ('00000000-0000-4000-8000-000000000001', ?, ?, ?, 'u1', 'paid', 0, '2026-03-02T00:00:00Z', '2026-03-04T00:00:00Z')`,
			[]any{f.ev.ID, sq.ID, won}},
		{`INSERT INTO payments (provider, id, offer_id, status, amount_minor, currency, refund_due_minor, refunded_minor, created_at, updated_at)
			VALUES ('sandbox', 'pay_1', '00000000-0000-4000-8000-000000000001', 'refunded', 5000000, 'krw', 2500000, 2500000,
			'2026-03-02T01:00:00Z', '2026-03-05T01:00:00Z')`, nil},
	} {
		if err := db.Exec(q.sql, q.args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := f.export(f.org, exports.FileResults)
	want := [][]string{exports.ResultsHeader,
		{won, "Half Marathon", "Under 1:30", "Winner", "runner1@example.com", "confirmed", "selected", "1", "", "paid", "0",
			"2026-03-02 09:00:00", "2026-03-04 09:00:00"},
		{wait, "Half Marathon", "Under 1:30", "Waiting", "runner2@example.com", "waitlisted", "waitlisted", "2", "1", "", "", "", ""}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	rows, _ = f.export(f.org, exports.FilePayments)
	want = [][]string{exports.PaymentsHeader,
		{won, "sandbox", "pay_1", "5000000", "KRW", "refunded", "2500000", "2500000", "2026-03-02 10:00:00", "2026-03-05 10:00:00"}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("payments (-want +got):\n%s", diff)
	}
}

// TestEntriesList pages 130 entries newest first by keyset (no entry
// twice or missed), searches by e-mail, name, id prefix and phone, filters
// by status and sub-queue, and checks PostgreSQL walks
// entries_event_created_idx for a page of a large event.
func TestEntriesList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for i := range 130 {
		st := "received"
		if i%10 == 0 {
			st = "in_review"
		}
		key := "half:open"
		if i%3 == 0 {
			key = "10k:open"
		}
		// Two entries share each creation time: the id breaks the tie.
		ids = append(ids, f.entry(key, fmt.Sprintf("Runner %03d", i), st, `{}`, time.Duration(130-i/2)*time.Minute))
	}
	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		page, err := f.ex.List(ctx, f.ev, exports.ListQuery{After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			seen = append(seen, r.ID)
		}
		if page.Next == "" {
			if pages != 2 {
				t.Errorf("pages = %d, want 3", pages+1)
			}
			break
		}
		after = page.Next
	}
	if len(seen) != 130 {
		t.Fatalf("listed %d entries, want 130", len(seen))
	}
	uniq := map[string]bool{}
	for _, id := range seen {
		uniq[id] = true
	}
	if len(uniq) != 130 || !uniq[ids[0]] {
		t.Errorf("keyset pages repeat or miss entries: %d unique", len(uniq))
	}
	find := func(q exports.ListQuery) []string {
		t.Helper()
		page, err := f.ex.List(ctx, f.ev, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range page.Rows {
			out = append(out, r.Name)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		q    exports.ListQuery
		want []string
	}{
		{"e-mail", exports.ListQuery{Search: "RUNNER5@example.com"}, []string{"Runner 004"}},
		{"name", exports.ListQuery{Search: "runner 12"}, []string{"Runner 129", "Runner 128", "Runner 127", "Runner 126", "Runner 125",
			"Runner 124", "Runner 123", "Runner 122", "Runner 121", "Runner 120"}},
		{"id prefix", exports.ListQuery{Search: ids[7][:13]}, []string{"Runner 007"}},
		{"phone as typed", exports.ListQuery{Search: "010-5555-0010"}, []string{"Runner 009"}},
		{"status and sub-queue", exports.ListQuery{Status: "in_review", SubQueue: "10k:open"},
			[]string{"Runner 120", "Runner 090", "Runner 060", "Runner 030", "Runner 000"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := find(tt.q)
			if tt.name == "name" { // same creation time pairs: compare as sets
				if len(got) != len(tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// A large event: 50,000 more entries, then the planner's choice.
	if err := f.store.DB().Exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status, created_at)
		SELECT gen_random_uuid(), ?, ?, 'Bulk ' || g, 'bulk' || g || '@example.com', 'bulk' || g || '@example.com',
			'+8210' || lpad(g::text, 8, '0'), date '1990-01-01', 'received', now() - (g || ' seconds')::interval
		FROM generate_series(1, 50000) g`, f.ev.ID, f.ev.Courses[0].PaceGroups[1].ID).Error; err != nil {
		t.Fatal(err)
	}
	f.store.DB().Exec("ANALYZE entries")
	for _, q := range []exports.ListQuery{{}, {Status: "received"}, {After: "1764900000000000_3f2a9c00-0000-4000-8000-000000000001"}} {
		flt, err := exports.FilterOf(f.ev, q, "KR")
		if err != nil {
			t.Fatal(err)
		}
		flt.Limit++
		plan, err := f.store.ExplainListEntries(ctx, f.ev.ID, flt)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "entries_event_created_idx") || strings.Contains(plan, "Sort") {
			t.Errorf("query %+v does not walk entries_event_created_idx:\n%s", q, plan)
		}
	}
}
