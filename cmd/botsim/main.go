// Command botsim drives the real HTTP API of a running Startline server with
// a legitimate population (distinct people with human timing, some sharing
// household IPs and devices) and attack populations (Gmail variants,
// disposable domains, one device with many identities, headless browsers,
// IP rotation behind one fingerprint, a plain script without signals, OTP
// guessing, proof-of-work replay, staff password spraying, and scripted,
// headless and farmed joins to the waiting room of an ordered pace group),
// and reports per scenario how many attack entries reached the draw and how
// many legitimate runners (in the lottery crowd and in the waiting room)
// were flagged or rejected. After the last apply it waits for the
// server's asynchronous checks (-settle) and re-reads every entry's status.
//
// The server must run in dev mode (codes are read from /dev/outbox.json) and
// believe X-Forwarded-For from botsim's address, so that botsim can play many
// clients: STARTLINE_ENV=dev STARTLINE_TRUSTED_PROXIES=127.0.0.1/32. Never
// point it at a server with SMTP_URL set: it would mail the made-up
// addresses. See docs/ANTIBOT.md.
//
// Exit status: 0 when the run completed (whatever the numbers), 1 when the
// server is unreachable, 2 for bad flags or a server botsim cannot use.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	base         string
	event        string
	legit        int
	legitQueue   int
	seed         uint64
	run          string
	conc         int
	scenarios    string
	attempts     int
	timeout      time.Duration
	json         bool
	maxRequests  int64
	fingerprints string
	allowRemote  bool
	settle       time.Duration
	offline      bool   // run the server's rules on simulated crowds, no server (farms.go)
	command      string // as invoked, for the report
}

// errUnreachable marks a server that did not answer at all (exit status 1).
var errUnreachable = errors.New("server unreachable")

func main() {
	var o options
	fs := flag.NewFlagSet("botsim", flag.ExitOnError)
	fs.StringVar(&o.base, "base", "http://127.0.0.1:8080", "base URL of the Startline server")
	fs.StringVar(&o.event, "event", "demo-marathon", "slug of an event open for registration")
	fs.IntVar(&o.legit, "legit", 400, "legitimate runners to simulate (0: none)")
	fs.IntVar(&o.legitQueue, "legit-queue", 30, "legitimate runners who join the waiting room of the event's ordered pace group, wait to be admitted and apply (0: none; skipped when the event has none)")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed for identities, devices and timing")
	fs.StringVar(&o.run, "run", "", "run tag mixed into the seed so a rerun against the same database gets fresh people (default: random; pass one to reproduce a run on a fresh database)")
	fs.IntVar(&o.conc, "concurrency", 16, "requests in flight at once")
	fs.StringVar(&o.scenarios, "scenarios", "all", "all, attacks, or a comma-separated list of: legit,"+strings.Join(scenarioNames(), ","))
	fs.IntVar(&o.attempts, "attempts", 0, "attempts per attack scenario (0: each scenario's default, 50-100)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "stop the whole run after this long")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.Int64Var(&o.maxRequests, "max-requests", 100_000, "hard cap on HTTP requests for the whole run")
	fs.StringVar(&o.fingerprints, "fingerprints", "realistic", "realistic: identical phones and browsers report identical form fingerprints (every iPhone on one iOS version, one Galaxy model), as they do in the wild; unique: every device its own")
	fs.DurationVar(&o.settle, "settle", 40*time.Second, "after the last apply, wait this long for the server's asynchronous checks (clustering runs every 30 s), then re-read every created entry's status (0: keep the statuses apply answered)")
	fs.BoolVar(&o.offline, "offline", false, "no server: build the legitimate crowds (households with a shared card and address, a campus) and the farm scenarios with cards, pickup addresses and arrival times, and run the server's apply scorer and cluster pass on them (farms.go); -legit sizes the crowd, -attempts each farm")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a non-loopback -base (never a production server)")
	_ = fs.Parse(os.Args[1:])
	o.command = strings.Join(append([]string{"botsim"}, os.Args[1:]...), " ")

	if o.offline {
		rep, err := runOffline(o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "botsim:", err)
			os.Exit(2)
		}
		if o.json {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(rep)
		} else {
			rep.writeText(os.Stdout)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o, os.Stderr)
	switch {
	case errors.Is(err, errUnreachable):
		fmt.Fprintln(os.Stderr, "botsim:", err)
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "botsim:", err)
		os.Exit(2)
	}
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		rep.writeText(os.Stdout)
	}
	// A server that went away during the run makes the numbers meaningless.
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := newSim(o.base, o.event, 1).call(hctx, nil, "", http.MethodGet, "/healthz", nil, nil); err != nil {
		fmt.Fprintf(os.Stderr, "botsim: %v: the server stopped answering during the run\n", errUnreachable)
		cancel()
		os.Exit(1)
	}
}

func scenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return names
}

// selectScenarios parses -scenarios into whether to run the legitimate
// crowd and which attacks to run.
func selectScenarios(spec string) (bool, []scenario, error) {
	spec = strings.TrimSpace(spec)
	switch spec {
	case "", "all":
		return true, scenarios, nil
	case "attacks":
		return false, scenarios, nil
	}
	legit := false
	var out []scenario
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		if name == "legit" {
			legit = true
			continue
		}
		i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
		if i < 0 {
			return false, nil, fmt.Errorf("unknown scenario %q (want all, attacks, legit, %s)", name, strings.Join(scenarioNames(), ", "))
		}
		if !slices.ContainsFunc(out, func(s scenario) bool { return s.name == name }) {
			out = append(out, scenarios[i])
		}
	}
	// Keep the canonical order whatever order they were named in.
	slices.SortFunc(out, func(a, b scenario) int {
		return slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == a.name }) -
			slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == b.name })
	})
	return legit, out, nil
}

// checkLoopback refuses a base URL that is not on this machine.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-base %q: want http://host:port", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-base %q is not a loopback address; botsim makes thousands of made-up applications (pass -allow-remote for a staging server you own)", base)
}

func run(ctx context.Context, o options, logw io.Writer) (*Report, error) {
	if o.fingerprints != "realistic" && o.fingerprints != "unique" {
		return nil, fmt.Errorf("-fingerprints %q: want realistic or unique", o.fingerprints)
	}
	if o.legit < 0 || o.legitQueue < 0 || o.conc < 1 || o.attempts < 0 || o.timeout <= 0 || o.maxRequests < 1 {
		return nil, errors.New("-legit, -legit-queue and -attempts must be >= 0, -concurrency, -timeout and -max-requests > 0")
	}
	if !o.allowRemote {
		if err := checkLoopback(o.base); err != nil {
			return nil, err
		}
	}
	withLegit, attacks, err := selectScenarios(o.scenarios)
	if err != nil {
		return nil, err
	}
	if o.run == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.run = hex.EncodeToString(b)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	s := newSim(o.base, o.event, o.maxRequests)
	ev, warnings, err := preflight(ctx, s, logw)
	if err != nil {
		return nil, err
	}
	rep := &Report{Base: s.base, Event: o.event, Seed: o.seed, Run: o.run, StartedAt: time.Now().UTC(), Warnings: warnings,
		Command: o.command}
	start := time.Now()
	g := newGenerator(scenarioRand(o.seed, o.run, "legit"), ev.Lottery, time.Now(), o.fingerprints == "unique")
	line := ev.line()

	if withLegit && o.legit > 0 {
		fmt.Fprintf(logw, "botsim: legit: %d runners...\n", o.legit)
		rep.Legit = runLegit(ctx, s, g, o.legit, o.conc)
	}
	if withLegit && o.legitQueue > 0 {
		if line == nil {
			w := "-legit-queue: the event has no ordered pace group (no waiting room); skipped"
			fmt.Fprintln(logw, "botsim: warning:", w)
			rep.Warnings = append(rep.Warnings, w)
		} else {
			fmt.Fprintf(logw, "botsim: legit-queue: %d runners through the waiting room of %s...\n", o.legitQueue, line.Key)
			qg := g.withRand(scenarioRand(o.seed, o.run, "legit-queue"))
			rep.LegitQueue = runLegitQueue(ctx, s, qg, *line, o.legitQueue, o.conc)
		}
	}
	for _, sc := range attacks {
		n := sc.attempts
		if o.attempts > 0 {
			n = o.attempts
		}
		fmt.Fprintf(logw, "botsim: %s: %d attempts...\n", sc.name, n)
		row := newRow(sc.name, sc.desc)
		t0 := time.Now()
		e := &env{s: s, g: g.withRand(scenarioRand(o.seed, o.run, sc.name)), conc: o.conc, line: line}
		sc.run(ctx, e, n, row)
		row.DurationMS = time.Since(t0).Milliseconds()
		if ctx.Err() != nil && row.Note == "" {
			row.Note = "incomplete: the run's -timeout ended it"
		}
		rep.Attacks = append(rep.Attacks, row)
	}
	settle(ctx, s, rep, o.settle, o.conc, logw)
	rep.Attacks, rep.Farms = splitFarms(rep.Attacks) // reported apart (scenarios_farms.go)
	for _, l := range []*Legit{rep.Legit, rep.LegitQueue} {
		if l != nil {
			l.finish()
		}
	}
	if rep.Legit != nil && rep.LegitQueue != nil {
		rep.LegitAll = combineLegit(rep.Legit, rep.LegitQueue)
	}
	for _, r := range rep.Attacks {
		r.finish()
	}
	if len(rep.Attacks) > 0 {
		rep.AttackTotal = total(rep.Attacks)
	}
	for _, r := range rep.Farms {
		r.finish()
	}
	if len(rep.Farms) > 0 {
		rep.FarmTotal = total(rep.Farms)
		rep.FarmTotal.Scenario = "all farms"
	}
	rep.DurationMS = time.Since(start).Milliseconds()
	rep.Requests = s.sent.Load()
	return rep, nil
}

