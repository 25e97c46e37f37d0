package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/series"
)

// MaxHistoryBody bounds an uploaded history file (the API's other bodies
// are far smaller).
const MaxHistoryBody = 8 << 20

type seriesBody struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

func (h *handler) createSeries(c *gin.Context) {
	var b seriesBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	s, err := h.Series.Create(c.Request.Context(), staffOf(c), lottery.Series{Slug: b.Slug, Name: b.Name})
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"slug": s.Slug, "name": s.Name})
}

type attachBody struct {
	Event        string `json:"event"`
	EditionYear  int    `json:"edition_year"`
	EditionLabel string `json:"edition_label"`
}

func (h *handler) attachEvent(c *gin.Context) {
	var b attachBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	a := series.Attach{Series: c.Param("slug"), Event: b.Event, EditionYear: b.EditionYear, EditionLabel: b.EditionLabel}
	if err := h.Series.AttachEvent(c.Request.Context(), staffOf(c), a); err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"series": a.Series, "event": a.Event, "edition_year": a.EditionYear, "edition_label": a.EditionLabel})
}

// importHistory takes a history CSV as the body (text/csv) and answers how
// many rows were stored; a bad row is a 422 naming "rows[N].column".
func (h *handler) importHistory(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxHistoryBody)
	n, err := h.Series.ImportHistory(c.Request.Context(), staffOf(c), c.Param("slug"), c.Request.Body)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"series": c.Param("slug"), "rows": n})
}

type claimBody struct {
	Decision string `json:"decision"`
	Note     string `json:"note"`
}

// decideClaim rules on an entry's ticket claim: accept or decline; after
// freeze 409 tickets_frozen.
func (h *handler) decideClaim(c *gin.Context) {
	var b claimBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	e, err := h.Review.DecideClaim(c.Request.Context(), staffOf(c), c.Param("id"), b.Decision, b.Note)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"entry_id": e.ID, "claim_status": e.ClaimStatus, "tickets": e.Tickets,
		"counted_applications": e.PreviousApplications})
}
