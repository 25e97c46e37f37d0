package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// scenario is one attack population. run fills row with one outcome per
// attempt; setup requests (a baseline entry, a code request) are not attempts.
type scenario struct {
	name     string
	desc     string
	attempts int // default attempt count
	run      func(ctx context.Context, e *env, n int, row *Row)
}

// env is what scenarios share: the server, a generator with its own random
// stream, the run's concurrency, and the ordered sub-queue whose waiting
// room the queue_* scenarios join (nil: the event has none).
type env struct {
	s    *sim
	g    *generator // used only while jobs are being built, never inside them
	conc int
	line *SubQueue
}

// scenarios lists the attacks in the order they run.
var scenarios = []scenario{
	{"gmail_variants", "one Gmail mailbox, many entries through dot, +tag, googlemail.com and case variants", 100, runGmailVariants},
	{"disposable_domains", "throwaway addresses at disposable-mail providers", 100, runDisposable},
	{"one_device_many_identities", "one browser (cookie jar, fingerprint, IP) applying for many identities", 100, runOneDevice},
	{"headless_fast", "headless Chrome on cloud VMs, webdriver set, forms filled in 0.2-0.9 s", 100, runHeadless},
	{"ip_rotation_one_fingerprint", "a new proxy IP and cookie jar per entry, one browser fingerprint and user agent", 100, runIPRotation},
	{"ip_rotation_random_fingerprints", "the same through proxies, with a fresh random fingerprint on every entry", 100, runIPRotationRandomFP},
	{"scripted_client_no_signals", "a plain HTTP script (python-requests user agent, no form signals, no cookies kept) with mailboxes it reads", 100, runScriptedClient},
	{"otp_guessing", "entries for mailboxes the attacker cannot read, guessing the 6-digit code", 100, runOTPGuessing},
	{"pow_replay", "one solved proof of work replayed across different applications", 50, runPoWReplay},
	{"staff_password_spraying", "common passwords (and a guessed TOTP) against the demo staff logins", 50, runStaffSpraying},
	{"staff_spraying_address_variants", "the same spraying, re-spelling the staff address (case, spaces) on every try", 50, runStaffAddressVariants},
	{"queue_scripted_joins", "waiting-room joins from a plain HTTP script (python-requests user agent, no cookies, no Accept-Language), a fresh proxy IP each; a place granted is followed through to an apply without form signals", 50, runQueueScripted},
	{"queue_headless_joins", "waiting-room joins from headless Chrome (its user agent and client hints) on 5 cloud VMs, followed through to an apply with webdriver set and a 0.2-0.9 s form", 50, runQueueHeadless},
	{"queue_browser_farm", "waiting-room joins by a farm replaying one phone's browser profile (one fingerprint, Seoul time, Korean) through proxies abroad, a fresh cookie jar and mailbox each, followed through to the apply", 50, runQueueFarm},
}

