package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/antibot/guard"
	"github.com/startline/startline/antibot/identity"
	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/lottery"
)

// guardError maps the guard's failures to API errors.
func guardError(err error) error {
	switch {
	case errors.Is(err, guard.ErrRateLimited):
		return &lottery.Error{Code: lottery.CodeRateLimited, Message: "too many requests; wait and try again"}
	case errors.Is(err, guard.ErrProof):
		return &lottery.Error{Code: lottery.CodeInvalidProofOfWork, Field: "altcha", Message: strings.TrimPrefix(err.Error(), "invalid proof of work: ")}
	case errors.Is(err, abredis.ErrUnavailable):
		return &lottery.Error{Code: lottery.CodeUnavailable, Message: "temporarily unavailable; try again shortly"}
	}
	return err
}

// limit counts the request against keys, sets the rate-limit headers and
// answers 429 (with Retry-After) when refused. It reports whether to go on.
func (h *handler) limit(c *gin.Context, keys ...abredis.Key) bool {
	rl, err := h.Guard.Allow(c.Request.Context(), keys...)
	setLimitHeaders(c, rl)
	if err != nil {
		writeError(c, h.Log, guardError(err))
		return false
	}
	return true
}

func setLimitHeaders(c *gin.Context, rl guard.RateLimit) {
	for k, v := range rl.Headers {
		c.Header(k, v)
	}
}

// clientKeys are the keys every runner request is counted under: the client
// IP (IPv6 by /64) and the device cookie when the client keeps one.
func (h *handler) clientKeys(c *gin.Context) []abredis.Key { return clientKeys(c, h.Guard) }

func clientKeys(c *gin.Context, g *guard.Guard) []abredis.Key {
	keys := []abredis.Key{{Kind: abredis.KindIP, Value: abredis.ClientKey(c.ClientIP())}}
	if id, ok := g.Device(c.Request); ok {
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
// address spends only their own pair. The pages count through it too.
// Since a refused request spends nothing, the valve is only spent by
// requests the client's own budgets allowed.
func RunnerKeys(c *gin.Context, g *guard.Guard, kind abredis.Kind, email string) []abredis.Key {
	keys := append(clientKeys(c, g), abredis.Key{Kind: abredis.KindEvent, Value: c.Param("slug")})
	if e, err := identity.NormalizeEmail(email); err == nil {
		keys = append(keys, abredis.Key{Kind: kind, Value: requester(c) + "|" + e.Key})
	}
	return keys
}

// requester is who sends a request, for the budgets keyed by address and
// requester: the client's IP key (IPv6 by /64), which a stranger elsewhere
// cannot share, while a device cookie is the client's to drop or renew.
func requester(c *gin.Context) string { return "ip:" + abredis.ClientKey(c.ClientIP()) }

// AllowCode counts a code request for email under RunnerKeys (ErrRateLimited
// past the requester's budgets: 429) and reports whether to mail the code.
// Past the address's inbox cap (otp_inbox: codes from anyone) it says no,
// unless this device applied with a code sent to the address before; the
// caller then answers 202 as usual and mails nothing (lottery WithholdOTP),
// so the cap never locks the owner out with a 429. An address that does
// not parse counts nothing: the service refuses it (422) before any work.
// The pages call it too.
func AllowCode(c *gin.Context, g *guard.Guard, email string) (rl guard.RateLimit, mail bool, err error) {
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return guard.RateLimit{}, true, nil
	}
	ctx := c.Request.Context()
	rl, err = g.AllowCapped(ctx, []abredis.Key{{Kind: abredis.KindOTPInbox, Value: addr.Key}},
		RunnerKeys(c, g, abredis.KindOTPEmail, email)...)
	if err != nil || !rl.Result.Capped {
		return rl, true, err
	}
	dev, _ := g.Device(c.Request)
	return rl, g.KnowsAddress(ctx, dev, addr.Key), nil
}

// RememberAddress records, after an application accepted with the code
// mailed to email, that the requesting device reads that address, so the
// inbox cap never holds back its codes. The pages call it too.
func RememberAddress(c *gin.Context, g *guard.Guard, email string) {
	dev, ok := g.Device(c.Request)
	if !ok {
		return
	}
	if addr, err := identity.NormalizeEmail(email); err == nil {
		g.RememberAddress(c.Request.Context(), dev, addr.Key)
	}
}

// challenge issues an ALTCHA proof-of-work challenge (API.md), harder for
// clients without a device cookie or with an automation user agent.
func (h *handler) challenge(c *gin.Context) {
	if _, err := h.Svc.PublicEvent(c.Request.Context(), c.Param("slug")); err != nil {
		writeError(c, h.Log, err)
		return
	}
	if !h.limit(c, h.clientKeys(c)...) {
		return
	}
	risk := h.Guard.ChallengeRisk(c.Request, h.Svc.Network(c.ClientIP()))
	h.Guard.EnsureDevice(c.Writer, c.Request)
	ch, err := h.Guard.Challenge(h.Svc.Now(), risk)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, ch)
}
