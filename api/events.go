package api

import (
	"bytes"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
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

// eventSpec reads an event's JSON body (POST and PUT /admin/events);
// false when it answered with the error.
func (h *handler) eventSpec(c *gin.Context) (lottery.EventSpec, bool) {
	var b eventSpecJSON
	if _, ok := h.bind(c, &b); !ok {
		return lottery.EventSpec{}, false
	}
	spec, err := b.spec()
	if err != nil {
		writeError(c, h.Log, err)
		return lottery.EventSpec{}, false
	}
	return spec, true
}

func (h *handler) createEvent(c *gin.Context) {
	spec, ok := h.eventSpec(c)
	if !ok {
		return
	}
	ev, err := h.Svc.CreateEvent(c.Request.Context(), staffOf(c), spec)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusCreated, eventView(ev, h.Svc.Now()))
}

type transitionBody struct {
	Beacon      string `json:"beacon"`
	BeaconRound string `json:"beacon_round"`
}

func (h *handler) transition(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	var b transitionBody
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeJSON(body, &b); err != nil {
			writeError(c, h.Log, err)
			return
		}
	}
	action := c.Param("action")
	ev, err := h.Svc.Transition(c.Request.Context(), staffOf(c), c.Param("slug"), action,
		lottery.TransitionParams{Beacon: b.Beacon, BeaconRound: b.BeaconRound})
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	status := http.StatusOK
	if action == lottery.ActionDraw {
		status = http.StatusAccepted // drawn by workers; GET .../draws shows progress
	}
	c.JSON(status, eventView(ev, h.Svc.Now()))
}

type drawJSON struct {
	SubQueue     string     `json:"subqueue"`
	Status       string     `json:"status"`
	Capacity     int        `json:"capacity"`
	Entries      int        `json:"entries"`
	EntriesRoot  string     `json:"entries_root"`
	Commitment   string     `json:"commitment"`
	BeaconRound  string     `json:"beacon_round,omitempty"`
	SeedSecret   string     `json:"seed_secret,omitempty"`
	Beacon       *string    `json:"beacon,omitempty"`
	Selected     int        `json:"selected"`
	Waitlisted   int        `json:"waitlisted"`
	ArtifactHash string     `json:"artifact_sha256,omitempty"`
	ArtifactURL  string     `json:"artifact_url,omitempty"`
	DrawnAt      *time.Time `json:"drawn_at,omitempty"`
	// The odds published at freeze and, once drawn, the selection by
	// ticket count beside them (lottery/drawstats).
	oddsFields
	Selection []selectionJSON `json:"selection,omitempty"`
}

type capacityBody struct {
	Capacity *int `json:"capacity"`
}

func (h *handler) setCapacity(c *gin.Context) {
	var b capacityBody
	_, ok := h.bind(c, &b)
	if !ok {
		return
	}
	if b.Capacity == nil {
		writeError(c, h.Log, lottery.Fieldf("capacity", "give the new capacity"))
		return
	}
	issued, err := h.Offers.SetCapacity(c.Request.Context(), staffOf(c), c.Param("slug"), c.Param("key"), *b.Capacity)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"subqueue": c.Param("key"), "capacity": *b.Capacity, "offers_issued": len(issued)})
}

func (h *handler) offerStats(c *gin.Context) {
	stats, err := h.Offers.OfferStats(c.Request.Context(), staffOf(c), c.Param("slug"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	type row struct {
		SubQueue string  `json:"subqueue"`
		Capacity int     `json:"capacity"`
		Pending  int     `json:"pending"`
		Accepted int     `json:"accepted"`
		Paid     int     `json:"paid"`
		Declined int     `json:"declined"`
		Expired  int     `json:"expired"`
		Void     int     `json:"void"`
		FillRate float64 `json:"fill_rate"` // paid ÷ capacity
	}
	out := make([]row, 0, len(stats))
	for _, s := range stats {
		r := row{SubQueue: s.SubQueue, Capacity: s.Capacity, Pending: s.Pending, Accepted: s.Accepted, Paid: s.Paid,
			Declined: s.Declined, Expired: s.Expired, Void: s.Void}
		if s.Capacity > 0 {
			r.FillRate = float64(s.Paid) / float64(s.Capacity)
		}
		out = append(out, r)
	}
	c.JSON(http.StatusOK, gin.H{"subqueues": out})
}
