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
	Limiter   *abredis.Limiter
	Replay    *abredis.Replay
	PoW       pow.Issuer
	CookieKey []byte
	FailOpen  bool // what to do when Redis cannot answer the replay check
	Log       *slog.Logger
	// Difficulty maps risk to the puzzle's maxnumber; pow.Difficulty when nil.
	Difficulty func(risk int) int64
}

// RateLimit is a refused or allowed request's limit state.
type RateLimit struct {
	Result  abredis.Result
	Headers map[string]string
}

// Allow counts the request against every key and returns ErrRateLimited
// (with the headers to send, Retry-After included) when any rule refuses.
func (g *Guard) Allow(ctx context.Context, keys ...abredis.Key) (RateLimit, error) {
	if g.Limiter == nil {
		return RateLimit{}, nil
	}
	res, err := g.Limiter.Allow(ctx, keys...)
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
	if payload == "" {
		return fmt.Errorf("%w: solve the challenge first", ErrProof)
	}
	s, err := g.PoW.Verify(payload, now)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProof, err)
	}
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
	http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: id + "." + g.sign(id), Path: "/", MaxAge: 400 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	return id
}

func (g *Guard) sign(id string) string {
	m := hmac.New(sha256.New, g.CookieKey)
	m.Write([]byte("device|" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}
