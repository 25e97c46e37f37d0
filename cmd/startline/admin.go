package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/staff"
)

const staffUsage = "usage: startline staff add|token|tokens|disable|enable|revoke-tokens|reset --email E [--role R] [--org ORG] [flags]"

// staffCmd runs the staff account commands. Each change is audited in
// audit_log (staff.created, staff.token_issued, staff.disabled, …) with the
// account it changed.
func staffCmd(ctx context.Context, cfg config, log *slog.Logger, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(staffUsage)
	}
	fs := flag.NewFlagSet("staff "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	email := fs.String("email", "", "staff e-mail address")
	role := fs.String("role", "", "organizer or reviewer (add)")
	org := fs.String("org", lottery.DefaultOrg, "organization slug the account belongs to (add; created when missing)")
	password := fs.String("password", "", "password (add, reset; generated when empty)")
	ttl := fs.String("ttl", "90d", "token lifetime (token): e.g. 90d, 12h, 30m; at most 366d")
	tokenID := fs.Int64("id", 0, "revoke only the token with this id (revoke-tokens; ids from `staff tokens`)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("--email is required")
	}
	switch args[0] {
	case "add", "token", "tokens", "disable", "enable", "revoke-tokens", "reset":
	default:
		return fmt.Errorf("unknown staff command %q; %s", args[0], staffUsage)
	}
	life, err := parseTTL(*ttl)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	switch args[0] {
	case "add":
		enr, err := a.staff.AddTo(ctx, *org, *email, lottery.Role(*role), *password)
		if errors.Is(err, lottery.ErrStaffExists) {
			return fmt.Errorf("%w; for a new password and authenticator run: startline staff reset --email %s", err, *email)
		}
		if err != nil {
			return err
		}
		printEnrolment(out, enr, "created")
	case "token":
		tok, _, err := a.staff.IssueTokenTTL(ctx, *email, life)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, tok) // only the token: scripts read it with $(...)
	case "tokens":
		acct, toks, err := a.staff.Tokens(ctx, *email)
		if err != nil {
			return err
		}
		printTokens(out, acct, toks, a.svc.Now())
	case "disable":
		res, err := a.staff.Disable(ctx, *email)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "staff %s disabled; %d tokens revoked, %d sessions ended\n", *email, res.Tokens, res.Sessions)
	case "enable":
		if err := a.staff.Enable(ctx, *email); err != nil {
			return err
		}
		fmt.Fprintf(out, "staff %s enabled; issue new tokens with: startline staff token --email %s\n", *email, *email)
	case "revoke-tokens":
		res, err := a.staff.RevokeTokens(ctx, *email, *tokenID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "staff %s: %d tokens revoked, %d sessions ended\n", *email, res.Tokens, res.Sessions)
	case "reset":
		enr, res, err := a.staff.Reset(ctx, *email, *password)
		if err != nil {
			return err
		}
		printEnrolment(out, enr, "reset")
		fmt.Fprintf(out, "  %d tokens revoked, %d sessions ended; known devices forgotten\n", res.Tokens, res.Sessions)
		if enr.Account.DisabledAt != nil {
			fmt.Fprintf(out, "  the account is still disabled: startline staff enable --email %s\n", *email)
		}
	}
	return nil
}

// parseTTL reads a token lifetime: a whole number of days ("90d") or a Go
// duration ("12h", "30m").
func parseTTL(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < staff.MinTokenTTL || d > staff.MaxTokenTTL {
		return 0, fmt.Errorf("--ttl %q: give a lifetime such as 90d or 12h, from %s to %d days", s, staff.MinTokenTTL,
			int(staff.MaxTokenTTL.Hours()/24))
	}
	return d, nil
}

