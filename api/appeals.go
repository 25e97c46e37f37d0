package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// Appeals: a rejected runner files one with the receipt token; reviewers
// list and decide them.

type appealBody struct {
	Token   string `json:"token"`
	Message string `json:"message"`
}

type appealJSON struct {
	AppealID  int64      `json:"appeal_id"`
	EntryID   string     `json:"entry_id"`
	Status    string     `json:"status"` // open, reinstated, upheld
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

func appealOut(a lottery.Appeal) appealJSON {
	st := a.Outcome
	if a.Open() {
		st = "open"
	}
	return appealJSON{AppealID: a.ID, EntryID: a.EntryID, Status: st, CreatedAt: a.CreatedAt, DecidedAt: a.DecidedAt}
}

func (h *handler) fileAppeal(c *gin.Context) {
	var b appealBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	a, err := h.Review.FileAppeal(c.Request.Context(), c.Param("id"), b.Token, b.Message)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusCreated, appealOut(a))
}

type reviewAppealJSON struct {
	appealJSON
	Event    string   `json:"event"`
	SubQueue string   `json:"subqueue"`
	Message  string   `json:"message"`
	Reasons  []string `json:"reasons"`
	Risk     int      `json:"risk_score"`
	Linked   int      `json:"linked_entries"` // entries sharing an identity or device key, or the cluster
	Note     string   `json:"note,omitempty"`
	By       string   `json:"decided_by,omitempty"`
}

func (h *handler) reviewAppeals(c *gin.Context) {
	ev, ls, err := h.Review.Appeals(c.Request.Context(), staffOf(c), c.Query("event"), c.Query("open") == "1")
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	out := make([]reviewAppealJSON, 0, len(ls))
	for _, l := range ls {
		out = append(out, reviewAppealJSON{appealJSON: appealOut(l.Appeal), Event: ev.Slug, SubQueue: l.SubQueue,
			Message: l.Message, Reasons: lottery.ReasonCodes(l.Entry.Risk), Risk: l.Entry.Risk.Score, Linked: l.Linked,
			Note: l.Note, By: l.DecidedBy})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"appeals": out})
}

type appealDecisionBody struct {
	Decision string `json:"decision"` // reinstate or uphold
	Note     string `json:"note"`
}

func (h *handler) decideAppeal(c *gin.Context) {
	var b appealDecisionBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	a, err := h.Review.DecideAppeal(c.Request.Context(), staffOf(c), c.Param("id"), b.Decision, b.Note)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, appealOut(a))
}
