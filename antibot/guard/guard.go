// Package guard applies the request-level anti-bot checks shared by the API
// and the web pages: rate limits (Redis), ALTCHA proof of work with replay
// refusal, and the signed first-party device cookie. It composes the pure
// antibot/pow with the antibot/redis adapters so handlers make one call.
package guard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/antibot/pow"
	abredis "github.com/startline/startline/antibot/redis"
)

// Errors the handlers map to API codes.
var (
	ErrRateLimited = errors.New("rate limited")
	ErrProof       = errors.New("invalid proof of work")
)

// DeviceCookie is the signed first-party device cookie (API.md).
const DeviceCookie = "sl_device"

// Guard holds the checks. A nil Limiter or Replay disables that check
// (tests of unrelated behaviour); production wiring sets both.
type Guard struct {
	Limiter *abredis.Limiter
	Replay  *abredis.Replay
	// Known remembers devices that proved they read an address; nil: none
	// is known (the inbox cap then holds back codes from everyone).
	Known     *abredis.Known
	PoW       pow.Issuer
	CookieKey []byte
	FailOpen  bool // what to do when Redis cannot answer the replay check
	Log       *slog.Logger
	// Difficulty maps risk to the puzzle's maxnumber; pow.Difficulty when nil.
	Difficulty func(risk int) int64
	// Site decides the device cookie's Secure attribute, as for every
	// other cookie (nil: Secure only on a direct TLS connection).
	Site CookieSetter
}

// CookieSetter writes a cookie with the site's policy (its Secure
// attribute); *httpkit.Site is one. An interface, so that the guard, which
// needs no web framework, does not import the Gin engine's package.
type CookieSetter interface {
	SetCookie(w http.ResponseWriter, r *http.Request, c *http.Cookie)
}

// RateLimit is a refused or allowed request's limit state.
type RateLimit struct {
	Result  abredis.Result
	Headers map[string]string
}

// Allow counts the request against every key and returns ErrRateLimited
// (with the headers to send, Retry-After included) when any rule refuses;
// a refused request spends none of the keys (abredis.Limiter.Allow).
func (g *Guard) Allow(ctx context.Context, keys ...abredis.Key) (RateLimit, error) {
	return g.AllowCapped(ctx, nil, keys...)
}

// AllowCapped is Allow with caps that never refuse: Result.Capped says
// one is spent (abredis.Limiter.AllowCapped).
func (g *Guard) AllowCapped(ctx context.Context, caps []abredis.Key, keys ...abredis.Key) (RateLimit, error) {
	if g.Limiter == nil {
		return RateLimit{}, nil
	}
	res, err := g.Limiter.AllowCapped(ctx, caps, keys...)
	if err != nil {
		return RateLimit{}, fmt.Errorf("rate limit: %w", err)
	}
	rl := RateLimit{Result: res, Headers: abredis.Headers(res)}
	if !res.Allowed {
		return rl, ErrRateLimited
	}
	return rl, nil
}

// Peek is Allow without spending: ErrRateLimited (with the headers) when a
// key has no budget left for one more request (abredis.Limiter.Peek).
func (g *Guard) Peek(ctx context.Context, keys ...abredis.Key) (RateLimit, error) {
	if g.Limiter == nil {
		return RateLimit{}, nil
	}
	res, err := g.Limiter.Peek(ctx, keys...)
	if err != nil {
		return RateLimit{}, fmt.Errorf("rate limit: %w", err)
	}
	rl := RateLimit{Result: res, Headers: abredis.Headers(res)}
	if !res.Allowed {
		return rl, ErrRateLimited
	}
	return rl, nil
}

// Challenge issues a proof-of-work challenge; risk raises its difficulty.
func (g *Guard) Challenge(now time.Time, risk int) (pow.Challenge, error) {
	d := pow.Difficulty
	if g.Difficulty != nil {
		d = g.Difficulty
	}
	return g.PoW.New(now, d(risk))
}

// ChallengeRisk scores a client before it has applied: no device cookie, an
// automation-looking user agent or a hosting network (a cloud VM, a VPN or
// proxy exit) earns a harder puzzle. n is what ipintel knows of the client's
// address.
func (g *Guard) ChallengeRisk(r *http.Request, n ipintel.Network) int {
	risk := 0
	if n.Kind == ipintel.Hosting {
		risk += 30
	}
	if _, ok := g.Device(r); !ok {
		risk += 30
	}
	ua := strings.ToLower(r.UserAgent())
	if ua == "" || strings.Contains(ua, "headless") || strings.Contains(ua, "python") || strings.Contains(ua, "curl") {
		risk += 50
	}
	return risk
}

