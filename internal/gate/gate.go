// Package gate is the request gate the API and the pages share: who the
// requester is (client info, rate-limit keys), and the anti-bot checks a
// runner's write or a staff login passes before the service is called.
// Handlers stay "decode → gate → call the service → encode"; every refusal
// is a coded lottery.Error (rate_limited 429, invalid_proof_of_work 422,
// idempotency_key_reused 409, unavailable 503) that each adapter answers
// through httpkit.StatusOf, so a Redis outage failing closed reads the same
// on both.
package gate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/antibot/guard"
	"github.com/startline/startline/antibot/identity"
	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/lottery"
)

// Service is what the gate asks of registration (*registration.Service).
type Service interface {
	// Now is the service clock, which proofs of work expire by.
	Now() time.Time
	// CheckIdempotencyKey is ErrIdempotencyMismatch when an event's key
	// was used with another body; ErrNotFound, ErrUnavailable.
	CheckIdempotencyKey(ctx context.Context, slug, key string, body []byte) error
}

// StaffDevices is what the staff-login check asks of staff access
// (*staff.Service).
type StaffDevices interface {
	// DeviceKnown reports whether the device signed in to the account
	// before; ErrUnavailable.
	DeviceKnown(ctx context.Context, email, deviceID string) (bool, error)
}

// Gate runs the checks with the guard's limiter, proof-of-work issuer and
// replay store, and device cookie.
type Gate struct {
	Guard *guard.Guard
	Svc   Service
	Staff StaffDevices
}

// New returns the gate of a guard, a service and staff access.
func New(g *guard.Guard, svc Service, staff StaffDevices) *Gate {
	return &Gate{Guard: g, Svc: svc, Staff: staff}
}

// Coded turns the guard's failures into coded errors: ErrRateLimited is
// rate_limited, ErrProof invalid_proof_of_work (field altcha), a Redis
// outage failing closed unavailable (the cause kept for the outage log).
// Other errors pass through.
func Coded(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, guard.ErrRateLimited):
		return &lottery.Error{Code: lottery.CodeRateLimited, Message: "too many requests; wait and try again"}
	case errors.Is(err, guard.ErrProof):
		return &lottery.Error{Code: lottery.CodeInvalidProofOfWork, Field: "altcha",
			Message: strings.TrimPrefix(err.Error(), "invalid proof of work: ")}
	case errors.Is(err, abredis.ErrUnavailable):
		return fmt.Errorf("%w: %w", lottery.ErrUnavailable, err)
	}
	return err
}

// Client is what the service is told about the requester: the client IP
// (believed from trusted proxies only), the headers the scorers compare, and
// the signed device cookie's id.
func (g *Gate) Client(c *gin.Context) lottery.ClientInfo {
	client := lottery.ClientInfo{IP: c.ClientIP(), UserAgent: c.Request.UserAgent(),
		AcceptLanguage: c.GetHeader("Accept-Language"), UAPlatform: c.GetHeader("Sec-CH-UA-Platform")}
	if g.Guard != nil {
		client.DeviceID, _ = g.Guard.Device(c.Request)
	}
	return client
}

// allow counts the request against keys and sets the rate-limit headers
// (Retry-After when refused).
func (g *Gate) allow(c *gin.Context, caps []abredis.Key, keys ...abredis.Key) (guard.RateLimit, error) {
	rl, err := g.Guard.AllowCapped(c.Request.Context(), caps, keys...)
	for k, v := range rl.Headers {
		c.Header(k, v)
	}
	return rl, Coded(err)
}

// Limit counts a request under the client's own keys (ClientKeys): the
// challenge route's budget.
func (g *Gate) Limit(c *gin.Context) error {
	_, err := g.allow(c, nil, g.ClientKeys(c)...)
	return err
}

// ClientKeys are the keys every runner request is counted under: the client
// IP (IPv6 by /64) and the device cookie when the client keeps one.
func (g *Gate) ClientKeys(c *gin.Context) []abredis.Key {
	keys := []abredis.Key{{Kind: abredis.KindIP, Value: abredis.ClientKey(c.ClientIP())}}
	if id, ok := g.Guard.Device(c.Request); ok {
		keys = append(keys, abredis.Key{Kind: abredis.KindDevice, Value: id})
	}
	return keys
}

