package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/review"
)

// frozenListJSON is a sub-queue's frozen list: the leaves of entries_root.
type frozenListJSON struct {
	Event           string           `json:"event"`
	SubQueue        string           `json:"subqueue"`
	EntriesRoot     string           `json:"entries_root"`
	TreeSize        int              `json:"tree_size"`
	FrozenAt        time.Time        `json:"frozen_at"`
	RevealNotBefore time.Time        `json:"reveal_not_before"`
	Entries         []fairdraw.Entry `json:"entries"`
}

// frozenList publishes a frozen sub-queue's list (entry id, tickets, group
// pseudonym) so runners can check their line during the dispute window.
func (h *handler) frozenList(c *gin.Context) {
	l, err := h.Draws.FrozenList(c.Request.Context(), c.Param("slug"), c.Param("subqueue"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=300") // a frozen list never changes
	c.JSON(http.StatusOK, frozenListJSON{Event: l.Event, SubQueue: l.SubQueue, EntriesRoot: l.EntriesRoot,
		TreeSize: len(l.Entries), FrozenAt: l.FrozenAt, RevealNotBefore: l.RevealNotBefore, Entries: l.Entries})
}

// disputeJSON is a dispute as its runner and reviewers see it.
type disputeJSON struct {
	ID         int64      `json:"dispute_id"`
	EntryID    string     `json:"entry_id"`
	SubQueue   string     `json:"subqueue"`
	Message    string     `json:"message"`
	CreatedAt  time.Time  `json:"created_at"`
	Status     string     `json:"status"` // open | answered
	Outcome    string     `json:"outcome,omitempty"`
	Answer     string     `json:"answer,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	// The line the entry has in its frozen list (reviewers' view).
	InList  *bool  `json:"in_list,omitempty"`
	Tickets int    `json:"tickets,omitempty"`
	Group   string `json:"group,omitempty"`
}

func disputeView(d lottery.Dispute) disputeJSON {
	status := "answered"
	if d.Open() {
		status = "open"
	}
	return disputeJSON{ID: d.ID, EntryID: d.EntryID, SubQueue: d.SubQueue, Message: d.Message, CreatedAt: d.CreatedAt,
		Status: status, Outcome: d.Outcome, Answer: d.Answer, AnsweredAt: d.AnsweredAt}
}

func disputeLineView(l review.DisputeLine) disputeJSON {
	v := disputeView(l.Dispute)
	v.InList, v.Tickets, v.Group = &l.InList, l.Tickets, l.Group
	return v
}

type disputeBody struct {
	Token   string `json:"token"`
	Message string `json:"message"`
}

// fileDispute takes a runner's dispute of their frozen line, authenticated
// by the receipt token like the status route.
func (h *handler) fileDispute(c *gin.Context) {
	var b disputeBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	d, err := h.Review.FileDispute(c.Request.Context(), c.Param("id"), b.Token, b.Message)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusCreated, disputeView(d))
}

// entryDisputes lists an entry's disputes and their answers to the holder
// of its receipt token.
func (h *handler) entryDisputes(c *gin.Context) {
	v, err := h.Registration.EntryStatus(c.Request.Context(), c.Param("id"), c.Query("token"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	ds, err := h.Review.EntryDisputes(c.Request.Context(), v)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	out := make([]disputeJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, disputeView(d.Dispute))
	}
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, gin.H{"entry_id": v.Entry.ID, "disputes": out})
}

// reviewDisputes lists an event's disputes for reviewers, open ones first
// (?open=1: only those).
func (h *handler) reviewDisputes(c *gin.Context) {
	ev, ds, err := h.Review.Disputes(c.Request.Context(), staffOf(c), c.Query("event"), c.Query("open") == "1")
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	out := make([]disputeJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, disputeLineView(d))
	}
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, gin.H{"event": ev.Slug, "disputes": out})
}

type answerBody struct {
	Outcome string `json:"outcome"`
	Answer  string `json:"answer"`
}

// answerDispute records a reviewer's answer (upheld or denied, with a text
// the runner reads on the status page).
func (h *handler) answerDispute(c *gin.Context) {
	var b answerBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	d, err := h.Review.AnswerDispute(c.Request.Context(), staffOf(c), c.Param("id"), b.Outcome, b.Answer)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, disputeView(d))
}