// preflight checks the server: reachable, the event open with lottery
// sub-queues, the dev outbox readable, and X-Forwarded-For believed.
func preflight(ctx context.Context, s *sim, logw io.Writer) (eventInfo, []string, error) {
	r, err := s.call(ctx, nil, "", http.MethodGet, "/healthz", nil, nil)
	if err != nil {
		return eventInfo{}, nil, fmt.Errorf("%w: GET %s/healthz: %v", errUnreachable, s.base, err)
	}
	if r.status != http.StatusOK {
		return eventInfo{}, nil, fmt.Errorf("GET /healthz answered %d", r.status)
	}
	r, err = s.call(ctx, nil, "", http.MethodGet, "/api/v1/events/"+url.PathEscape(s.event), nil, nil)
	if err != nil {
		return eventInfo{}, nil, fmt.Errorf("%w: %v", errUnreachable, err)
	}
	if r.status != http.StatusOK {
		return eventInfo{}, nil, fmt.Errorf("event %q: GET answered %d %s (create it with `startline seed-demo`)", s.event, r.status, r.code)
	}
	ev, err := parseEvent(r.body)
	if err != nil {
		return eventInfo{}, nil, fmt.Errorf("event %q: %w", s.event, err)
	}
	var raw eventJSON
	if json.Unmarshal(r.body, &raw) == nil {
		s.consents, s.answers = formOf(raw)
	}
	if ev.Status != "" && ev.Status != "open" && ev.Status != "published" {
		fmt.Fprintf(logw, "botsim: warning: event status is %q; applications may be refused\n", ev.Status)
	}
	r, err = s.call(ctx, nil, "", http.MethodGet, "/dev/outbox.json?to=probe%40botsim.invalid", nil, nil)
	if err != nil {
		return eventInfo{}, nil, fmt.Errorf("%w: %v", errUnreachable, err)
	}
	if r.status != http.StatusOK {
		return eventInfo{}, nil, fmt.Errorf("GET /dev/outbox.json answered %d: start the server with STARTLINE_ENV=dev so botsim can read the codes it is mailed", r.status)
	}
	var warnings []string
	switch ok, known := xffBelieved(ctx, s); {
	case !known:
		warnings = append(warnings, "could not tell whether the server believes X-Forwarded-For (no RateLimit-Remaining header)")
	case !ok:
		warnings = append(warnings, "the server does not believe X-Forwarded-For from botsim, so every simulated client shares one IP "+
			"and per-IP limits dominate the results; start it with STARTLINE_TRUSTED_PROXIES=127.0.0.1/32")
	}
	for _, w := range warnings {
		fmt.Fprintln(logw, "botsim: warning:", w)
	}
	return ev, warnings, nil
}