// RunnerKeys are the keys of a request that writes for an event (a code
// request, an application, a join): the client's, the event's (a valve
// that sheds load above what the database sustains, cheaply, before any
// PostgreSQL work) and, under kind, the normalized address paired with the
// requester. The pair, not the address alone: a budget that protects a
// person must not be spendable by strangers, so someone else who uses the
// address spends only their own pair. Since a refused request spends
// nothing, the valve is only spent by requests the client's own budgets
// allowed.
func (g *Gate) RunnerKeys(c *gin.Context, kind abredis.Kind, email string) []abredis.Key {
	keys := append(g.ClientKeys(c), abredis.Key{Kind: abredis.KindEvent, Value: c.Param("slug")})
	if e, err := identity.NormalizeEmail(email); err == nil {
		keys = append(keys, abredis.Key{Kind: kind, Value: requester(c) + "|" + e.Key})
	}
	return keys
}

// requester is who sends a request, for the budgets keyed by address and
// requester: the client's IP key (IPv6 by /64), which a stranger elsewhere
// cannot share, while a device cookie is the client's to drop or renew.
func requester(c *gin.Context) string { return "ip:" + abredis.ClientKey(c.ClientIP()) }

// Code counts a code request for email under RunnerKeys (rate_limited past
// the requester's budgets) and reports whether to mail the code. Past the
// address's inbox cap (otp_inbox: codes from anyone) it says no, unless
// this device applied with a code sent to the address before; the caller
// then answers as usual and mails nothing (lottery WithholdOTP), so the cap
// never locks the owner out with a 429. An address that does not parse
// counts nothing: the service refuses it (422) before any work.
func (g *Gate) Code(c *gin.Context, email string) (mail bool, err error) {
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return true, nil
	}
	rl, err := g.allow(c, []abredis.Key{{Kind: abredis.KindOTPInbox, Value: addr.Key}},
		g.RunnerKeys(c, abredis.KindOTPEmail, email)...)
	if err != nil || !rl.Result.Capped {
		return true, err
	}
	dev, _ := g.Guard.Device(c.Request)
	return g.Guard.KnowsAddress(c.Request.Context(), dev, addr.Key), nil
}

// Write is what a runner's write (an application, a join) presents to the
// gate.
type Write struct {
	Email string // the (requester, address) budget
	Proof string // the ALTCHA payload
	// IdempotencyKey and Body identify an application that may be retried:
	// the same key and body may present the same solved proof again. Empty
	// for a join, whose proof is strictly single use.
	IdempotencyKey string
	Body           []byte
}

// Runner is the gate of a runner's write for the event in the path:
//
//  1. the proof of work is verified (no Redis): a request without a valid
//     one spends no budget at all;
//  2. the request is counted under RunnerKeys (a refused one spends none);
//  3. an Idempotency-Key used with another body is idempotency_key_reused,
//     before the proof is spent (its solution belongs to the first request);
//  4. the proof is spent for this request.
//
// Errors are coded (see Coded); the rate-limit headers are set on c.
func (g *Gate) Runner(c *gin.Context, w Write) error {
	solved, err := g.Guard.VerifyProof(w.Proof, g.Svc.Now())
	if err != nil {
		return Coded(err)
	}
	if _, err := g.allow(c, nil, g.RunnerKeys(c, abredis.KindEmail, w.Email)...); err != nil {
		return err
	}
	ctx := c.Request.Context()
	if w.IdempotencyKey != "" {
		if err := g.Svc.CheckIdempotencyKey(ctx, c.Param("slug"), w.IdempotencyKey, w.Body); err != nil {
			return err
		}
	}
	return Coded(g.Guard.ClaimProof(ctx, solved, guard.RequestOwner(w.IdempotencyKey, w.Body)))
}

