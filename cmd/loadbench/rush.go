package main

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// rush runs the phases against Startline in the order a race day has them:
// the event read, code requests, applies (read back), status reads, joins
// and polls, then close, draw and publish, and the results-day reads.
type rush struct {
	o    options
	env  *benchEnv
	w    wrkRunner
	rep  *report
	logf func(string, ...any)

	people, joiners []applicant
	acks            []ack
	tickets         []string
}

// statsFlush is how long PostgreSQL's backends may hold their statistics
// before reporting them (PGSTAT_IDLE_INTERVAL, 10 s): the poll phase waits
// this long on each side to count its transactions.
const statsFlush = 11 * time.Second

func (r *rush) run(ctx context.Context) error {
	o := r.o
	c := newClient(r.env.base, max(o.conns, o.applyConns))
	all := crowd(o.applyN+o.joinN, o.seed, lotteryGroups, koreanResidential)
	r.people, r.joiners = all[:o.applyN], all[o.applyN:]
	if o.want("event") {
		if err := r.wrkPhase(ctx, "event", "event read `GET /api/v1/events/{slug}` (registration open)", refBaseline, targetRead,
			[]string{"/api/v1/events/" + benchSlug}, r.ips(r.people)); err != nil {
			return err
		}
	}
	if o.want("otp") {
		if err := r.codes(ctx, c); err != nil {
			return err
		}
	}
	if o.want("apply") {
		if err := r.apply(ctx, c); err != nil {
			return err
		}
	}
	if o.want("status") {
		if err := r.wrkPhase(ctx, "status", "entry status `GET /api/v1/entries/{id}?token=` (registration open)", refBaseline, targetRead,
			r.statusPaths(), r.ackIPs()); err != nil {
			return err
		}
	}
	if o.want("join") {
		if err := r.join(ctx, c); err != nil {
			return err
		}
	}
	if o.want("poll") {
		if err := r.polls(ctx); err != nil {
			return err
		}
	}
	if o.want("results") {
		if err := r.resultsDay(ctx); err != nil {
			return err
		}
	}
	return r.serverErrors()
}

// ips are the people's addresses, for wrk's X-Forwarded-For.
func (r *rush) ips(people []applicant) []string {
	out := make([]string, len(people))
	for i, p := range people {
		out[i] = p.IP
	}
	return out
}

// statusPaths are the status URLs of every acknowledged entry.
func (r *rush) statusPaths() []string {
	var out []string
	for _, a := range r.acks {
		if a.EntryID != "" {
			out = append(out, "/api/v1/entries/"+url.PathEscape(a.EntryID)+"?token="+url.QueryEscape(a.Token))
		}
	}
	return out
}

// ackIPs pairs with statusPaths: each entry is read from its runner's
// address.
func (r *rush) ackIPs() []string {
	var out []string
	for i, a := range r.acks {
		if a.EntryID != "" {
			out = append(out, r.people[i].IP)
		}
	}
	return out
}

func (r *rush) wrkPhase(ctx context.Context, name, label string, k ref, t target, paths, ips []string) error {
	before, mark := r.env.scrape(ctx), logMark(r.env.app.log)
	res, cmd, err := r.w.run(ctx, wrkTarget{Name: name, Base: r.env.base, Paths: paths, IPs: ips, Profiles: profiles()})
	if err != nil {
		return err
	}
	row := wrkRow(label, res, k, t, cmd)
	// Requests wrk abandoned finish (and are counted) a moment later.
	if err := sleepCtx(ctx, time.Second); err != nil {
		return err
	}
	r.serverClasses(name, &row, before, r.env.scrape(ctx), mark)
	if len(paths) > 1 {
		row.Note += fmt.Sprintf(", over %d URLs", len(paths))
	}
	r.rep.add(row)
	r.logf("%s: %.0f req/s, p99 %s", name, res.Rate, fmtDur(res.P99))
	return nil
}