// printTokens lists tokens without the tokens themselves.
func printTokens(out io.Writer, acct lottery.StaffAccount, toks []staff.Token, now time.Time) {
	state := "enabled"
	if acct.DisabledAt != nil {
		state = "disabled since " + acct.DisabledAt.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(out, "staff %s (%s, %s)\n", acct.Email, acct.Role, state)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPREFIX\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	ts := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, t := range toks {
		status := "live"
		switch {
		case t.RevokedAt != nil:
			status = "revoked " + ts(t.RevokedAt)
		case !t.ExpiresAt.After(now):
			status = "expired"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, cmp.Or(t.Prefix, "(none)")+"…", ts(&t.CreatedAt), ts(&t.ExpiresAt),
			ts(t.LastUsedAt), status)
	}
	w.Flush()
}

func printEnrolment(out io.Writer, enr staff.Enrolment, what string) {
	fmt.Fprintf(out, "staff %s (%s) %s\n", enr.Account.Email, enr.Account.Role, what)
	if enr.Password != "" {
		fmt.Fprintf(out, "  password: %s\n", enr.Password)
	}
	fmt.Fprintf(out, "  TOTP enrolment URL (scan into an authenticator app): %s\n", enr.TOTPURL)
}

// demoSpec is the demo event: four courses, 3–4 pace groups each, open for
// the next 7 days, with what a real race publishes: race day and start,
// place, description, draw date, an entry fee per course (KRW), a refund
// policy, the questions it asks and its own privacy notice and waiver. The
// 5K's walkers' group sells first come through the waiting room; every
// other group is drawn.
func demoSpec(now time.Time) lottery.EventSpec {
	pg := func(code, label, min, max string, capacity int, price int64) lottery.PaceGroupSpec {
		return lottery.PaceGroupSpec{Code: code, Label: label, PaceMin: min, PaceMax: max, Capacity: capacity, Mode: "lottery", Price: price}
	}
	seoul, _ := time.LoadLocation("Asia/Seoul")
	closes := now.Add(7 * 24 * time.Hour).Truncate(time.Minute)
	day := func(t time.Time) string { return t.In(seoul).Format(time.DateOnly) }
	race := closes.Add(60 * 24 * time.Hour)
	return lottery.EventSpec{
		Slug: "demo-marathon", Name: "Startline Demo Marathon", TimeZone: "Asia/Seoul",
		OpensAt: now.Add(-time.Hour).Truncate(time.Minute), ClosesAt: closes,
		OfferHold: "48h", MaxGroupSize: 4, TicketRule: lottery.TicketRuleDoubling,
		Series: demoSeries, EditionYear: now.Year(),
		Details: lottery.DetailsSpec{RaceDate: day(race), RaceStart: "08:00", Currency: "KRW",
			Place:    "Olympic Park, Peace Gate Plaza, 424 Olympic-ro, Songpa-gu, Seoul",
			DrawDate: day(closes.Add(3 * 24 * time.Hour)),
			Description: "A spring race through Olympic Park and along the Han River: 5K, 10K, half marathon and marathon, " +
				"all starting and finishing at the Peace Gate.\n\n" +
				"Entries are drawn, not sold first come: apply any time while registration is open and your chance is the same. " +
				"Winners are e-mailed an offer and have 48 hours to pay; unclaimed places go to the waitlist in draw order.\n\n" +
				"올림픽공원과 한강을 달리는 봄 대회입니다. 5K, 10K, 하프, 풀코스 모두 평화의 문 광장에서 출발하고 도착합니다. " +
				"참가 자격은 선착순이 아니라 추첨으로 정해집니다.",
			RefundPolicy: &lottery.RefundPolicySpec{Tiers: []lottery.RefundTierSpec{
				{Until: day(closes.Add(21 * 24 * time.Hour)), Percent: 100},
				{Until: day(race.Add(-14 * 24 * time.Hour)), Percent: 50}}}},
		Form: lottery.FormSpec{
			Questions: []lottery.QuestionSpec{
				{ID: "emergency", Kind: string(lottery.KindEmergencyContact), Required: true},
				{ID: "tshirt", Kind: string(lottery.KindTShirt), Required: true, Options: []lottery.OptionSpec{
					{Value: "XS"}, {Value: "S"}, {Value: "M"}, {Value: "L"}, {Value: "XL"}, {Value: "XXL"}}},
				{ID: "category", Kind: string(lottery.KindCategory), Required: true, Options: []lottery.OptionSpec{
					{Value: "women", Label: "Women", LabelKO: "여자부"}, {Value: "men", Label: "Men", LabelKO: "남자부"},
					{Value: "open", Label: "Open (not ranked by gender)", LabelKO: "오픈 (성별 순위 없음)"}}},
				{ID: "club", Kind: string(lottery.KindClub)},
				{ID: "cup", Kind: string(lottery.KindCheckbox), Label: "I will carry my own cup (the race has no paper cups)",
					LabelKO: "개인 컵을 지참하겠습니다 (대회에서 종이컵을 제공하지 않습니다)"},
			},
			Privacy: &lottery.PrivacySpec{Version: "2026-12",
				Purpose: "We use your name, e-mail address, phone number, date of birth, emergency contact and answers to run the registration and its draw, " +
					"to tell you about your entry, to print your bib and to keep you safe on race day. Nothing that names you is published.",
				PurposeKO: "이름, 이메일 주소, 휴대전화 번호, 생년월일, 비상 연락처와 답변은 접수와 추첨 진행, 신청 결과 안내, 배번 인쇄, " +
					"대회 당일 안전 관리에만 사용합니다. 신청자를 알아볼 수 있는 정보는 공개하지 않습니다.",
				Retention:   "Kept until 90 days after race day, then anonymized; you can ask for erasure earlier on your entry's status page.",
				RetentionKO: "대회일로부터 90일까지 보관한 뒤 익명 처리합니다. 신청 상태 페이지에서 더 일찍 삭제를 요청할 수 있습니다."},
			Waiver: &lottery.WaiverSpec{Version: "2026-12",
				Text: "I am fit to run the distance I entered and take part at my own risk. I will follow the marshals and medical staff, " +
					"and I agree that photos of the race may show me.",
				TextKO: "본인은 신청한 거리를 달릴 수 있는 건강 상태이며 본인 책임 하에 참가합니다. 진행 요원과 의료진의 안내에 따르며, " +
					"대회 사진에 본인이 나올 수 있음에 동의합니다."},
		},
		Courses: []lottery.CourseSpec{
			{Code: "5k", Name: "5K", DistanceKM: 5, PaceGroups: []lottery.PaceGroupSpec{
				pg("sub-25", "Under 25 min", "", "5:00", 300, 30000), pg("sub-35", "25–35 min", "5:00", "7:00", 400, 30000),
				pg("open", "Over 35 min", "7:00", "", 500, 30000),
				{Code: "walk", Label: "Walkers, first come", PaceMin: "9:00", Capacity: 200, Mode: "ordered", AdmitPerMinute: 60, Price: 20000}}},
			{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
				pg("sub-45", "Under 45 min", "", "4:30", 200, 40000), pg("sub-60", "45–60 min", "4:30", "6:00", 400, 40000),
				pg("open", "Over 60 min", "6:00", "", 600, 40000)}},
			{Code: "half", Name: "Half Marathon", DistanceKM: 21.0975, PaceGroups: []lottery.PaceGroupSpec{
				pg("sub-130", "Under 1:30", "", "4:15", 150, 60000), pg("sub-200", "1:30–2:00", "4:15", "5:41", 350, 60000),
				pg("sub-230", "2:00–2:30", "5:41", "7:06", 400, 60000), pg("open", "Over 2:30", "7:06", "", 300, 60000)}},
			{Code: "full", Name: "Marathon", DistanceKM: 42.195, PaceGroups: []lottery.PaceGroupSpec{
				pg("sub-300", "Under 3:00", "", "4:15", 100, 80000), pg("sub-330", "3:00–3:30", "4:15", "4:58", 250, 80000),
				pg("sub-400", "3:30–4:00", "4:58", "5:41", 350, 80000), pg("open", "Over 4:00", "5:41", "", 400, 80000)}},
		},
	}
}

