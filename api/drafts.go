package api

// A draft event edited in full (issue 14): PUT /api/v1/admin/events/:slug
// takes the body POST /api/v1/admin/events takes and replaces everything
// of the draft (lottery.Service.ReplaceDraft); once published, 409.

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func (h *handler) registerDrafts(admin gin.IRoutes) {
	admin.PUT("/events/:slug", h.replaceDraft)
}

func (h *handler) replaceDraft(c *gin.Context) {
	spec, ok := h.eventSpec(c)
	if !ok {
		return
	}
	ev, err := h.Svc.ReplaceDraft(c.Request.Context(), staffOf(c), c.Param("slug"), spec)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, eventView(ev, h.Svc.Now()))
}