// codes prepares the applicants' proofs of work and times their code
// requests, then reads the codes.
func (r *rush) codes(ctx context.Context, c *client) error {
	r.logf("preparing %d applicants: challenge + proof of work each", len(r.people))
	if err := solveAll(ctx, c, r.people, r.logf); err != nil {
		return err
	}
	s, retried, err := otpPhase(ctx, c, r.people, r.o.conns)
	r.rep.add(goRow("code request `POST /api/v1/events/{slug}/otp`", s, refNone, target{},
		fmt.Sprintf("Go client, %d workers, %d people", r.o.conns, len(r.people)), retriedNote(retried)))
	r.rep.codes["otp"] = s.Codes
	if err != nil {
		return err
	}
	r.logf("codes: %.0f req/s, p99 %s", s.rate(), fmtDur(s.P99))
	return readCodes(ctx, r.env.dsn, r.people)
}

func retriedNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d asked again untimed after a refusal", n)
}

// apply times every application and reads back the acknowledged ones.
func (r *rush) apply(ctx context.Context, c *client) error {
	var prof sync.WaitGroup
	if r.o.pprof != "" {
		prof.Add(1)
		go func() {
			defer prof.Done()
			// The profile covers the first seconds of the phase, when every
			// worker is busy.
			path, err := captureProfile(ctx, r.env.debug, r.o.pprof, "apply-cpu", r.o.duration)
			if err != nil {
				r.logf("%v", err)
				return
			}
			abs, _ := filepath.Abs(path)
			r.rep.profiles = append(r.rep.profiles, abs)
			r.rep.profileTop = profileTop(ctx, r.o.bin, abs, 40)
			r.logf("apply CPU profile: %s (go tool pprof -top %s %s)", abs, r.o.bin, abs)
		}()
	}
	s, acks := applyPhase(ctx, c, r.people, r.o.applyConns)
	prof.Wait()
	r.acks = acks
	r.rep.codes["apply"] = s.Codes
	acked, missing, err := readBack(ctx, r.env.dsn, acks)
	row := goRow("apply `POST /api/v1/events/{slug}/entries` (full checks, committed)", s, refInsert, targetApply,
		fmt.Sprintf("Go client, %d concurrent, %d applicants", r.o.applyConns, len(r.people)),
		fmt.Sprintf("%d acknowledged (%s), %d read back from PostgreSQL", acked, ackStatuses(acks), acked-len(missing)))
	r.rep.add(row)
	r.logf("apply: %.0f req/s, p50 %s, p99 %s, %d acknowledged", s.rate(), fmtDur(s.P50), fmtDur(s.P99), acked)
	if err != nil {
		return err
	}
	r.rep.acked, r.rep.missing = acked, missing
	if len(missing) > 0 {
		return fmt.Errorf("%d acknowledged entries are missing from PostgreSQL (first: %s)", len(missing), missing[0])
	}
	if acked == 0 {
		return fmt.Errorf("no application was acknowledged: %s", codesText(s.Codes))
	}
	return nil
}

// join prepares the joiners' proofs of work, times their joins and keeps the
// tickets.
func (r *rush) join(ctx context.Context, c *client) error {
	r.logf("preparing %d waiting-room joins", len(r.joiners))
	if err := solveAll(ctx, c, r.joiners, r.logf); err != nil {
		return err
	}
	s, tickets := joinPhase(ctx, c, r.joiners, r.o.conns)
	r.rep.codes["join"] = s.Codes
	n := 0
	for _, t := range tickets {
		if t != "" {
			r.tickets = append(r.tickets, t)
			n++
		}
	}
	r.rep.add(goRow("waiting-room join `POST /api/v1/events/{slug}/queue`", s, refNone, target{},
		fmt.Sprintf("Go client, %d workers, %d joins", r.o.conns, len(r.joiners)), fmt.Sprintf("%d tickets", n)))
	r.logf("join: %.0f req/s, p99 %s, %d tickets", s.rate(), fmtDur(s.P99), n)
	if n == 0 {
		return fmt.Errorf("no join got a ticket: %s", codesText(s.Codes))
	}
	return nil
}