// RunnerUnproven is the gate of the web form's application sent without a
// proof of work (JavaScript off): the same budgets (RunnerKeys) and
// Idempotency-Key check as Runner, with no proof to verify or spend. It
// costs the sender its budgets, and the service takes such an entry for a
// person's review only (antibot.ReasonNoBrowserCheck), never accepted
// without it, so skipping the proof buys nothing. Errors are coded.
func (g *Gate) RunnerUnproven(c *gin.Context, w Write) error {
	if _, err := g.allow(c, nil, g.RunnerKeys(c, abredis.KindEmail, w.Email)...); err != nil {
		return err
	}
	if w.IdempotencyKey == "" {
		return nil
	}
	return g.Svc.CheckIdempotencyKey(c.Request.Context(), c.Param("slug"), w.IdempotencyKey, w.Body)
}

// RememberAddress records, after an application accepted with the code
// mailed to email, that the requesting device reads that address, so the
// inbox cap never holds back its codes.
func (g *Gate) RememberAddress(c *gin.Context, email string) {
	dev, ok := g.Guard.Device(c.Request)
	if !ok {
		return
	}
	if addr, err := identity.NormalizeEmail(email); err == nil {
		g.Guard.RememberAddress(c.Request.Context(), dev, addr.Key)
	}
}

// StaffLogin refuses a staff login attempt whose failure budgets are spent,
// so that it throttles the attacker, not the owner. Only failed attempts
// spend them (StaffLoginFailed): a team signing in from one office network
// never locks itself out, however many of them sign in.
//
//  1. The requesting address (ClientKey) has its own budget (staff_login):
//     an address that keeps failing is refused until the window passes.
//  2. A device that signed in to the account before (its signed sl_device
//     cookie, checked in the database) has a budget of its own per account
//     (staff_device) that strangers cannot spend: the owner's right password
//     and code work while the account is under attack.
//  3. Every other device shares a short per-account window (staff_account,
//     5 failures a minute) that paces guesses from many addresses; it never
//     locks the account for longer than the window, so the owner on a new
//     device waits at most a minute.
//
// Nothing is spent here. client is the requester (Client), its DeviceID the
// signed device cookie's id or "". Errors are coded; the rate-limit headers
// are set on c.
func (g *Gate) StaffLogin(c *gin.Context, email string, client lottery.ClientInfo) error {
	keys, err := g.staffKeys(c, email, client)
	if err != nil {
		return err
	}
	rl, err := g.Guard.Peek(c.Request.Context(), keys...)
	for k, v := range rl.Headers {
		c.Header(k, v)
	}
	return Coded(err)
}

// StaffLoginFailed spends one failure of the budgets StaffLogin checks,
// after the service refused the credentials (StaffLoginFailure). Errors
// are coded; a refusal here only means the budget is now spent, which the
// next attempt's StaffLogin reports.
func (g *Gate) StaffLoginFailed(c *gin.Context, email string, client lottery.ClientInfo) error {
	keys, err := g.staffKeys(c, email, client)
	if err != nil {
		return err
	}
	_, err = g.allow(c, nil, keys...)
	if lottery.CodeOf(err) == lottery.CodeRateLimited {
		return nil
	}
	return err
}

// StaffLoginFailure reports whether a staff login error is a failed
// credential (password, TOTP code, reused code) that spends the budgets.
func StaffLoginFailure(err error) bool {
	switch lottery.CodeOf(err) {
	case lottery.CodeInvalidCredentials, lottery.CodeTOTPReused:
		return true
	}
	return false
}

// staffKeys are the budgets of a staff login (StaffLogin).
func (g *Gate) staffKeys(c *gin.Context, email string, client lottery.ClientInfo) ([]abredis.Key, error) {
	known, err := g.Staff.DeviceKnown(c.Request.Context(), email, client.DeviceID)
	if err != nil {
		return nil, err
	}
	account := strings.ToLower(strings.TrimSpace(email))
	key := abredis.Key{Kind: abredis.KindStaffAccount, Value: account}
	if known {
		key = abredis.Key{Kind: abredis.KindStaffDevice, Value: account + "|" + client.DeviceID}
	}
	return []abredis.Key{{Kind: abredis.KindStaffLogin, Value: abredis.ClientKey(c.ClientIP())}, key}, nil
}
