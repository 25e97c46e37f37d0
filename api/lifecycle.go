package api

// Issue 14, the console's lifecycle on the API: an ordered sub-queue's
// waiting-room controls. (Unpublish and cancel are actions of the existing
// POST /api/v1/admin/events/:slug/:action route, lottery.Service.Transition.)

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// registerLifecycle mounts the waiting-room controls on the organizer group.
func (h *handler) registerLifecycle(admin *gin.RouterGroup) {
	admin.POST("/events/:slug/subqueues/:key/pause", h.pauseLine(true))
	admin.POST("/events/:slug/subqueues/:key/resume", h.pauseLine(false))
	admin.POST("/events/:slug/subqueues/:key/rate", h.setAdmitRate)
}

type lineJSON struct {
	SubQueue       string `json:"subqueue"`
	Paused         bool   `json:"paused"`
	AdmitPerMinute int    `json:"admit_per_minute"`
}

// pauseLine pauses or resumes the line: 200 with the line's state; 404 for
// an event of another organization or no such sub-queue, 422 for a drawn
// (not ordered) one, 409 conflict when it already is in that state.
func (h *handler) pauseLine(paused bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h.Waitroom.SetPaused(c.Request.Context(), staffOf(c), c.Param("slug"), c.Param("key"), paused); err != nil {
			writeError(c, h.Log, err)
			return
		}
		h.lineState(c)
	}
}

type rateBody struct {
	AdmitPerMinute *int `json:"admit_per_minute"`
}

// setAdmitRate sets the line's admissions per minute.
func (h *handler) setAdmitRate(c *gin.Context) {
	var b rateBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	if b.AdmitPerMinute == nil {
		writeError(c, h.Log, lottery.Fieldf("admit_per_minute", "give the admissions per minute"))
		return
	}
	if err := h.Waitroom.SetAdmitRate(c.Request.Context(), staffOf(c), c.Param("slug"), c.Param("key"), *b.AdmitPerMinute); err != nil {
		writeError(c, h.Log, err)
		return
	}
	h.lineState(c)
}

func (h *handler) lineState(c *gin.Context) {
	ev, err := h.Svc.ManagedEvent(c.Request.Context(), staffOf(c), c.Param("slug"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	for _, sq := range ev.SubQueues() {
		if sq.Key == c.Param("key") {
			c.JSON(http.StatusOK, lineJSON{SubQueue: sq.Key, Paused: sq.PausedAt != nil, AdmitPerMinute: sq.AdmitPerMinute})
			return
		}
	}
	writeError(c, h.Log, lottery.ErrNotFound)
}
