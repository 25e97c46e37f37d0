package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
)

// ErrUnavailable is wrapped by Allow when Redis cannot be reached and the
// limiter fails closed, and by Replay's checks: answer 503 unavailable.
var ErrUnavailable = errors.New("rate limiter unavailable")

// Kind names what a rate limit counts; it appears in Redis key names, so it
// is lower-case letters, digits and underscores.
type Kind string

// The kinds Startline limits.
const (
	KindIP         Kind = "ip"          // Value: ClientKey(client IP)
	KindDevice     Kind = "device"      // Value: the signed sl_device cookie id
	KindEmail      Kind = "email"       // Value: the requester (ClientKey) and the normalized e-mail address
	KindEvent      Kind = "event"       // Value: the event slug
	KindOTPEmail   Kind = "otp_email"   // Value: the requester (ClientKey) and the normalized address a code is sent to
	KindOTPInbox   Kind = "otp_inbox"   // Value: the normalized address; a cap (AllowCapped), never a refusal
	KindStaffLogin Kind = "staff_login" // Value: ClientKey of the address a staff login comes from
)

// Rule limits one Kind to Rate (e.g. limiter.Rate{Period: time.Minute,
// Limit: 20}, "20-M"). A Kind may have several rules with different periods,
// say 20 a minute and 300 an hour; a key must pass all of them.
type Rule struct {
	Kind Kind
	Rate limiter.Rate
}

// Key is one value to count under its Kind's rules. Value is hashed before
// it reaches Redis, so it may be an e-mail address or an IP.
type Key struct {
	Kind  Kind
	Value string
}

// Result is the outcome of Allow. Limit, Remaining and Reset describe the
// most restrictive rule checked (the refusing one when Allowed is false);
// Kind is that rule's kind. RetryAfter is set when refused. A zero Limit
// means no limit applied (no keys, or Redis was down and the limiter failed
// open). Capped (AllowCapped only) says an allowed request went over a cap;
// caps never show in the other fields, so headers do not reveal them.
type Result struct {
	Allowed    bool
	Limit      int64
	Remaining  int64
	Reset      time.Time
	RetryAfter time.Duration
	Kind       Kind
	Capped     bool
}

// Limiter counts requests in fixed windows per (rule, hashed value) in Redis.
// It uses ulule/limiter's Rate and the same counters as ulule's Redis store
// (same key names and values, so that store's Peek and Reset work on them),
// but sends all of a request's counters in one pipeline instead of one round
// trip per key. Safe for concurrent use.
type Limiter struct {
	rdb      goredis.UniversalClient
	script   *goredis.Script // incrScript; tests swap in one Redis has not cached
	prefix   string          // prefix + "rl:"
	rules    map[Kind][]rule
	failOpen bool
	log      *slog.Logger
	secret   []byte
	timeout  time.Duration // bounds each Allow: DefaultTimeout (tests shorten it)

	lastAlarm  atomic.Int64 // unix nanoseconds of the last fail-open log
	suppressed atomic.Int64 // fail-open events not logged since then

	lastUndoAlarm  atomic.Int64 // the same for failed compensations
	suppressedUndo atomic.Int64
}

// incrSource counts one request: INCR the window's counter and, when it has
// no expiry yet (the window's first request), give it the window length.
// It returns {count, milliseconds left in the window}. One key per call, so
// it runs on Redis Cluster too.
const incrSource = `
local n = redis.call("incr", KEYS[1])
local ttl = redis.call("pttl", KEYS[1])
if ttl < 0 then
	ttl = tonumber(ARGV[1])
	redis.call("pexpire", KEYS[1], ttl)
end
return {n, ttl}
`

var incrScript = goredis.NewScript(incrSource)

// decrScript takes back one count of a refused request. A counter that
// lapsed meanwhile is left absent: DECR would recreate it at -1 with no
// expiry, an extra request for ever. (If a new window already started, it
// gets one extra request: harmless.)
var decrScript = goredis.NewScript(`
if redis.call("exists", KEYS[1]) == 1 then
	return redis.call("decr", KEYS[1])
end
return 0
`)

type rule struct {
	kind Kind
	rate limiter.Rate
	tag  string // kind + ":" + period, the key name part
}

// Option configures a Limiter.
type Option func(*Limiter)

