package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func (h *handler) listEvents(c *gin.Context) {
	evs, err := h.Svc.ListEvents(c.Request.Context())
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	now := h.Svc.Now()
	out := make([]eventJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, eventView(e, now))
	}
	c.Header("Cache-Control", "public, max-age=2")
	c.JSON(http.StatusOK, gin.H{"events": out})
}

func (h *handler) getEvent(c *gin.Context) {
	ev, err := h.Svc.PublicEvent(c.Request.Context(), c.Param("slug"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=2")
	c.JSON(http.StatusOK, eventView(ev, h.Svc.Now()))
}

func (h *handler) createEvent(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	var b eventSpecJSON
	if err := decodeJSON(body, &b); err != nil {
		writeError(c, h.Log, err)
		return
	}
	spec, err := b.spec()
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	ev, err := h.Svc.CreateEvent(c.Request.Context(), staffOf(c), spec)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusCreated, eventView(ev, h.Svc.Now()))
}

func (h *handler) transition(c *gin.Context) {
	ev, err := h.Svc.Transition(c.Request.Context(), staffOf(c), c.Param("slug"), c.Param("action"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, eventView(ev, h.Svc.Now()))
}
