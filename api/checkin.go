package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// registerCheckin adds race-day check-in (issue 15): staff who review an
// event's entries (organizers and reviewers of its organization) post a
// scanned code and record the bib's pickup, once.
func (h *handler) registerCheckin(v1 *gin.RouterGroup) {
	if h.Checkin == nil {
		return
	}
	v1.POST("/checkin", h.staffAuth, requireRole(lottery.RoleReviewer, lottery.RoleOrganizer), h.checkin)
}

type checkinBody struct {
	Code  string `json:"code"`
	Event string `json:"event"` // optional: the event staff chose
}

// checkin answers 200 with the runner for a pickup recorded now, 409
// already_picked_up (with picked_up_at) or not_confirmed (with reason), and
// 404 for an entry of another organization's event.
func (h *handler) checkin(c *gin.Context) {
	var b checkinBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	res, err := h.Checkin.CheckIn(c.Request.Context(), staffOf(c), b.Event, b.Code)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	e := res.Entry
	body := gin.H{"entry": e.ID, "event": e.EventSlug, "name": e.Name, "birth_year": e.BirthDate.Year(),
		"bib": e.Bib, "subqueue": e.SubQueue, "picked_up_at": e.PickedUpAt}
	if ev, err := h.Svc.CachedEvent(c.Request.Context(), e.EventSlug); err == nil {
		body["subqueue_name"] = ev.SubQueueName(e.SubQueue)
	}
	if r := res.Refusal; r != nil {
		body["error"] = errorDetail{Code: r.Code, Message: r.Error()}
		body["reason"] = r.Reason
		c.JSON(http.StatusConflict, body)
		return
	}
	c.JSON(http.StatusOK, body)
}