// WithHashSecret makes key names use HMAC-SHA256 under secret instead of
// plain SHA-256, so the hash of a guessed e-mail or IPv4 address cannot be
// checked against the keys in Redis. All instances must share the secret
// (derive it from STARTLINE_SECRET_KEY); changing it resets every budget.
func WithHashSecret(secret []byte) Option {
	return func(l *Limiter) { l.secret = append([]byte(nil), secret...) }
}

// DefaultTimeout bounds one Allow: a pipeline takes well under a
// millisecond, so this only cuts short a Redis that is down or hung, after
// which the limiter fails open or closed. A hung connection is only cut
// short if the client was made with ContextTimeoutEnabled; otherwise its
// ReadTimeout applies.
const DefaultTimeout = 200 * time.Millisecond

// alarmEvery bounds the fail-open log to one line per interval (with a count
// of the suppressed ones), so a Redis outage under load does not flood logs.
const alarmEvery = 10 * time.Second

// NewLimiter returns a limiter for rules whose keys are prefix + "rl:" + kind
// + ":" + period + ":{" + hash + "}" (the hash is the cluster hash tag,
// keys.go). It does not contact Redis, so the service
// starts while Redis is down. With failOpen, a Redis failure lets requests
// through and logs "rate limiter unavailable, failing open" at Error level on
// log; without it Allow returns an error wrapping ErrUnavailable.
func NewLimiter(rdb goredis.UniversalClient, prefix string, rules []Rule, failOpen bool, log *slog.Logger, opts ...Option) (*Limiter, error) {
	if rdb == nil {
		return nil, errors.New("rate limiter: nil Redis client")
	}
	if log == nil {
		log = slog.Default()
	}
	l := &Limiter{rdb: rdb, script: incrScript, prefix: prefix + "rl:", rules: map[Kind][]rule{}, failOpen: failOpen, log: log, timeout: DefaultTimeout}
	for _, o := range opts {
		o(l)
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if !validKind(r.Kind) {
			return nil, fmt.Errorf("rate limiter: kind %q: use [a-z0-9_]+", r.Kind)
		}
		if r.Rate.Limit < 1 || r.Rate.Period < time.Millisecond || r.Rate.Period%time.Millisecond != 0 {
			return nil, fmt.Errorf("rate limiter: kind %s: rate %d per %s: need a limit >= 1 and a period of whole milliseconds", r.Kind, r.Rate.Limit, r.Rate.Period)
		}
		tag := string(r.Kind) + ":" + periodTag(r.Rate.Period)
		if seen[tag] {
			return nil, fmt.Errorf("rate limiter: kind %s has two rules for period %s", r.Kind, r.Rate.Period)
		}
		seen[tag] = true
		l.rules[r.Kind] = append(l.rules[r.Kind], rule{kind: r.Kind, rate: r.Rate, tag: tag})
	}
	return l, nil
}

// check is one (rule, key) pair to count.
type check struct {
	rule  rule
	key   string // full Redis key
	count int64
	ttl   time.Duration
	cap   bool // counted, but never refuses (AllowCapped)
}

// Allow counts one request against every rule of every key's kind and
// returns the most restrictive outcome: a refusal if any rule refuses (the
// one with the longest wait), else the rule with the fewest requests left.
//
// A refused request spends nothing: the counters it incremented are taken
// back. So hammering one's own limit (an IP's) spends no shared budget (an
// event's) and no one else's (an address's), and a key stays at its limit
// rather than climbing while refused. All counters go to Redis in one
// pipeline, one round trip for any number of keys (one more to take back a
// refusal, one more right after a Redis restart to reload a script); every
// script touches one key, so this works on Redis Cluster. Between the two
// round trips of a refusal its counts are visible to concurrent requests:
// the in-flight refusals at any instant, a handful, not a drain.
//
// A key whose kind has no rule is a programming error. When Redis fails or
// takes longer than the timeout (DefaultTimeout), see NewLimiter; a
// cancelled ctx returns its error.
func (l *Limiter) Allow(ctx context.Context, keys ...Key) (Result, error) {
	return l.AllowCapped(ctx, nil, keys...)
}