// seedDemoCmd creates the demo event and staff logins; existing ones are kept.
func seedDemoCmd(ctx context.Context, cfg config, log *slog.Logger, out io.Writer) error {
	if err := migrateCmd(ctx, cfg, io.Discard); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	var organizer lottery.StaffAccount
	for _, s := range []struct {
		email string
		role  lottery.Role
	}{{"organizer@demo.startline.test", lottery.RoleOrganizer}, {"reviewer@demo.startline.test", lottery.RoleReviewer}} {
		enr, err := a.staff.Add(ctx, s.email, s.role, "")
		switch {
		case errors.Is(err, lottery.ErrStaffExists):
			fmt.Fprintf(out, "staff %s exists (new bearer token: startline staff token --email %s)\n", s.email, s.email)
		case err != nil:
			return err
		default:
			printEnrolment(out, enr, "created")
		}
		if s.role == lottery.RoleOrganizer {
			if organizer, err = a.store.StaffByEmail(ctx, s.email); err != nil {
				return err
			}
		}
	}
	if _, err := a.series.Create(ctx, organizer, lottery.Series{Slug: demoSeries, Name: "Startline Demo Race"}); err != nil &&
		!errors.Is(err, lottery.ErrSeriesExists) {
		return err
	}
	if err := seedOpenDemo(ctx, a, organizer, out); err != nil {
		return err
	}
	if err := seedCardDemo(ctx, a, organizer, out); err != nil {
		return err
	}
	if err := seedDrawnDemo(ctx, a, organizer, out); err != nil {
		return err
	}
	if err := seedFrozenDemo(ctx, a, organizer, out); err != nil {
		return err
	}
	return seedDemoHistory(ctx, a, organizer, out)
}