func scenarioRand(seed uint64, run, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(run + "/" + name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// job is a unit of work: n planned attempts run in order.
type job struct {
	n   int
	run func(ctx context.Context) []Outcome
}

// runJobs runs jobs on conc workers and returns their outcomes. Jobs that
// could not start before ctx ended count as timeouts.
func runJobs(ctx context.Context, conc int, jobs []job) []Outcome {
	var (
		mu  sync.Mutex
		out []Outcome
		wg  sync.WaitGroup
	)
	ch := make(chan job)
	for range max(conc, 1) {
		wg.Go(func() {
			for j := range ch {
				var got []Outcome
				if ctx.Err() == nil {
					got = j.run(ctx)
				}
				for len(got) < j.n { // attempts the job never made
					got = append(got, Outcome{Kind: KindError, Code: "not_run:timeout"})
				}
				mu.Lock()
				out = append(out, got...)
				mu.Unlock()
			}
		})
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	return out
}

func one(f func(ctx context.Context) Outcome) job {
	return job{n: 1, run: func(ctx context.Context) []Outcome { return []Outcome{f(ctx)} }}
}

// spoofedDevice is the browser profile a scripted client claims: a real
// browser's user agent and human-looking signals, since anything the form's
// script reports can be forged by a client calling the API directly.
func (e *env) spoofedDevice() Device { return e.g.humanDevice() }

// spoofedAgent is a fresh cookie jar claiming a fresh human-looking device,
// with the signals it will send.
func (e *env) spoofedAgent() (*agent, *Signals) {
	d := e.spoofedDevice()
	return e.s.newAgent(d), signalsOf(d, e.spoofedFill())
}

func (e *env) spoofedFill() int { return 25_000 + e.g.pick(65_000) }

// attackerIdentity is a made-up person with a mailbox the attacker controls.
func (e *env) attackerIdentity(domain string) Identity {
	return e.g.person("", 20, 55, domain)
}

// --- gmail_variants --------------------------------------------------------

// gmailVariants returns n distinct spellings, other than local@gmail.com
// itself, that Gmail delivers to the mailbox local@gmail.com: dots between
// letters, +tags, the googlemail.com alias and upper case, alone and
// combined (case alone never makes a variant: it is ignored everywhere).
// local must be lowercase letters and digits; fewer than n are returned only
// when the combinations run out.
func gmailVariants(local string, n int, r *rand.Rand) []string {
	tags := []string{"race", "run", "marathon", "2026", "a", "b", "entry", "lotto", "x1", "x2", "seoul", "half", "full", "10k"}
	// Compared in lower case: the outbox (and any mail system) treats
	// spellings that differ only in case as one address.
	seen := map[string]bool{local + "@gmail.com": true}
	var out []string
	add := func(v string) {
		if k := strings.ToLower(v); !seen[k] && len(out) < n {
			seen[k] = true
			out = append(out, v)
		}
	}
	dots := func(mask uint64) string {
		var b strings.Builder
		for i := 0; i < len(local); i++ {
			b.WriteByte(local[i])
			if i < len(local)-1 && mask&(1<<i) != 0 {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	gaps := min(len(local)-1, 62)
	for try := 0; len(out) < n && try < 50*n+1000; try++ {
		l := local
		if gaps > 0 && (try%4 != 1) {
			l = dots(r.Uint64() & (1<<gaps - 1))
		}
		domain := "gmail.com"
		switch try % 5 {
		case 1:
			l += "+" + tags[r.IntN(len(tags))]
		case 2:
			domain = "googlemail.com"
		case 3:
			l = strings.ToUpper(l[:1]) + l[1:]
		case 4:
			if r.IntN(2) == 0 {
				domain = "Gmail.com"
			} else {
				l += "+" + tags[r.IntN(len(tags))]
				domain = "googlemail.com"
			}
		}
		add(l + "@" + domain)
	}
	return out
}

func runGmailVariants(ctx context.Context, e *env, n int, row *Row) {
	// The mailbox: letters and digits only, so every dot is the attacker's.
	base := e.attackerIdentity("gmail.com")
	local, _, _ := strings.Cut(strings.ToLower(base.Email), "@")
	local, _, _ = strings.Cut(local, "+")
	local = strings.NewReplacer(".", "", "_", "").Replace(local)
	base.Email = local + "@gmail.com"

	// Baseline: the mailbox's own single entry is allowed and not an attack.
	ba, bsig := e.spoofedAgent()
	bo := e.s.fullApply(ctx, ba, e.g.ip(proxyPrefixes), base, bsig, "")
	row.Note = "baseline entry for the mailbox itself (not counted): " + describe(bo)

	variants := gmailVariants(local, n, e.g.r)
	// All variants land in one inbox: when the server refuses to mail another
	// code, the attacker tries the newest code already in the inbox.
	var mu sync.Mutex
	var newest string
	setup := map[string]int{} // refused code requests: the attempt goes on with an older code
	jobs := make([]job, 0, len(variants))
	for _, v := range variants {
		id := e.attackerIdentity("gmail.com")
		id.Email = v
		a, sig := e.spoofedAgent()
		ip := e.g.ip(proxyPrefixes)
		jobs = append(jobs, one(func(ctx context.Context) Outcome {
			altcha, o := e.s.solveChallenge(ctx, a, ip)
			if o != nil {
				return *o
			}
			asked := time.Now().Add(-2 * time.Second)
			code := ""
			if o := e.s.requestOTP(ctx, a, ip, v); o == nil {
				c, o := e.s.readOTP(ctx, v, asked)
				if o != nil && o.Kind == KindError {
					return *o
				}
				code = c
			} else if o.Kind == KindError {
				return *o
			} else {
				mu.Lock()
				setup["setup:"+o.Code]++
				mu.Unlock()
			}
			mu.Lock()
			if code != "" {
				newest = code
			} else {
				code = newest
			}
			mu.Unlock()
			if code == "" {
				return Outcome{Kind: KindBlocked, Code: "otp:no_code_available"}
			}
			return applyOutcome(e.s.apply(ctx, a, ip, applyBodyFor(id, code, altcha, sig), ""))
		}))
	}
	for len(jobs) < n { // the variant space ran out (very short mailbox name)
		jobs = append(jobs, job{n: 1, run: func(context.Context) []Outcome { return []Outcome{{Kind: KindError, Code: "setup:no_variant"}} }})
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
	for k, v := range setup {
		row.Codes[k] += v
	}
}

func describe(o Outcome) string {
	switch o.Kind {
	case KindReceived:
		return "received"
	case KindFlagged:
		return "in_review"
	case KindRejected:
		return "rejected"
	}
	return o.Code
}

// --- disposable_domains ----------------------------------------------------

// disposableDomains are throwaway-mail providers, all on the server's list
// (antibot/identity/disposable_domains.txt; the unit test checks).
var disposableDomains = []string{"mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com", "temp-mail.org",
	"sharklasers.com", "trashmail.com", "getnada.com", "maildrop.cc", "dispostable.com", "throwawaymail.com",
	"mailnesia.com", "mohmal.com", "fakeinbox.com", "discard.email", "tempr.email", "mytemp.email", "emailondeck.com"}

func runDisposable(ctx context.Context, e *env, n int, row *Row) {
	jobs := make([]job, 0, n)
	for i := range n {
		id := e.attackerIdentity(disposableDomains[i%len(disposableDomains)])
		a, sig := e.spoofedAgent()
		ip := e.g.ip(proxyPrefixes)
		jobs = append(jobs, one(func(ctx context.Context) Outcome { return e.s.fullApply(ctx, a, ip, id, sig, "") }))
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
}

// --- one_device_many_identities --------------------------------------------

func runOneDevice(ctx context.Context, e *env, n int, row *Row) {
	dev := e.spoofedDevice()
	a := e.s.newAgent(dev) // one cookie jar for every identity
	ip := e.g.legitIP()    // a home connection
	jobs := make([]job, 0, n)
	for range n {
		id := e.attackerIdentity("")
		sig := signalsOf(dev, e.spoofedFill())
		jobs = append(jobs, one(func(ctx context.Context) Outcome { return e.s.fullApply(ctx, a, ip, id, sig, "") }))
	}
	if len(jobs) == 0 {
		return
	}
	// The first entry alone, so the device cookie is set once.
	for _, o := range runJobs(ctx, 1, jobs[:1]) {
		row.add(o)
	}
	for _, o := range runJobs(ctx, e.conc, jobs[1:]) {
		row.add(o)
	}
}

// --- headless_fast ---------------------------------------------------------

const headlessUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36"

func runHeadless(ctx context.Context, e *env, n int, row *Row) {
	// A handful of VMs from one image: same headless build, same fingerprint.
	var vms []string
	for range 5 {
		vms = append(vms, e.g.ip(cloudPrefixes))
	}
	fp := fingerprint("headless", fmt.Sprint(e.g.r.Uint64()))
	jobs := make([]job, 0, n)
	for i := range n {
		dev := Device{UserAgent: headlessUA, Platform: "Linux x86_64", Screen: "800x600", Fingerprint: fp,
			Languages: []string{"en-US"}, AcceptLang: "en-US,en;q=0.9", TimeZone: "UTC", Webdriver: true,
			Hints: chromiumHints(`"Not/A)Brand";v="8", "Chromium";v="126", "HeadlessChrome";v="126"`, "Linux", false)}
		id := e.attackerIdentity("")
		a, ip, sig := e.s.newAgent(dev), vms[i%len(vms)], signalsOf(dev, 200+e.g.pick(700))
		jobs = append(jobs, one(func(ctx context.Context) Outcome { return e.s.fullApply(ctx, a, ip, id, sig, "") }))
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
}

// --- ip_rotation_one_fingerprint -------------------------------------------

func runIPRotation(ctx context.Context, e *env, n int, row *Row) {
	dev := e.spoofedDevice() // one real browser profile, replayed through a proxy pool
	jobs := make([]job, 0, n)
	for range n {
		id := e.attackerIdentity("")
		a, ip, sig := e.s.newAgent(dev), e.g.ip(proxyPrefixes), signalsOf(dev, e.spoofedFill())
		jobs = append(jobs, one(func(ctx context.Context) Outcome { return e.s.fullApply(ctx, a, ip, id, sig, "") }))
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
}

// runIPRotationRandomFP is runIPRotation by an attacker who knows
// fingerprints are compared: every entry reports a fresh random one (the
// fingerprint is computed client-side, so forging it costs nothing).
func runIPRotationRandomFP(ctx context.Context, e *env, n int, row *Row) {
	dev := e.spoofedDevice()
	jobs := make([]job, 0, n)
	for range n {
		d := dev
		d.Fingerprint = fingerprint("random", fmt.Sprint(e.g.r.Uint64()))
		id := e.attackerIdentity("")
		a, ip, sig := e.s.newAgent(d), e.g.ip(proxyPrefixes), signalsOf(d, e.spoofedFill())
		jobs = append(jobs, one(func(ctx context.Context) Outcome { return e.s.fullApply(ctx, a, ip, id, sig, "") }))
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
}

// --- scripted_client_no_signals --------------------------------------------

func runScriptedClient(ctx context.Context, e *env, n int, row *Row) {
	dev := Device{UserAgent: "python-requests/2.32.3"}
	var ips []string // a small residential-proxy pool
	for range 10 {
		ips = append(ips, e.g.ip(proxyPrefixes))
	}
	jobs := make([]job, 0, n)
	for i := range n {
		id := e.attackerIdentity("")
		a, ip := e.s.newAgent(dev), ips[i%len(ips)]
		jobs = append(jobs, one(func(ctx context.Context) Outcome { return e.s.fullApply(ctx, a, ip, id, nil, "") }))
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
}

// --- otp_guessing ----------------------------------------------------------

// guessesPerTarget is how many codes are guessed for one address: two codes'
// worth of the server's 5 attempts each.
const guessesPerTarget = 10

func runOTPGuessing(ctx context.Context, e *env, n int, row *Row) {
	var mu sync.Mutex
	breaches := 0
	setup := map[string]int{}
	var jobs []job
	for left := n; left > 0; left -= guessesPerTarget {
		k := min(left, guessesPerTarget)
		id := e.attackerIdentity("") // someone else's mailbox: codes are never read
		type guess struct {
			a     *agent
			ip    string
			code  string
			sig   *Signals
			fresh bool // request a new code before this guess
		}
		gs := make([]guess, k)
		for i := range gs {
			dev := e.spoofedDevice()
			gs[i] = guess{a: e.s.newAgent(dev), ip: e.g.ip(proxyPrefixes), code: fmt.Sprintf("%06d", e.g.pick(1_000_000)),
				sig: signalsOf(dev, e.spoofedFill()), fresh: i%5 == 0}
		}
		jobs = append(jobs, job{n: k, run: func(ctx context.Context) []Outcome {
			var out []Outcome
			for _, g := range gs {
				if ctx.Err() != nil {
					break
				}
				if g.fresh {
					if o := e.s.requestOTP(ctx, g.a, g.ip, id.Email); o != nil {
						mu.Lock()
						setup["setup:"+o.Code]++
						mu.Unlock()
					}
				}
				altcha, o := e.s.solveChallenge(ctx, g.a, g.ip)
				if o != nil {
					out = append(out, *o)
					continue
				}
				o2 := applyOutcome(e.s.apply(ctx, g.a, g.ip, applyBodyFor(id, g.code, altcha, g.sig), ""))
				if o2.Kind <= KindRejected { // a 201: the guess was accepted
					mu.Lock()
					breaches++
					mu.Unlock()
				}
				out = append(out, o2)
			}
			return out
		}})
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
	for k, v := range setup {
		row.Codes[k] += v
	}
	row.Breaches = breaches
	row.Note = fmt.Sprintf("%d guesses over %d addresses; a new code requested every 5 guesses (setup:* codes are those requests); breaches = guesses answered 201",
		n, (n+guessesPerTarget-1)/guessesPerTarget)
}

// --- pow_replay ------------------------------------------------------------

func runPoWReplay(ctx context.Context, e *env, n int, row *Row) {
	dev := e.spoofedDevice()
	first := e.s.newAgent(dev)
	ip := e.g.ip(proxyPrefixes)
	altcha, o := e.s.solveChallenge(ctx, first, ip)
	if o != nil {
		row.Note = "could not get a first solution: " + o.Code
		for range n {
			row.add(Outcome{Kind: KindError, Code: "setup:" + o.Code})
		}
		return
	}
	// Baseline: the solution's one honest use.
	base := e.attackerIdentity("")
	baseKey := e.g.idemKey()
	baseBody := ApplyBody{}
	bo := func() Outcome {
		asked := time.Now().Add(-2 * time.Second)
		if o := e.s.requestOTP(ctx, first, ip, base.Email); o != nil {
			return *o
		}
		code, o := e.s.readOTP(ctx, base.Email, asked)
		if o != nil {
			return *o
		}
		baseBody = applyBodyFor(base, code, altcha, signalsOf(dev, e.spoofedFill()))
		return applyOutcome(e.s.apply(ctx, first, ip, baseBody, baseKey))
	}()
	row.Note = "baseline (first use, not counted): " + describe(bo) +
		"; replays: 1/3 without Idempotency-Key, 1/3 with a fresh key, 1/3 reusing the baseline's key; breaches = replays answered 201"

	var mu sync.Mutex
	breaches := 0
	jobs := make([]job, 0, n)
	for i := range n {
		id := e.attackerIdentity("")
		d := e.spoofedDevice()
		a, rip, sig := e.s.newAgent(d), e.g.ip(proxyPrefixes), signalsOf(d, e.spoofedFill())
		key := ""
		switch i % 3 {
		case 1:
			key = e.g.idemKey()
		case 2:
			key = baseKey
		}
		jobs = append(jobs, one(func(ctx context.Context) Outcome {
			asked := time.Now().Add(-2 * time.Second)
			if o := e.s.requestOTP(ctx, a, rip, id.Email); o != nil {
				return *o
			}
			code, o := e.s.readOTP(ctx, id.Email, asked)
			if o != nil {
				return *o
			}
			r, err := e.s.apply(ctx, a, rip, applyBodyFor(id, code, altcha, sig), key)
			if err == nil && r.status == http.StatusCreated && r.header.Get("Idempotent-Replayed") == "" {
				mu.Lock()
				breaches++
				mu.Unlock()
			}
			return applyOutcome(r, err)
		}))
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
	row.Breaches = breaches
}

// --- staff_password_spraying -----------------------------------------------

var staffTargets = []string{"organizer@demo.startline.test", "reviewer@demo.startline.test"}

// commonPasswords are what spraying tools try first, with local favourites.
var commonPasswords = []string{"123456", "password", "12345678", "qwerty123", "Password1!", "P@ssw0rd", "admin1234",
	"qwer1234", "1q2w3e4r", "1q2w3e4r!", "asdf1234", "zxcv1234", "a123456789", "iloveyou", "welcome1", "Welcome1!",
	"startline", "Startline1!", "Startline2026!", "startline123", "demo", "demo1234", "Demo1234!", "organizer",
	"Organizer1!", "reviewer", "marathon", "Marathon2026!", "running1", "seoul2026", "Seoul2026!", "changeme",
	"letmein", "000000", "111111", "abc123", "dragon", "sunshine", "princess", "football", "monkey", "korea1234",
	"Korea2026!", "admin", "Admin123!", "test1234", "Test1234!", "passw0rd", "summer2026", "Winter2025!"}

// staffLoginBudget is the server's documented per-account login limit for
// devices the account does not know (antibot/redis DefaultRules:
// staff_account 5 a minute; a run longer than a minute gets more).
const staffLoginBudget = 5

// addressVariants returns n distinct spellings of addr that differ only in
// letter case and surrounding spaces: one account to a server that trims and
// lowercases, n accounts to anything keyed on the raw text. addr must be
// lowercase; fewer than n come back only when the spellings run out.
func addressVariants(addr string, n int, r *rand.Rand) []string {
	seen := map[string]bool{addr: true}
	var out []string
	for try := 0; len(out) < n && try < 50*n+100; try++ {
		b := []byte(addr)
		for i, c := range b {
			if c >= 'a' && c <= 'z' && r.IntN(3) == 0 {
				b[i] = c - 'a' + 'A'
			}
		}
		v := string(b)
		switch r.IntN(4) {
		case 0:
			v = " " + v
		case 1:
			v += " "
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func runStaffSpraying(ctx context.Context, e *env, n int, row *Row) {
	staffSpray(ctx, e, n, row, false)
}

func runStaffAddressVariants(ctx context.Context, e *env, n int, row *Row) {
	staffSpray(ctx, e, n, row, true)
}

// staffSpray tries common passwords with a guessed TOTP against the demo
// staff accounts from rotating IPs; with variants, every try re-spells the
// address so a limiter keyed on the raw text sees a new account each time.
func staffSpray(ctx context.Context, e *env, n int, row *Row, variants bool) {
	dev := Device{UserAgent: windowsChromeUA, AcceptLang: "en-US,en;q=0.9"}
	type try struct {
		body map[string]string
		ip   string
	}
	spellings := map[string][]string{}
	if variants {
		for _, t := range staffTargets {
			spellings[t] = addressVariants(t, n, e.g.r)
		}
	}
	tries := make([]try, max(n, 1))
	for i := range tries {
		target := staffTargets[i%len(staffTargets)]
		if sp := spellings[target]; len(sp) > 0 {
			target = sp[(i/len(staffTargets))%len(sp)]
		}
		tries[i] = try{body: map[string]string{"email": target,
			"password": commonPasswords[(i/len(staffTargets))%len(commonPasswords)],
			"otp":      fmt.Sprintf("%06d", e.g.pick(1_000_000))}, ip: e.g.ip(proxyPrefixes)}
	}
	login := func(ctx context.Context, t try) (reply, error) {
		return e.s.call(ctx, e.s.newAgent(dev), t.ip, http.MethodPost, "/api/v1/staff/login", t.body, nil)
	}
	classify := func(r reply, err error) Outcome {
		switch {
		case err != nil:
			return errorOutcome("login", err)
		case r.status == http.StatusOK:
			return Outcome{Kind: KindReceived, Code: "login:200"}
		}
		return refusal("login", r)
	}
	// Probe: the route may not exist yet.
	r, err := login(ctx, tries[0])
	if err == nil && (r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed) {
		row.Available = false
		row.Note = fmt.Sprintf("POST /api/v1/staff/login answered %d: route not available on this server", r.status)
		return
	}
	row.add(classify(r, err))
	jobs := make([]job, 0, n)
	for _, t := range tries[1:] {
		jobs = append(jobs, one(func(ctx context.Context) Outcome { return classify(login(ctx, t)) }))
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
	row.Breaches = row.Received
	row.Note = fmt.Sprintf("%d logins over %s from rotating IPs, each with a guessed 6-digit TOTP; reached draw = successful logins",
		n, strings.Join(staffTargets, " and "))
	if variants {
		// Guesses the server checked beyond its per-address budget: the
		// limiter was sidestepped even though no login succeeded.
		checked := row.Codes["login:invalid_credentials"]
		over := max(0, checked-staffLoginBudget*len(staffTargets))
		row.Breaches += over
		row.Note = fmt.Sprintf("%d logins with the address re-spelled (case, spaces) each time; %d password+TOTP guesses were checked, "+
			"%d beyond the %d-per-address budget (breaches = successful logins + guesses beyond the budget)",
			n, checked, over, staffLoginBudget)
	}
}

// --- waiting room (ordered sub-queues) -------------------------------------
//
// Each attempt joins the line, waits for admission and applies with the
// admission token; its outcome is the fate of the entry that follows
// (reached draw: offered or waitlisted, unreviewed), or blocked when no
// entry could exist (403 queue_refused, 429, no admission before sold out).

// onLine enters id for the waiting room's course and pace group.
func (e *env) onLine(id Identity) Identity {
	id.Course, id.PaceGroup = e.line.Course, e.line.PaceGroup
	return id
}

// noLine marks row unavailable when the event has no waiting room.
func noLine(e *env, row *Row) bool {
	if e.line == nil {
		row.Available = false
		row.Note = "the event has no ordered pace group: no waiting room to join"
		return true
	}
	row.Line = e.line.Key
	return false
}

// runQueue runs the attempts through the waiting room and counts them.
func runQueue(ctx context.Context, e *env, row *Row, qs []queuer) {
	rs := waitingRoom(ctx, e.s, e.conc, qs)
	for _, r := range rs {
		row.add(r.o)
	}
	row.AdmissionWait = waitStats(admissionWaits(rs))
}

func runQueueScripted(ctx context.Context, e *env, n int, row *Row) {
	if noLine(e, row) {
		return
	}
	dev := Device{UserAgent: "python-requests/2.32.3"} // no Accept-Language, no client hints
	qs := make([]queuer, 0, n)
	for range n {
		qs = append(qs, queuer{a: e.s.newCookielessAgent(dev), ip: e.g.ip(proxyPrefixes), id: e.onLine(e.attackerIdentity(""))})
	}
	runQueue(ctx, e, row, qs)
}

func runQueueHeadless(ctx context.Context, e *env, n int, row *Row) {
	if noLine(e, row) {
		return
	}
	var vms []string
	for range 5 {
		vms = append(vms, e.g.ip(cloudPrefixes))
	}
	dev := Device{UserAgent: headlessUA, Platform: "Linux x86_64", Screen: "800x600",
		Fingerprint: fingerprint("headless", fmt.Sprint(e.g.r.Uint64())), Languages: []string{"en-US"},
		AcceptLang: "en-US,en;q=0.9", TimeZone: "UTC", Webdriver: true,
		Hints: chromiumHints(`"Not/A)Brand";v="8", "Chromium";v="126", "HeadlessChrome";v="126"`, "Linux", false)}
	qs := make([]queuer, 0, n)
	for i := range n {
		qs = append(qs, queuer{a: e.s.newAgent(dev), ip: vms[i%len(vms)], id: e.onLine(e.attackerIdentity("")),
			sig: signalsOf(dev, 200+e.g.pick(700))})
	}
	runQueue(ctx, e, row, qs)
}

// runQueueFarm is ip_rotation_one_fingerprint at the waiting room: every
// join and apply looks like the same phone in Seoul, seen through proxies
// abroad.
func runQueueFarm(ctx context.Context, e *env, n int, row *Row) {
	if noLine(e, row) {
		return
	}
	dev := e.spoofedDevice()
	qs := make([]queuer, 0, n)
	for range n {
		qs = append(qs, queuer{a: e.s.newAgent(dev), ip: e.g.ip(proxyPrefixes), id: e.onLine(e.attackerIdentity("")),
			sig: signalsOf(dev, e.spoofedFill())})
	}
	runQueue(ctx, e, row, qs)
}
