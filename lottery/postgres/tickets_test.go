package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/series"
)

// ticketsFixture is a series with a drawn earlier edition ("past", 2025)
// and an open edition ("now", 2026) under the doubling rule.
type ticketsFixture struct {
	store  *postgres.Store
	svc    *lottery.Service
	draws  *draws.Service
	reg    *registration.Service
	rev    *review.Service
	series *series.Service
	keys   *lottery.Keys
	clk    *lottery.FixedClock
	org    lottery.StaffAccount
}

type runner struct{ name, email, phone, birth string }

func newTicketsFixture(t *testing.T) *ticketsFixture {
	t.Helper()
	store, svc, dr, clk, org := drawService(t, nil)
	keys, _ := lottery.NewKeys([]byte("draw-test-secret-key-draw-test-secret"))
	log := slog.New(slog.DiscardHandler)
	f := &ticketsFixture{store: store, svc: svc, draws: dr, clk: clk, org: org, keys: keys,
		reg:    registration.NewService(store, svc, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond}),
		rev:    review.NewService(store, clk, nil, log, nil),
		series: series.NewService(store, "KR", nil)}
	if _, err := f.series.Create(context.Background(), org, lottery.Series{Slug: "race", Name: "The Race"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// event creates and publishes an edition of the series opening now.
func (f *ticketsFixture) event(t *testing.T, slug string, year, capacity int) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.svc.CreateEvent(ctx, f.org, lottery.EventSpec{Slug: slug, Name: "Race " + slug, OpensAt: f.clk.T, DisputeWindow: "0s",
		ClosesAt: f.clk.T.Add(time.Hour), TicketRule: lottery.TicketRuleDoubling, UnreviewedPolicy: lottery.PolicyInclude,
		Series: "race", EditionYear: year, RiskRules: &lottery.RiskRulesSpec{ReviewAt: 990, RejectAt: 1000},
		Courses: []lottery.CourseSpec{{Code: "ten", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "a", Label: "A", Capacity: capacity}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Transition(ctx, f.org, slug, lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
}

// apply applies r to slug inside its window, claiming claim (nil: none).
func (f *ticketsFixture) apply(t *testing.T, slug string, r runner, claim *int) lottery.Entry {
	t.Helper()
	ctx := context.Background()
	ev, err := f.svc.PublicEvent(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := identity.NormalizeEmail(r.email)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.DB().Exec(`INSERT INTO otp_codes (event_id, email_key, code_hash, attempts, expires_at)
		VALUES (?, ?, ?, 0, ?)`, ev.ID, addr.Key, f.keys.OTPHash(ev.ID, addr.Key, "123456"), f.clk.T.Add(time.Hour)).Error; err != nil {
		t.Fatal(err)
	}
	res, err := f.reg.Apply(ctx, slug, registration.ApplyRequest{Course: "ten", PaceGroup: "a", Name: r.name, Email: r.email,
		Phone: r.phone, BirthDate: r.birth, OTP: "123456", PreviousApplications: claim, ClaimNote: "ran it in 2019 too",
		Consents: map[string]string{"privacy": lottery.DefaultPrivacy.Version, "waiver": lottery.DefaultWaiver.Version}},
		lottery.ClientInfo{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/130", AcceptLanguage: "en"}, "", nil)
	if err != nil {
		t.Fatalf("apply %s to %s: %v", r.email, slug, err)
	}
	e, err := f.store.Entry(ctx, res.EntryID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// drawAll closes, freezes, reveals and draws slug.
func (f *ticketsFixture) drawAll(t *testing.T, slug string) {
	t.Helper()
	ctx := context.Background()
	f.clk.T = f.clk.T.Add(2 * time.Hour)
	for _, a := range []string{lottery.ActionFreeze, lottery.ActionReveal, lottery.ActionDraw} {
		if _, err := f.svc.Transition(ctx, f.org, slug, a, lottery.TransitionParams{BeaconRound: "none"}); err != nil {
			t.Fatalf("%s %s: %v", a, slug, err)
		}
	}
	_, ds, err := f.draws.Draws(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if _, err := f.draws.RunDraw(ctx, d.SubQueueID); err != nil {
			t.Fatal(err)
		}
	}
}

// drawnEdition makes slug an edition of year with one slot, applies the
// runners, draws it and returns their entries and the one selected.
func (f *ticketsFixture) drawnEdition(t *testing.T, slug string, year int, runners []runner) (ids, selected []string) {
	t.Helper()
	f.event(t, slug, year, 1)
	for _, r := range runners {
		ids = append(ids, f.apply(t, slug, r, nil).ID)
	}
	f.drawAll(t, slug)
	if err := f.store.DB().Raw(`SELECT dr.entry_id::text FROM draw_results dr JOIN entries e ON e.id = dr.entry_id
		JOIN events ev ON ev.id = e.event_id WHERE ev.slug = ? AND dr.selected`, slug).Scan(&selected).Error; err != nil {
		t.Fatal(err)
	}
	if len(selected) != 1 {
		t.Fatalf("%d selected in %s, want 1", len(selected), slug)
	}
	return ids, selected
}

func intp(n int) *int { return &n }

// TestTicketsEarnedFromTheRecord: an earlier edition's unsuccessful
// applications and an imported history both earn tickets, found through
// e-mail variants (gmail dots, plus tags, case) and name + birth date; the
// selected runner earns none.
func TestTicketsEarnedFromTheRecord(t *testing.T) {
	f := newTicketsFixture(t)
	ctx := context.Background()
	past := []runner{
		{"Jane Doe", "jane.doe+race@gmail.com", "+821011110001", "1985-02-03"},
		{"Kim Minjun", "minjun@example.com", "+821011110002", "1990-05-01"},
		{"Lee Seoyeon", "seoyeon@example.com", "+821011110003", "1992-07-08"},
	}
	pastIDs, selected := f.drawnEdition(t, "past", 2025, past)
	hist := "name,birth_date,email,phone,previous_applications,years\n" +
		"Park Jiho,1988-09-09,Ji.Ho.Park@Gmail.com,,2,2023;2022\n"
	if n, err := f.series.ImportHistory(ctx, f.org, "race", strings.NewReader(hist)); err != nil || n != 1 {
		t.Fatalf("import: %d rows, %v", n, err)
	}

	f.clk.T = f.clk.T.Add(24 * time.Hour)
	f.event(t, "now", 2026, 10)
	// The same people, written differently this year.
	now := []runner{
		{"Jane Doe", "JaneDoe@GMAIL.com", "+821022220001", "1985-02-03"},          // e-mail key: dots, tag, case
		{"minjun KIM", "minjun.new@example.org", "+821022220002", "1990-05-01"},   // name + birth date
		{"Lee Seoyeon", "seoyeon.lee@example.org", "+821011110003", "1992-07-01"}, // phone
		{"Park Jiho", "jihopark+2026@gmail.com", "+821022220004", "1988-09-09"},   // imported, by e-mail
		{"Choi Yuna", "yuna@example.org", "+821022220005", "1995-01-01"},          // nobody
	}
	for i, r := range now {
		e := f.apply(t, "now", r, nil)
		wantCount, wantLabels := 1, []string{"2025"}
		if slices.Contains(selected, pastIDs[min(i, 2)]) && i < 3 {
			wantCount, wantLabels = 0, nil
		}
		switch i {
		case 3:
			wantCount, wantLabels = 2, []string{"2023", "2022"}
		case 4:
			wantCount, wantLabels = 0, nil
		}
		if e.RecordedApplications != wantCount || e.PreviousApplications != wantCount || e.Tickets != 1<<wantCount {
			t.Errorf("%s: recorded %d, counted %d, tickets %d; want %d, %d, %d", r.email, e.RecordedApplications,
				e.PreviousApplications, e.Tickets, wantCount, wantCount, 1<<wantCount)
		}
		if got := e.TicketRecord.Labels(); !slices.Equal(got, wantLabels) {
			t.Errorf("%s: counted %v, want %v", r.email, got, wantLabels)
		}
		if e.Status != lottery.EntryReceived || e.ClaimStatus != lottery.ClaimNone {
			t.Errorf("%s: status %s, claim %s; want received, none", r.email, e.Status, e.ClaimStatus)
		}
	}
}

// TestTicketClaimGoesToReview: a claim above the record sends the entry to
// review and counts the record; an accepted claim counts the claim, logged
// and audited; after freeze a decision is refused and no statement changes
// the tickets.
func TestTicketClaimGoesToReview(t *testing.T) {
	f := newTicketsFixture(t)
	ctx := context.Background()
	f.event(t, "now", 2026, 10)
	a := f.apply(t, "now", runner{"Han Jisoo", "jisoo@example.org", "+821033330001", "1991-03-03"}, intp(3))
	if a.Status != lottery.EntryInReview || a.ClaimStatus != lottery.ClaimPending || a.Tickets != 1 ||
		a.RecordedApplications != 0 || a.ClaimedApplications == nil || *a.ClaimedApplications != 3 {
		t.Fatalf("claimed entry: status %s claim %s tickets %d recorded %d; want in_review pending 1 0",
			a.Status, a.ClaimStatus, a.Tickets, a.RecordedApplications)
	}
	if !slices.ContainsFunc(a.Risk.Reasons, func(r antibot.Reason) bool { return r.Code == lottery.ReasonTicketClaim }) {
		t.Fatalf("reasons %+v lack %s", a.Risk.Reasons, lottery.ReasonTicketClaim)
	}
	// A claim the record covers changes nothing.
	c := f.apply(t, "now", runner{"Oh Minseo", "minseo@example.org", "+821033330003", "1993-03-03"}, intp(0))
	if c.Status != lottery.EntryReceived || c.ClaimStatus != lottery.ClaimNone {
		t.Fatalf("claim of 0: status %s claim %s", c.Status, c.ClaimStatus)
	}
	// A reviewer of another organization finds no such entry.
	stranger := f.org
	stranger.OrgID += 1000
	if _, err := f.rev.DecideClaim(ctx, stranger, a.ID, review.ClaimAccept, ""); !errors.Is(err, lottery.ErrNotFound) {
		t.Fatalf("another organization's decision: %v, want not_found", err)
	}
	got, err := f.rev.DecideClaim(ctx, f.org, a.ID, review.ClaimAccept, "race results of 2019 checked")
	if err != nil {
		t.Fatal(err)
	}
	if got.Tickets != 8 || got.ClaimStatus != lottery.ClaimAccepted || got.PreviousApplications != 3 {
		t.Fatalf("accepted: tickets %d claim %s counted %d; want 8 accepted 3", got.Tickets, got.ClaimStatus, got.PreviousApplications)
	}
	var logs, audits int
	f.store.DB().Raw("SELECT count(*) FROM event_log WHERE entry_id = ? AND kind = 'entry.ticket_claim'", a.ID).Scan(&logs)
	f.store.DB().Raw("SELECT count(*) FROM audit_log WHERE target = ? AND action = 'review.claim_accepted'", a.ID).Scan(&audits)
	if logs != 1 || audits != 1 {
		t.Fatalf("%d log and %d audit rows, want 1 and 1", logs, audits)
	}
	if _, err := f.rev.DecideClaim(ctx, f.org, a.ID, review.ClaimDecline, ""); lottery.CodeOf(err) != lottery.CodeInvalidTransition {
		t.Fatalf("second decision: %v, want %s", err, lottery.CodeInvalidTransition)
	}

	b := f.apply(t, "now", runner{"Yoon Hana", "hana@example.org", "+821033330002", "1994-04-04"}, intp(5))
	f.clk.T = f.clk.T.Add(2 * time.Hour)
	if _, err := f.svc.Transition(ctx, f.org, "now", lottery.ActionFreeze, lottery.TransitionParams{BeaconRound: "none"}); err != nil {
		t.Fatal(err)
	}
	_, err = f.rev.DecideClaim(ctx, f.org, b.ID, review.ClaimAccept, "")
	if !errors.Is(err, lottery.ErrTicketsFrozen) || lottery.CodeOf(err) != lottery.CodeTicketsFrozen {
		t.Fatalf("decision after freeze: %v, want %s", err, lottery.CodeTicketsFrozen)
	}
	if err := f.store.DB().Exec("UPDATE entries SET tickets = 4096 WHERE id = ?", b.ID).Error; err == nil {
		t.Fatal("tickets changed after freeze")
	}
	after, err := f.store.Entry(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	var frozen int
	f.store.DB().Raw("SELECT tickets FROM draw_entries WHERE entry_id = ?", b.ID).Scan(&frozen)
	if after.Tickets != 1 || after.ClaimStatus != lottery.ClaimPending || frozen != 1 {
		t.Fatalf("after freeze: tickets %d (frozen list %d), claim %s; want 1, 1, pending", after.Tickets, frozen, after.ClaimStatus)
	}
}