// xffBelieved asks for two challenges from one made-up address and one from
// another: if the server believes X-Forwarded-For, the second address starts
// with a full per-IP budget (RateLimit-Remaining back up).
func xffBelieved(ctx context.Context, s *sim) (ok, known bool) {
	r := rand.Reader
	ip := func() string {
		b := make([]byte, 3)
		_, _ = r.Read(b)
		return fmt.Sprintf("198.18.%d.%d", b[0]&1, max(b[1], 1)) // RFC 2544 benchmarking range
	}
	remaining := func(addr string) (int, bool) {
		rep, err := s.call(ctx, nil, addr, http.MethodPost, "/api/v1/events/"+url.PathEscape(s.event)+"/challenge", nil, nil)
		if err != nil {
			return 0, false
		}
		n, err := strconv.Atoi(rep.header.Get("RateLimit-Remaining"))
		return n, err == nil
	}
	a, b := ip(), ip()
	for a == b {
		b = ip()
	}
	if _, ok := remaining(a); !ok {
		return false, false
	}
	r1, ok1 := remaining(a)
	r2, ok2 := remaining(b)
	if !ok1 || !ok2 {
		return false, false
	}
	return r2 > r1, true
}

type eventJSON struct {
	Status    string `json:"status"`
	SubQueues []struct {
		Key            string `json:"key"`
		Course         string `json:"course"`
		PaceGroup      string `json:"pace_group"`
		Capacity       int    `json:"capacity"`
		Mode           string `json:"mode"`
		AdmitPerMinute int    `json:"admit_per_minute"`
	} `json:"subqueues"`
	// The registration form: every applicant accepts the documents'
	// current versions and answers the required questions.
	Questions []struct {
		ID       string `json:"id"`
		Kind     string `json:"kind"`
		Required bool   `json:"required"`
		Options  []struct {
			Value string `json:"value"`
		} `json:"options"`
	} `json:"questions"`
	Privacy struct {
		Version string `json:"version"`
	} `json:"privacy"`
	Waiver struct {
		Version string `json:"version"`
	} `json:"waiver"`
}

// formOf is what every application of botsim's sends for the event's form:
// the documents' versions and a plausible answer to each required question.
func formOf(raw eventJSON) (map[string]string, map[string]any) {
	var consents map[string]string
	if raw.Privacy.Version != "" || raw.Waiver.Version != "" {
		consents = map[string]string{"privacy": raw.Privacy.Version, "waiver": raw.Waiver.Version}
	}
	answers := map[string]any{}
	for _, q := range raw.Questions {
		if !q.Required {
			continue
		}
		switch {
		case q.Kind == "emergency_contact":
			answers[q.ID] = map[string]string{"name": "Kim Jiho", "phone": "+82 10 2000 3000"}
		case q.Kind == "checkbox":
			answers[q.ID] = true
		case len(q.Options) > 0:
			answers[q.ID] = q.Options[0].Value
		default:
			answers[q.ID] = "botsim"
		}
	}
	if len(answers) == 0 {
		answers = nil
	}
	return consents, answers
}

// eventInfo is what botsim uses of the event: its lottery sub-queues (the
// crowd and the lottery attacks apply there) and its ordered ones (reached
// through the waiting room).
type eventInfo struct {
	Status  string
	Lottery []SubQueue
	Ordered []SubQueue
}

// line is the ordered sub-queue whose waiting room botsim joins: the first
// the event lists, or nil when it has none.
func (ev eventInfo) line() *SubQueue {
	if len(ev.Ordered) == 0 {
		return nil
	}
	return &ev.Ordered[0]
}

// parseEvent sorts the event's sub-queues by mode. It fails without a
// lottery sub-queue; an event without ordered ones simply has no waiting room.
func parseEvent(body []byte) (eventInfo, error) {
	var raw eventJSON
	if err := json.Unmarshal(body, &raw); err != nil {
		return eventInfo{}, fmt.Errorf("event JSON: %w", err)
	}
	ev := eventInfo{Status: raw.Status}
	for _, q := range raw.SubQueues {
		course, pace, ok := strings.Cut(q.Key, ":")
		if !ok {
			course, pace = q.Course, q.PaceGroup
		}
		if course == "" || pace == "" {
			continue
		}
		sq := SubQueue{Key: q.Key, Course: course, PaceGroup: pace, Capacity: q.Capacity}
		switch q.Mode {
		case "", "lottery":
			ev.Lottery = append(ev.Lottery, sq)
		case "ordered":
			sq.AdmitPerMinute = q.AdmitPerMinute
			ev.Ordered = append(ev.Ordered, sq)
		}
	}
	if len(ev.Lottery) == 0 {
		return ev, errors.New("no lottery sub-queues")
	}
	return ev, nil
}

