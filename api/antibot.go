package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// challenge issues an ALTCHA proof-of-work challenge (API.md), harder for
// clients without a device cookie or with an automation user agent.
func (h *handler) challenge(c *gin.Context) {
	if _, err := h.Svc.PublicEvent(c.Request.Context(), c.Param("slug")); err != nil {
		writeError(c, h.Log, err)
		return
	}
	if err := h.gate.Limit(c); err != nil {
		writeError(c, h.Log, err)
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