// polls reads the tickets with wrk and counts the bench database's
// transactions meanwhile.
func (r *rush) polls(ctx context.Context) error {
	var paths, ips []string
	for i, t := range r.tickets {
		paths = append(paths, "/api/v1/queue/"+url.PathEscape(t))
		ips = append(ips, r.joiners[i%len(r.joiners)].IP)
	}
	if len(paths) == 0 {
		return fmt.Errorf("polls: no tickets")
	}
	r.logf("polls: waiting %s for PostgreSQL's statistics to settle, then %s idle to count the worker's own transactions", statsFlush, r.o.duration)
	// Scraped outside the counted windows: /metrics reads PostgreSQL.
	classes, mark := r.env.scrape(ctx), logMark(r.env.app.log)
	if err := sleepCtx(ctx, statsFlush); err != nil {
		return err
	}
	a, err := pgTx(ctx, r.env.dsn, r.env.dbName)
	if err != nil {
		return fmt.Errorf("polls: %w", err)
	}
	if err := sleepCtx(ctx, r.o.duration); err != nil {
		return err
	}
	b, err := pgTx(ctx, r.env.dsn, r.env.dbName)
	if err != nil {
		return fmt.Errorf("polls: %w", err)
	}
	t0 := time.Now()
	res, cmd, err := r.w.run(ctx, wrkTarget{Name: "poll", Base: r.env.base, Paths: paths, IPs: ips, Profiles: profiles()})
	if err != nil {
		return err
	}
	if err := sleepCtx(ctx, statsFlush); err != nil {
		return err
	}
	busy := time.Since(t0)
	c, err := pgTx(ctx, r.env.dsn, r.env.dbName)
	if err != nil {
		return fmt.Errorf("polls: %w", err)
	}
	idle, during := b-a-1, c-b-1 // minus our own reads
	row := wrkRow("waiting-room poll `GET /api/v1/queue/{ticket}`", res, refBaseline, targetPoll, cmd)
	r.serverClasses("poll", &row, classes, r.env.scrape(ctx), mark)
	row.PGTx = attributedTx(idle, during, r.o.duration, busy)
	row.Note += fmt.Sprintf(", over %d tickets; PostgreSQL transactions of the bench database: %d in the %s of polls and %s after, %d in %s idle before; %d attributed to the polls",
		len(paths), during, r.o.duration, statsFlush, idle, r.o.duration, row.PGTx)
	r.rep.add(row)
	r.logf("poll: %.0f req/s, p99 %s, %d PostgreSQL tx", res.Rate, fmtDur(res.P99), row.PGTx)
	return nil
}

// resultsDay closes, draws and publishes, then measures the crowd checking
// at once: entry status, the results page, the draws JSON and the event.
func (r *rush) resultsDay(ctx context.Context) error {
	t0 := time.Now()
	if err := r.env.runDraw(ctx, r.logf); err != nil {
		return err
	}
	r.logf("close → publish-results: %s", time.Since(t0).Round(time.Millisecond))
	ips := r.ackIPs()
	phases := []struct {
		name, label string
		paths       []string
	}{
		{"results-status", "entry status `GET /api/v1/entries/{id}?token=` (results published)", r.statusPaths()},
		{"results-page", "results page `GET /events/{slug}/results`", []string{"/events/" + benchSlug + "/results"}},
		{"results-draws", "draws JSON `GET /api/v1/events/{slug}/draws`", []string{"/api/v1/events/" + benchSlug + "/draws"}},
		{"results-event", "event read `GET /api/v1/events/{slug}` (results published)", []string{"/api/v1/events/" + benchSlug}},
		{"results-mixed", "results day, all at once: status, results page, draws JSON, event", mixedPaths(r.statusPaths())},
	}
	for _, p := range phases {
		if err := r.wrkPhase(ctx, p.name, p.label, refBaseline, targetRead, p.paths, ips); err != nil {
			return err
		}
	}
	return nil
}