// seedPastEvent creates and publishes a demo event with n synthetic
// entries; created is false when it exists already (a second seed-demo
// keeps it as it is).
func seedPastEvent(ctx context.Context, a *app, organizer lottery.StaffAccount, out io.Writer, spec lottery.EventSpec, n int) (created bool, err error) {
	_, err = a.svc.CreateEvent(ctx, organizer, spec)
	switch {
	case errors.Is(err, lottery.ErrEventExists):
		fmt.Fprintf(out, "demo event %s exists; kept as it is\n", spec.Slug)
		return false, nil
	case err != nil:
		return false, err
	}
	if _, err := a.svc.Transition(ctx, organizer, spec.Slug, lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		return false, err
	}
	if _, err := a.store.InsertSyntheticEntries(ctx, spec.Slug, n); err != nil {
		return false, err
	}
	return true, nil
}

// seedFrozenDemo creates a closed event frozen a moment ago with the
// default dispute window, so the demo shows the published frozen lists and
// a reveal that waits for the window to end.
func seedFrozenDemo(ctx context.Context, a *app, organizer lottery.StaffAccount, out io.Writer) error {
	const slug = "demo-half-frozen"
	now := time.Now()
	spec := lottery.EventSpec{Slug: slug, Name: "Startline Demo Half (frozen, dispute window open)", TimeZone: "Asia/Seoul",
		OpensAt: now.Add(-5 * 24 * time.Hour).Truncate(time.Minute), ClosesAt: now.Add(-time.Hour).Truncate(time.Minute),
		OfferHold: "48h", MaxGroupSize: 3, UnreviewedPolicy: lottery.PolicyExclude, TicketRule: lottery.TicketRuleDoubling,
		Details: lottery.DetailsSpec{RaceDate: now.Add(45 * 24 * time.Hour).Format(time.DateOnly), RaceStart: "07:30",
			Place: "Yeouido Hangang Park, Seoul", Currency: "KRW"},
		Courses: []lottery.CourseSpec{{Code: "half", Name: "Half Marathon", DistanceKM: 21.1, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "sub-145", Label: "Under 1:45", PaceMax: "5:00", Capacity: 40, Price: 60000},
			{Code: "open", Label: "Open", PaceMin: "5:00", Capacity: 60, Price: 60000}}}}}
	if created, err := seedPastEvent(ctx, a, organizer, out, spec, 120); err != nil || !created {
		return err
	}
	ev, err := a.svc.Transition(ctx, organizer, slug, lottery.ActionFreeze, lottery.TransitionParams{BeaconRound: "none"})
	if err != nil {
		return fmt.Errorf("demo freeze: %w", err)
	}
	until, _ := lottery.RevealNotBefore(ev)
	fmt.Fprintf(out, "demo event %s frozen; its lists are published and the dispute window is open until %s (results at /events/%s/results)\n",
		slug, until.UTC().Format(time.RFC3339), slug)
	return nil
}