// CheckProof verifies an ALTCHA payload and spends it for this request:
// owner identifies the request (a hash of its Idempotency-Key and body), so
// an identical retry may present the same solution while any other reuse is
// refused. An empty owner makes the solution strictly single use. Failures
// wrap ErrProof.
func (g *Guard) CheckProof(ctx context.Context, payload, owner string, now time.Time) error {
	s, err := g.VerifyProof(payload, now)
	if err != nil {
		return err
	}
	return g.ClaimProof(ctx, s, owner)
}

// VerifyProof checks an ALTCHA payload's signature, expiry and solution
// without spending it and without Redis: the handlers call it before
// counting a request, so one without a valid proof of work spends no
// budget at all, then ClaimProof once the budgets allowed it (a request
// refused by a limit keeps its solution for the retry). Failures wrap
// ErrProof.
func (g *Guard) VerifyProof(payload string, now time.Time) (pow.Solved, error) {
	if payload == "" {
		return pow.Solved{}, fmt.Errorf("%w: solve the challenge first", ErrProof)
	}
	s, err := g.PoW.Verify(payload, now)
	if err != nil {
		return pow.Solved{}, fmt.Errorf("%w: %v", ErrProof, err)
	}
	return s, nil
}

// ClaimProof spends a verified solution for owner (see CheckProof).
func (g *Guard) ClaimProof(ctx context.Context, s pow.Solved, owner string) error {
	if g.Replay == nil {
		return nil
	}
	if owner == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		owner = "once:" + base64.RawURLEncoding.EncodeToString(b)
	}
	ok, err := g.Replay.Claim(ctx, "pow:"+s.Challenge, owner, time.Until(s.Expires)+time.Minute)
	switch {
	case err != nil && g.FailOpen:
		g.Log.ErrorContext(ctx, "proof-of-work replay check unavailable, failing open", "err", err)
		return nil
	case err != nil: // an outage (503), not a bad proof or an internal error
		return fmt.Errorf("replay check: %w: %w", abredis.ErrUnavailable, err)
	case !ok:
		return fmt.Errorf("%w: this solution was already used", ErrProof)
	}
	return nil
}

// knownFor is how long a device stays known for an address it proved it
// reads: the device cookie's own lifetime.
const knownFor = 400 * 24 * time.Hour

// RememberAddress records that device proved it reads the address whose
// normalized key is emailKey (it applied with the code mailed there). Best
// effort: a failure only means the owner is treated as a stranger by the
// inbox cap later, so it is logged, not returned.
func (g *Guard) RememberAddress(ctx context.Context, device, emailKey string) {
	if g.Known == nil || device == "" || emailKey == "" {
		return
	}
	if err := g.Known.Remember(context.WithoutCancel(ctx), device, emailKey, knownFor); err != nil {
		g.logger().WarnContext(ctx, "could not remember a verified device", "err", err)
	}
}

// KnowsAddress reports whether device proved before that it reads the
// address (RememberAddress). Unknown when Redis cannot answer.
func (g *Guard) KnowsAddress(ctx context.Context, device, emailKey string) bool {
	if g.Known == nil {
		return false
	}
	ok, err := g.Known.Has(ctx, device, emailKey)
	if err != nil {
		g.logger().WarnContext(ctx, "could not check a verified device", "err", err)
	}
	return ok
}

func (g *Guard) logger() *slog.Logger {
	if g.Log == nil {
		return slog.Default()
	}
	return g.Log
}

// RequestOwner fingerprints a request for CheckProof: empty without an
// Idempotency-Key, since only keyed requests may be retried.
func RequestOwner(idemKey string, body []byte) string {
	if idemKey == "" {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(idemKey))
	h.Write([]byte{0})
	h.Write(body)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// Device returns the device id from a validly signed cookie.
func (g *Guard) Device(r *http.Request) (string, bool) {
	c, err := r.Cookie(DeviceCookie)
	if err != nil {
		return "", false
	}
	id, sig, ok := strings.Cut(c.Value, ".")
	if !ok || len(id) != 22 || !hmac.Equal([]byte(sig), []byte(g.sign(id))) {
		return "", false
	}
	return id, true
}

// EnsureDevice returns the request's device id, setting a new signed cookie
// when the client has none (or a forged one).
func (g *Guard) EnsureDevice(w http.ResponseWriter, r *http.Request) string {
	if id, ok := g.Device(r); ok {
		return id
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	c := &http.Cookie{Name: DeviceCookie, Value: id + "." + g.sign(id), Path: "/", MaxAge: 400 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if g.Site == nil {
		c.Secure = r.TLS != nil
		http.SetCookie(w, c)
	} else {
		g.Site.SetCookie(w, r, c)
	}
	return id
}

func (g *Guard) sign(id string) string {
	m := hmac.New(sha256.New, g.CookieKey)
	m.Write([]byte("device|" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}