// runLegit runs the legitimate crowd: households in parallel, the members of
// one household one after another (they share an IP and maybe a device).
func runLegit(ctx context.Context, s *sim, g *generator, n, conc int) *Legit {
	pop := g.legitPopulation(n)
	l := &Legit{Codes: map[string]int{}, Households: len(pop.Households),
		SharedIPPeople: pop.SharedIPPeople, SharedDevicePeople: pop.SharedDevicePeople, SharedPhonePeople: pop.SharedPhonePeople,
		AbroadPeople: pop.AbroadPeople}
	deviceUsers := map[int]int{}
	for _, p := range pop.People {
		deviceUsers[p.Device]++
	}
	t0 := time.Now()
	type result struct {
		o         Outcome
		situation string
	}
	jobs := make([]job, 0, len(pop.Households))
	results := make([][]result, len(pop.Households))
	for hi, members := range pop.Households {
		jobs = append(jobs, job{n: len(members), run: func(ctx context.Context) []Outcome {
			agents := map[int]*agent{}
			var out []Outcome
			for _, pi := range members {
				if ctx.Err() != nil {
					break
				}
				p := pop.People[pi]
				a, ok := agents[p.Device]
				if !ok {
					a = s.newAgent(pop.Devices[p.Device])
					agents[p.Device] = a
				}
				o := s.fullApply(ctx, a, p.IP, p.Identity, signalsOf(pop.Devices[p.Device], p.FillMS), p.IdemKey)
				situation := "alone"
				switch {
				case p.SharesPhone:
					situation = "shared_ip+parent_phone"
				case deviceUsers[p.Device] > 1:
					situation = "shared_ip+shared_device"
				case len(members) > 1:
					situation = "shared_ip"
				case p.Abroad:
					situation = "abroad"
				}
				results[hi] = append(results[hi], result{o, situation})
				out = append(out, o)
			}
			return out
		}})
	}
	all := runJobs(ctx, conc, jobs)
	made := 0
	for _, rs := range results {
		for _, r := range rs {
			l.add(r.o, r.situation)
			made++
		}
	}
	for range len(all) - made { // runners the run's deadline never reached
		l.add(Outcome{Kind: KindError, Code: "not_run:timeout"}, "not_run")
	}
	l.DurationMS = time.Since(t0).Milliseconds()
	return l
}

// settle waits for the server's asynchronous checks (clustering runs every
// 30 s) and re-reads the status of every entry the run created, moving each
// to its settled kind.
func settle(ctx context.Context, s *sim, rep *Report, wait time.Duration, conc int, logw io.Writer) {
	type item struct {
		e *CreatedEntry
		t tally
	}
	var items []item
	for _, l := range []*Legit{rep.Legit, rep.LegitQueue} {
		if l == nil {
			continue
		}
		for _, e := range l.Created {
			items = append(items, item{e, l})
		}
	}
	for _, r := range rep.Attacks {
		for _, e := range r.Created {
			items = append(items, item{e, r})
		}
	}
	if len(items) == 0 || wait <= 0 {
		return
	}
	fmt.Fprintf(logw, "botsim: waiting %s for asynchronous checks, then re-reading %d entries...\n", wait, len(items))
	t0 := time.Now()
	select {
	case <-ctx.Done():
		rep.Warnings = append(rep.Warnings, "the run's -timeout ended before the settle wait: statuses are as answered by apply")
		return
	case <-time.After(wait):
	}
	got := make([]Kind, len(items))
	statuses := make([]string, len(items))
	jobs := make([]job, len(items))
	failed := 0
	for i, it := range items {
		jobs[i] = one(func(ctx context.Context) Outcome {
			got[i] = it.e.Kind
			st, err := s.entryStatus(ctx, it.e.ID, it.e.Token)
			if err != nil {
				return Outcome{Kind: KindError}
			}
			statuses[i] = st
			if k, ok := statusKind(st); ok {
				got[i] = k
			}
			return Outcome{}
		})
	}
	for _, o := range runJobs(ctx, conc, jobs) {
		if o.Kind == KindError {
			failed++
		}
	}
	for i, it := range items { // single-threaded: recount touches shared tallies
		it.t.recount(it.e, got[i])
		if statuses[i] != "" {
			it.t.settled(statuses[i])
		}
	}
	if failed > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d of %d entries could not be re-read after the settle wait; they keep their apply status", failed, len(items)))
	}
	rep.SettleMS = time.Since(t0).Milliseconds()
}
