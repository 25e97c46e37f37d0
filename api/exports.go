package api

// Data out (issue 14): the CSV exports of an event (entries.csv is fixed
// by API.md; results.csv, start-list.csv and payments.csv beside it), bib
// ranges and their assignment, and the entries list. Organizers of the
// event's organization only (requireRole on the admin group; another
// organization's event is a 404 through lottery/exports, which reaches it
// by Service.ManagedEvent).

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/exports"
)

func (h *handler) registerExports(admin *gin.RouterGroup) {
	admin.GET("/events/:slug/exports/:file", h.exportCSV)
	admin.GET("/events/:slug/bibs", h.bibRanges)
	admin.PUT("/events/:slug/bibs", h.setBibRanges)
	admin.POST("/events/:slug/bibs/assign", h.assignBibs)
	admin.GET("/events/:slug/entries", h.listEntries)
}

func actorOf(c *gin.Context) lottery.StaffAccount { return c.MustGet(staffKey).(lottery.StaffAccount) }

// exportCSV streams an export: 200 text/csv, a header row then one row
// per record; ?bom=0 leaves out the UTF-8 byte order mark written for
// Excel. A failure after the first bytes can only cut the download short
// (and is logged without its content).
func (h *handler) exportCSV(c *gin.Context) {
	x, err := h.Exports.Open(c.Request.Context(), actorOf(c), c.Param("slug"), c.Param("file"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	httpkit.StreamExport(c, h.Log, h.Exports, x)
}

// exportsEvent is the :slug event for an organizer's data route, or the
// answer (another organization's event: 404).
func (h *handler) exportsEvent(c *gin.Context) (lottery.Event, bool) {
	ev, err := h.Exports.Event(c.Request.Context(), actorOf(c), c.Param("slug"))
	if err != nil {
		writeError(c, h.Log, err)
		return lottery.Event{}, false
	}
	return ev, true
}

type bibRangeJSON struct {
	SubQueue string `json:"subqueue"`
	First    int    `json:"first"`
	Last     int    `json:"last"`
	// Confirmed is how many of the sub-queue's entries are due a bib (read only).
	Confirmed int `json:"confirmed"`
}

func (h *handler) bibRanges(c *gin.Context) {
	ctx := c.Request.Context()
	ev, ok := h.exportsEvent(c)
	if !ok {
		return
	}
	ranges, err := h.Exports.BibRanges(ctx, ev)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	counts, err := h.Exports.ConfirmedBySubQueue(ctx, ev)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	out := make([]bibRangeJSON, len(ranges))
	for i, r := range ranges {
		out[i] = bibRangeJSON{SubQueue: r.Key, First: r.First, Last: r.Last, Confirmed: counts[r.SubQueueID]}
	}
	c.JSON(http.StatusOK, gin.H{"ranges": out})
}

// setBibRanges takes {"ranges":[{"subqueue":"half:open","first":1,"last":500}]}
// (first and last 0 clear a range); a bad or overlapping range is 422 with
// the field ("bibs.half:open.first").
func (h *handler) setBibRanges(c *gin.Context) {
	var b struct {
		Ranges []bibRangeJSON `json:"ranges"`
	}
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	ctx := c.Request.Context()
	ev, ok := h.exportsEvent(c)
	if !ok {
		return
	}
	given := make([]exports.BibRange, len(b.Ranges))
	for i, r := range b.Ranges {
		given[i] = exports.BibRange{Key: r.SubQueue, First: r.First, Last: r.Last}
	}
	if err := h.Exports.SetBibRanges(ctx, actorOf(c), ev, given); err != nil {
		writeError(c, h.Log, err)
		return
	}
	h.bibRanges(c)
}

// assignBibs numbers the confirmed entries (idempotent); 422 with the
// field of a missing, too small or overlapping range.
func (h *handler) assignBibs(c *gin.Context) {
	ctx := c.Request.Context()
	ev, ok := h.exportsEvent(c)
	if !ok {
		return
	}
	plan, err := h.Exports.AssignBibs(ctx, actorOf(c), ev)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"assigned": plan.Assigned, "numbered": len(plan.Bibs)})
}

type listedEntryJSON struct {
	ID          string    `json:"id"`
	CreatedAt   time.Time `json:"created_at"`
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	Phone       string    `json:"phone"`
	Status      string    `json:"status"`
	SubQueue    string    `json:"subqueue"`
	RiskScore   int       `json:"risk_score"`
	ReviewState string    `json:"review_state"`
	Bib         int       `json:"bib,omitempty"`
}

// listEntries is the console's list as JSON: ?q= (e-mail, name, id
// prefix, phone), ?status=, ?subqueue=course:pace, ?after= (the previous
// page's "next"), newest first.
func (h *handler) listEntries(c *gin.Context) {
	ctx := c.Request.Context()
	ev, ok := h.exportsEvent(c)
	if !ok {
		return
	}
	page, err := h.Exports.List(ctx, ev, exports.ListQuery{Search: c.Query("q"), Status: c.Query("status"),
		SubQueue: c.Query("subqueue"), After: c.Query("after")})
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	keys := map[int64]string{}
	for _, sq := range ev.SubQueues() {
		keys[sq.ID] = sq.Key
	}
	out := make([]listedEntryJSON, len(page.Rows))
	for i, r := range page.Rows {
		out[i] = listedEntryJSON{ID: r.ID, CreatedAt: r.CreatedAt, Name: r.Name, Email: r.Email, Phone: r.Phone,
			Status: string(r.Status), SubQueue: keys[r.SubQueueID], RiskScore: r.RiskScore, ReviewState: r.ReviewState(), Bib: r.Bib}
	}
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, gin.H{"entries": out, "next": page.Next})
}