// AllowCapped is Allow with caps: keys counted in the same round trip that
// never refuse the request. When keys allow it and a cap is over its limit,
// Result.Capped is set and the caller holds back what the cap protects
// (e.g. stops mailing an address) while answering as usual; a refused
// request spends no cap either. A key given both ways counts as a key; a
// cap whose kind has no rule is not counted (leaving its rules out of the
// configuration turns that cap off).
func (l *Limiter) AllowCapped(ctx context.Context, caps []Key, keys ...Key) (Result, error) {
	checks, err := l.checks(caps, keys)
	if err != nil {
		return Result{}, err
	}
	if len(checks) == 0 {
		return Result{Allowed: true}, nil
	}
	parent := ctx
	if l.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.timeout)
		defer cancel()
	}
	if err := l.count(ctx, checks); err != nil {
		if errors.Is(parent.Err(), context.Canceled) {
			return Result{}, fmt.Errorf("rate limiter: %w", err)
		}
		if !l.failOpen {
			return Result{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		l.alarm(checks, err)
		return Result{Allowed: true}, nil
	}
	res := l.result(checks, time.Now())
	if !res.Allowed {
		l.undo(parent, checks)
	}
	return res, nil
}

// checks lists the (rule, key) pairs of keys and caps, each pair once.
func (l *Limiter) checks(caps, keys []Key) ([]check, error) {
	checks := make([]check, 0, len(keys)+len(caps)+2)
	seen := make(map[Key]bool, len(keys)+len(caps))
	add := func(k Key, isCap bool) error {
		rules, ok := l.rules[k.Kind]
		if !ok && !isCap {
			return fmt.Errorf("rate limiter: no rule for kind %q", k.Kind)
		}
		if seen[k] {
			return nil
		}
		seen[k] = true
		h := hashValue(l.secret, k.Value)
		for _, r := range rules {
			checks = append(checks, check{rule: r, key: counterKey(l.prefix, r.tag, h), cap: isCap})
		}
		return nil
	}
	for _, k := range keys {
		if err := add(k, false); err != nil {
			return nil, err
		}
	}
	for _, k := range caps {
		if err := add(k, true); err != nil {
			return nil, err
		}
	}
	return checks, nil
}

// peekScript reads a counter without counting: {count + 1, milliseconds
// left in the window (the full period when none is open)}, the shape
// incrScript returns, so result judges "would one more be allowed".
var peekScript = goredis.NewScript(`
local n = tonumber(redis.call("get", KEYS[1]) or "0")
local ttl = redis.call("pttl", KEYS[1])
if ttl < 0 then
	ttl = tonumber(ARGV[1])
end
return {n + 1, ttl}
`)

// Peek says whether keys have budget left for one more request without
// spending any: Allowed is false once a key's count reached its limit. It
// is for budgets spent only by some outcomes (Allow after a failed staff
// login), so a request that succeeds never spends them. Redis failures are
// handled as in Allow.
func (l *Limiter) Peek(ctx context.Context, keys ...Key) (Result, error) {
	checks, err := l.checks(nil, keys)
	if err != nil {
		return Result{}, err
	}
	if len(checks) == 0 {
		return Result{Allowed: true}, nil
	}
	parent := ctx
	if l.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.timeout)
		defer cancel()
	}
	if err := l.run(ctx, peekScript, checks); err != nil {
		if errors.Is(parent.Err(), context.Canceled) {
			return Result{}, fmt.Errorf("rate limiter: %w", err)
		}
		if !l.failOpen {
			return Result{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		l.alarm(checks, err)
		return Result{Allowed: true}, nil
	}
	return l.result(checks, time.Now()), nil
}

// undo takes back every count of a refused request, even when the client
// has gone away meanwhile (a cancelled request must not leave counts
// behind). A failure leaves them spent, as before this existed: logged,
// throttled, and the refusal stands.
func (l *Limiter) undo(parent context.Context, checks []check) {
	ctx := context.WithoutCancel(parent)
	if l.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.timeout)
		defer cancel()
	}
	keys := make([]string, len(checks))
	for i, c := range checks {
		keys[i] = c.key
	}
	if _, err := l.eval(ctx, decrScript, keys, func(int) []any { return nil }); err != nil {
		now := time.Now().UnixNano()
		last := l.lastUndoAlarm.Load()
		if now-last < int64(alarmEvery) || !l.lastUndoAlarm.CompareAndSwap(last, now) {
			l.suppressedUndo.Add(1)
			return
		}
		l.log.Warn("rate limiter could not take back a refused request's counts",
			slog.String("err", err.Error()), slog.Int64("suppressed", l.suppressedUndo.Swap(0)))
	}
}

// count runs incrScript for every check in one pipeline.
func (l *Limiter) count(ctx context.Context, checks []check) error {
	return l.run(ctx, l.script, checks)
}