// serverClasses notes what the server counted as 4xx and 5xx answers
// during a wrk phase, tells apart (by its log since mark) the 500s answered
// to clients wrk abandoned and the 503s of an overloaded dependency, and
// keeps any other 500 for serverErrors.
func (r *rush) serverClasses(phase string, row *row, before, after map[string]int64, mark int64) {
	if before == nil || after == nil {
		return
	}
	d := classDelta(before, after)
	if s := errorClasses(d); s != "" {
		row.Note += "; the server counted " + s
	}
	v := classify5xx(d["5xx"], logSince(r.env.app.log, mark))
	if v.Gone > 0 {
		row.Note += fmt.Sprintf(" (%d of them 500s to clients gone mid-request when wrk stopped, logged as internal errors: \"context canceled\")", v.Gone)
	}
	if v.Unavailable > 0 {
		row.Note += fmt.Sprintf(" (%d of them 503: PostgreSQL or Redis did not answer in time)", v.Unavailable)
		row.Errors += int(v.Unavailable)
	}
	if v.Internal > 0 {
		row.Note += fmt.Sprintf(" (%d of them 500 internal errors)", v.Internal)
		r.rep.codes[phase] = map[string]int{"500 internal": int(v.Internal)}
		row.Errors += int(v.Internal)
	}
}

// fives splits a phase's 5xx count.
type fives struct{ Gone, Unavailable, Internal int64 }

// classify5xx splits the server's 5xx count of a phase by its log: the 500s
// logged per request are internal errors unless their cause was the client
// leaving; the rest of the 5xx, which the request log leaves out, are 503s.
func classify5xx(total int64, l logCounts) fives {
	gone := min(l.Gone, l.Logged5xx)
	return fives{Gone: gone, Internal: max(l.Logged5xx-gone, 0), Unavailable: max(total-l.Logged5xx, 0)}
}

// serverErrors fails the run on any 500 (the Go client's or, during a wrk
// phase, the server's) or transport failure: a 500 is a bug. A 503 (a
// dependency that did not answer in time, on a loaded machine) fails the
// row's target, not the run.
func (r *rush) serverErrors() error {
	var bad []string
	for phase, codes := range r.rep.codes {
		for k, n := range codes {
			if (strings.HasPrefix(k, "5") && !strings.HasPrefix(k, "503")) || k == "transport" {
				bad = append(bad, fmt.Sprintf("%s %s ×%d", phase, k, n))
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("server errors: %s (log: %s)", strings.Join(bad, ", "), r.env.app.log)
	}
	return nil
}

// goRow makes a report row of a Go client phase.
func goRow(path string, s summary, k ref, t target, cmd, note string) row {
	n := codesText(s.Codes)
	if note != "" {
		n += "; " + note
	}
	return row{Path: path, Unit: "req/s", Rate: s.rate(), P50: s.P50, P99: s.P99, Ref: k, Target: t,
		Requests: s.Requests, Errors: s.non2xx(), PGTx: -1, Command: cmd, Note: n}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// attributedTx is how many of the transactions counted over a busy window
// the phase caused: those counted minus the background rate measured over
// an idle window (the worker's periodic tasks), never below zero.
func attributedTx(idle, during int64, idleWin, busyWin time.Duration) int64 {
	if idleWin <= 0 {
		return max(during, 0)
	}
	bg := float64(max(idle, 0)) * busyWin.Seconds() / idleWin.Seconds()
	return max(during-int64(math.Round(bg)), 0)
}

// mixedPaths is the results-day crowd in one run: each runner reads their
// status, and one in two also opens the results page, the draws JSON or the
// event.
func mixedPaths(status []string) []string {
	others := []string{"/events/" + benchSlug + "/results", "/api/v1/events/" + benchSlug + "/draws", "/api/v1/events/" + benchSlug}
	out := make([]string, 0, len(status)*3/2)
	for i, s := range status {
		out = append(out, s)
		if i%2 == 1 {
			out = append(out, others[(i/2)%len(others)])
		}
	}
	return out
}

// ackStatuses counts the statuses the 201s answered: "received: 15990,
// in_review: 10" (the risk score still runs on every apply).
func ackStatuses(acks []ack) string {
	n := map[string]int{}
	for _, a := range acks {
		if a.EntryID != "" {
			n[a.Status]++
		}
	}
	return codesText(n)
}
