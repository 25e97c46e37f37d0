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
	for k, v := range rl.Headers {
		c.Header(k, v)
	}
	if err != nil {
		writeError(c, h.Log, guardError(err))
		return false
	}
	return true
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
// PostgreSQL work) and the normalized address's under kind. The pages count
// through it too.
func RunnerKeys(c *gin.Context, g *guard.Guard, kind abredis.Kind, email string) []abredis.Key {
	keys := append(clientKeys(c, g), abredis.Key{Kind: abredis.KindEvent, Value: c.Param("slug")})
	return append(keys, emailKey(kind, email)...)
}

// emailKey counts by the normalized address, so Gmail dot and +tag variants
// share one budget.
func emailKey(kind abredis.Kind, raw string) []abredis.Key {
	if e, err := identity.NormalizeEmail(raw); err == nil {
		return []abredis.Key{{Kind: kind, Value: e.Key}}
	}
	return nil
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