// run runs script (incrScript's or peekScript's shape) for every check in
// one pipeline and records each count and window.
func (l *Limiter) run(ctx context.Context, script *goredis.Script, checks []check) error {
	keys := make([]string, len(checks))
	for i, c := range checks {
		keys[i] = c.key
	}
	cmds, err := l.eval(ctx, script, keys, func(i int) []any { return []any{checks[i].rule.rate.Period.Milliseconds()} })
	if err != nil {
		return err
	}
	for i, cmd := range cmds {
		vals, err := cmd.Int64Slice()
		if err != nil {
			return err
		}
		if len(vals) != 2 {
			return fmt.Errorf("rate limiter: script returned %d values", len(vals))
		}
		checks[i].count, checks[i].ttl = vals[0], time.Duration(vals[1])*time.Millisecond
	}
	return nil
}

// eval runs script once per key (args(i) for keys[i]) in one pipeline,
// re-sending with EVAL the ones Redis answers NOSCRIPT (after a restart or
// SCRIPT FLUSH).
func (l *Limiter) eval(ctx context.Context, script *goredis.Script, keys []string, args func(int) []any) ([]*goredis.Cmd, error) {
	cmds := make([]*goredis.Cmd, len(keys))
	_, err := l.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = script.EvalSha(ctx, p, []string{k}, args(i)...)
		}
		return nil
	})
	if err == nil {
		return cmds, nil
	}
	var missing []int
	for i, cmd := range cmds {
		if cerr := cmd.Err(); cerr != nil {
			if !goredis.HasErrorPrefix(cerr, "NOSCRIPT") {
				return nil, cerr
			}
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil, err
	}
	if _, err := l.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, i := range missing {
			cmds[i] = script.Eval(ctx, p, []string{keys[i]}, args(i)...)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return cmds, nil
}

// result is the outcome of the keys' checks (the most restrictive) and
// whether a cap is over.
func (l *Limiter) result(checks []check, now time.Time) Result {
	best, capped := -1, false
	for i := range checks {
		if checks[i].cap {
			capped = capped || checks[i].count > checks[i].rule.rate.Limit
			continue
		}
		if best < 0 || moreRestrictive(checks[i], checks[best]) {
			best = i
		}
	}
	if best < 0 { // caps only
		return Result{Allowed: true, Capped: capped}
	}
	c := checks[best]
	res := Result{
		Allowed:   c.count <= c.rule.rate.Limit,
		Limit:     c.rule.rate.Limit,
		Remaining: max(c.rule.rate.Limit-c.count, 0),
		Reset:     now.Add(c.ttl),
		Kind:      c.rule.kind,
	}
	if !res.Allowed {
		res.RetryAfter = max(c.ttl, time.Millisecond)
	} else {
		res.Capped = capped
	}
	return res
}

// moreRestrictive orders outcomes: refused before allowed, then the longer
// wait among refusals, fewer remaining (then the later reset) among allowed.
func moreRestrictive(a, b check) bool {
	ra, rb := a.count > a.rule.rate.Limit, b.count > b.rule.rate.Limit
	if ra != rb {
		return ra
	}
	if ra {
		return a.ttl > b.ttl
	}
	if la, lb := a.rule.rate.Limit-a.count, b.rule.rate.Limit-b.count; la != lb {
		return la < lb
	}
	return a.ttl > b.ttl
}

func (l *Limiter) alarm(checks []check, err error) {
	now := time.Now().UnixNano()
	last := l.lastAlarm.Load()
	if now-last < int64(alarmEvery) || !l.lastAlarm.CompareAndSwap(last, now) {
		l.suppressed.Add(1)
		return
	}
	kinds := make([]string, 0, len(checks))
	for _, c := range checks {
		kinds = append(kinds, c.rule.tag)
	}
	l.log.Error("rate limiter unavailable, failing open",
		slog.String("err", err.Error()),
		slog.Any("rules", kinds),
		slog.Int64("suppressed", l.suppressed.Swap(0)))
}

func validKind(k Kind) bool {
	if k == "" || len(k) > 32 {
		return false
	}
	for _, c := range []byte(k) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// periodTag names a window length in key names: "60s", "500ms".
func periodTag(p time.Duration) string {
	if p%time.Second == 0 {
		return strconv.FormatInt(int64(p/time.Second), 10) + "s"
	}
	return strconv.FormatInt(p.Milliseconds(), 10) + "ms"
}