// demoSeries is the demo race's series: demo-10k-drawn is last year's
// edition, demo-marathon this year's, so an applicant who was not selected
// last year earns tickets now.
const demoSeries = "demo-race"

// demoHistory is an imported history for editions run before Startline.
const demoHistory = `name,birth_date,email,phone,previous_applications,years
Kim Minjun,1990-05-01,minjun.kim@example.com,,2,2023;2022
Lee Seoyeon,1992-07-08,,+82 10 5555 0101,1,2023
`

// seedDemoHistory imports the demo history once and prints who earns
// tickets in demo-marathon: a runner of the history file and a runner not
// selected in the drawn edition.
func seedDemoHistory(ctx context.Context, a *app, organizer lottery.StaffAccount, out io.Writer) error {
	var imported int64
	if err := a.store.DB().WithContext(ctx).Raw(`SELECT count(*) FROM series_history h JOIN series s ON s.id = h.series_id
		WHERE s.slug = ?`, demoSeries).Scan(&imported).Error; err != nil {
		return err
	}
	if imported == 0 {
		if _, err := a.series.ImportHistory(ctx, organizer, demoSeries, strings.NewReader(demoHistory)); err != nil {
			return fmt.Errorf("demo history: %w", err)
		}
	}
	var loser struct{ Email, Name, BirthDate string }
	if err := a.store.DB().WithContext(ctx).Raw(`SELECT e.email, e.name, e.birth_date::text AS birth_date FROM entries e
		JOIN events ev ON ev.id = e.event_id JOIN draw_results dr ON dr.entry_id = e.id AND NOT dr.selected
		WHERE ev.slug = 'demo-10k-drawn' AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = e.id)
		ORDER BY dr.position LIMIT 1`).Scan(&loser).Error; err != nil {
		return err
	}
	fmt.Fprintf(out, "series %s: demo-10k-drawn (last year) and demo-marathon (this year); apply to demo-marathon as "+
		"minjun.kim@example.com (Kim Minjun, 1990-05-01: 2 imported applications → 4 tickets) or as %s "+
		"(not selected last year → 2 tickets)\n", demoSeries, loser.Email)
	return nil
}

func seedOpenDemo(ctx context.Context, a *app, organizer lottery.StaffAccount, out io.Writer) error {
	_, err := a.svc.CreateEvent(ctx, organizer, demoSpec(time.Now()))
	switch {
	case errors.Is(err, lottery.ErrEventExists):
		fmt.Fprintln(out, "demo event demo-marathon exists; kept as it is")
		return nil
	case err != nil:
		return err
	}
	if _, err := a.svc.Transition(ctx, organizer, "demo-marathon", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		return err
	}
	// A field for the live odds (made-up runners in the drawn pace groups),
	// shown now rather than after the worker's first odds pass.
	if _, err := a.store.InsertSyntheticLotteryEntries(ctx, "demo-marathon", 240); err != nil {
		return err
	}
	if _, err := a.stats.Refresh(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "demo event demo-marathon created and published with 240 made-up entries per drawn pace group; registration open for 7 days")
	return nil
}

// cardDemo is the demo event with card on file: applying saves a card (the
// sandbox's setup page in dev mode) and a selected runner is charged at once.
const cardDemo = "demo-10k-card"

