package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/gate"
	"github.com/startline/startline/lottery"
)

type joinBody struct {
	Course    string `json:"course"`
	PaceGroup string `json:"pace_group"`
	Email     string `json:"email"`
	Altcha    string `json:"altcha"`
}

// joinJSON is a join's answer. A pre-queue ticket has position 0 until the
// opening (opens_at), when the pre-queue is placed in random order.
type joinJSON struct {
	Ticket   string     `json:"ticket"`
	Position int64      `json:"position"`
	Ahead    int64      `json:"ahead"`
	Prequeue bool       `json:"prequeue,omitempty"`
	OpensAt  *time.Time `json:"opens_at,omitempty"`
	prequeueJSON
}

// prequeueJSON is what a pre-queue ticket's holder may check: its public
// id in the order to be published, the commitment to that order's seed
// while it waits, and where the order is published (prequeue-v1).
type prequeueJSON struct {
	PublicID           string `json:"public_id,omitempty"`
	PrequeueCommitment string `json:"prequeue_commitment,omitempty"`
	PrequeueURL        string `json:"prequeue_url,omitempty"`
}

// joinQueue gives a runner a place in an ordered sub-queue's waiting room.
// A join costs a proof of work and counts against the same IP, device and
// (requester, address) budgets as an application, so holding many places
// costs as much as many entries.
func (h *handler) joinQueue(c *gin.Context) {
	var b joinBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	// The gate of an application, with a single-use proof.
	if err := h.gate.Runner(c, gate.Write{Email: b.Email, Proof: b.Altcha}); err != nil {
		writeError(c, h.Log, err)
		return
	}
	res, err := h.Waitroom.JoinQueue(c.Request.Context(), c.Param("slug"),
		lottery.JoinRequest{Course: b.Course, PaceGroup: b.PaceGroup, Email: b.Email}, h.gate.Client(c))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	out := joinJSON{Ticket: res.Ticket, Position: res.Place, Ahead: res.Ahead, Prequeue: res.Prequeue}
	if res.Prequeue {
		out.OpensAt = &res.OpensAt
		out.prequeueJSON = prequeueJSON{PublicID: res.PublicID, PrequeueCommitment: res.PrequeueCommitment,
			PrequeueURL: lottery.PrequeueArtifactPath(c.Param("slug"), lottery.SubQueueKey(b.Course, b.PaceGroup))}
	}
	c.JSON(http.StatusCreated, out)
}

type queueJSON struct {
	Position           int64      `json:"position"`
	Ahead              int64      `json:"ahead"`
	ETASeconds         int        `json:"eta_seconds"`
	Admitted           bool       `json:"admitted"`
	AdmissionToken     string     `json:"admission_token,omitempty"`
	AdmissionExpiresAt *time.Time `json:"admission_expires_at,omitempty"`
	Used               bool       `json:"used,omitempty"`
	Lapsed             bool       `json:"lapsed,omitempty"`
	SoldOut            bool       `json:"sold_out,omitempty"`
	Paused             bool       `json:"paused,omitempty"` // the organizer paused the line (issue 14)
	PollAfterSeconds   int        `json:"poll_after_seconds"`
	// Prequeue: no place until opens_at; eta_seconds counts down to it.
	Prequeue bool       `json:"prequeue,omitempty"`
	OpensAt  *time.Time `json:"opens_at,omitempty"`
	// Ticket replaces a pre-queue ticket once it has a place: polling the
	// new one is cheaper for the server.
	Ticket string `json:"ticket,omitempty"`
	prequeueJSON
}

// queueStatus answers a waiting-room poll (the hottest path at a release):
// no database read for a waiting ticket. It is not rate-limited per client:
// a poll is cheaper than the Redis round trip a limit would cost, and
// poll_after_seconds tells well-behaved clients how often to ask.
func (h *handler) queueStatus(c *gin.Context) {
	v, err := h.Waitroom.QueueStatus(c.Request.Context(), c.Param("ticket"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	out := queueJSON{Position: v.Place, Ahead: v.Ahead, ETASeconds: v.ETASeconds, Admitted: v.Admitted,
		AdmissionToken: v.AdmissionToken, AdmissionExpiresAt: v.AdmissionExpiresAt, Used: v.Used, Lapsed: v.Lapsed,
		SoldOut: v.SoldOut, Paused: v.Paused, PollAfterSeconds: v.PollAfter(), Prequeue: v.Prequeue, Ticket: v.Ticket,
		prequeueJSON: prequeueJSON{PublicID: v.PublicID, PrequeueCommitment: v.PrequeueCommitment}}
	if v.Prequeue {
		out.OpensAt = &v.OpensAt
	}
	if v.PublicID != "" {
		out.PrequeueURL = lottery.PrequeueArtifactPath(v.EventSlug, v.SubQueue.Key)
	}
	c.JSON(http.StatusOK, out)
}

// prequeueArtifact publishes a sub-queue's pre-queue (prequeue-v1): the
// commitment until the line opens, then everything needed to recompute
// its order, which never changes again. No personal data: public ticket
// ids only.
func (h *handler) prequeueArtifact(c *gin.Context) {
	p, err := h.Waitroom.PublishedPrequeue(c.Request.Context(), c.Param("slug"), c.Param("subqueue"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	if p.Placed {
		c.Header("Cache-Control", "public, max-age=3600, immutable")
	} else {
		c.Header("Cache-Control", "public, max-age=2")
	}
	c.Header("Vary", "Accept-Encoding")
	if strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
		c.Header("Content-Encoding", "gzip")
		c.Data(http.StatusOK, "application/json", p.Gzip)
		return
	}
	c.Data(http.StatusOK, "application/json", p.JSON)
}