// seedCardDemo creates and opens a small 10K with card on file (one entry
// per card), so the card step, the shared-card review and the charges can
// be tried from `make run`.
func seedCardDemo(ctx context.Context, a *app, organizer lottery.StaffAccount, out io.Writer) error {
	now := time.Now()
	seoul, _ := time.LoadLocation("Asia/Seoul")
	closes := now.Add(7 * 24 * time.Hour).Truncate(time.Minute)
	spec := lottery.EventSpec{Slug: cardDemo, Name: "Startline Demo 10K (card on file)", TimeZone: "Asia/Seoul",
		OpensAt: now.Add(-time.Hour).Truncate(time.Minute), ClosesAt: closes, OfferHold: "48h", MaxGroupSize: 1,
		Details: lottery.DetailsSpec{RaceDate: closes.Add(45 * 24 * time.Hour).In(seoul).Format(time.DateOnly), RaceStart: "08:00",
			Place: "Seoul Forest, Seongdong-gu, Seoul", Currency: "KRW",
			Description: "A 10K where the card you save when applying is charged as soon as you are selected, so nobody holds a place to resell it.\n\n" +
				"신청할 때 저장한 카드로 당첨 즉시 참가비가 결제되는 10K입니다."},
		Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "open", Label: "Open", Capacity: 300, Mode: "lottery", Price: 40000}}}}}
	_, err := a.svc.CreateEvent(ctx, organizer, spec)
	switch {
	case errors.Is(err, lottery.ErrEventExists):
		fmt.Fprintf(out, "demo event %s exists; kept as it is\n", cardDemo)
		return nil
	case err != nil:
		return err
	}
	if _, err := a.svc.SetCardPolicy(ctx, organizer, cardDemo, lottery.CardPolicy{Enabled: true}.WithDefaults()); err != nil {
		return fmt.Errorf("demo card policy: %w", err)
	}
	if _, err := a.svc.Transition(ctx, organizer, cardDemo, lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		return err
	}
	fmt.Fprintf(out, "demo event %s created with card on file; registration open for 7 days\n", cardDemo)
	return nil
}

// seedDrawnDemo creates a past event with synthetic entries and runs its
// whole lifecycle (close, freeze, reveal, draw, publish-results), so the
// results page and `startline verify` have a real published draw to show.
func seedDrawnDemo(ctx context.Context, a *app, organizer lottery.StaffAccount, out io.Writer) error {
	const slug = "demo-10k-drawn"
	now := time.Now()
	spec := lottery.EventSpec{Slug: slug, Name: "Startline Demo 10K (drawn)", TimeZone: "Asia/Seoul",
		OpensAt: now.Add(-14 * 24 * time.Hour).Truncate(time.Minute), ClosesAt: now.Add(-7 * 24 * time.Hour).Truncate(time.Minute),
		// Seeded in one go, so no dispute window: a real event keeps the
		// default 24 hours between freeze and reveal.
		OfferHold: "48h", DisputeWindow: "0s", MaxGroupSize: 3, UnreviewedPolicy: lottery.PolicyExclude,
		Series: demoSeries, EditionYear: now.Year() - 1,
		Details: lottery.DetailsSpec{RaceDate: now.Add(30 * 24 * time.Hour).Format(time.DateOnly), RaceStart: "08:00",
			Place: "Olympic Park, Peace Gate Plaza, Seoul", Currency: "KRW"},
		Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "sub-50", Label: "Under 50 min", PaceMax: "5:00", Capacity: 60, Price: 40000},
			{Code: "open", Label: "Open", PaceMin: "5:00", Capacity: 90, Price: 40000}}}}}
	if created, err := seedPastEvent(ctx, a, organizer, out, spec, 150); err != nil || !created {
		return err
	}
	for _, step := range []struct {
		action string
		p      lottery.TransitionParams
	}{{lottery.ActionFreeze, lottery.TransitionParams{BeaconRound: "none"}}, {lottery.ActionReveal, lottery.TransitionParams{}},
		{lottery.ActionDraw, lottery.TransitionParams{}}} {
		if _, err := a.svc.Transition(ctx, organizer, slug, step.action, step.p); err != nil {
			return fmt.Errorf("demo %s: %w", step.action, err)
		}
	}
	ev, ds, err := a.draws.Draws(ctx, slug)
	if err != nil {
		return err
	}
	for _, d := range ds { // draw here rather than wait for the worker
		if _, err := a.draws.RunDraw(ctx, d.SubQueueID); err != nil {
			return err
		}
	}
	if _, err := a.svc.Transition(ctx, organizer, slug, lottery.ActionPublishResults, lottery.TransitionParams{}); err != nil {
		return err
	}
	fmt.Fprintf(out, "demo event %s drawn and published (%d sub-queues); results at /events/%s/results\n", slug, len(ds), ev.Slug)
	return nil
}
