package web

// Data out in the organizer console (issue 14): an event's entries list
// (searchable, filtered, paged by keyset) and its exports page (the CSV
// downloads, bib ranges per pace group, assigning bibs). The pages reach
// the event through lottery/exports, which goes through
// Service.ManagedEvent (another organization's event is a 404).

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/exports"
)

func (p *pages) registerData(r gin.IRoutes) {
	r.GET("/admin/events/:slug/entries", p.consoleEntries)
	r.GET("/admin/events/:slug/exports", p.consoleExports)
	r.GET("/admin/events/:slug/exports/:file", p.consoleExportCSV)
	r.POST("/admin/events/:slug/exports/bibs", p.consoleSaveBibs)
	r.POST("/admin/events/:slug/exports/bibs/assign", p.consoleAssignBibs)
}

// choice is an option of a select: its value and its name on the page.
type choice struct {
	Value string
	Label string
}

// entryLine is one row of the entries list, every value already a name.
type entryLine struct {
	ID       string
	Short    string
	Created  string
	Name     string
	Email    string
	Phone    string
	Status   string
	SubQueue string
	Review   string
	Flagged  bool
	Bib      int
}

type entriesPage struct {
	consoleBase
	Q         string
	Status    string
	SubQueue  string
	Statuses  []choice
	SubQueues []choice
	Rows      []entryLine
	Next      string // the next page's URL, "" on the last
	Paged     bool   // not the first page: offer the way back to it
	First     string // the first page's URL with the same search and filters
	FilterErr string // a refused filter, in the page's language
}

func (p *pages) consoleEntries(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok || !p.consoleEvent(c, &base, "entries") {
		return
	}
	ev := base.Event
	t := translator(p.lang(c))
	page := entriesPage{consoleBase: base, Q: c.Query("q"), Status: c.Query("status"), SubQueue: c.Query("subqueue"),
		Paged: c.Query("after") != ""}
	page.Statuses = append(page.Statuses, choice{"", t("data.status.any")})
	for _, s := range exports.Statuses {
		page.Statuses = append(page.Statuses, choice{string(s), t("data.status." + string(s))})
	}
	page.SubQueues = append(page.SubQueues, choice{"", t("data.subqueue.any")})
	names := map[int64]string{}
	for _, sq := range ev.SubQueues() {
		page.SubQueues = append(page.SubQueues, choice{sq.Key, ev.SubQueueName(sq.Key)})
		names[sq.ID] = ev.SubQueueName(sq.Key)
	}
	list, err := p.Exports.List(c.Request.Context(), ev, exports.ListQuery{Search: page.Q, Status: page.Status,
		SubQueue: page.SubQueue, After: c.Query("after")})
	status := http.StatusOK
	var le *lottery.Error
	switch {
	case errors.As(err, &le) && le.Code == lottery.CodeInvalidField:
		status, page.FilterErr = http.StatusUnprocessableEntity, t("data.filter.bad."+le.Field)
	case err != nil:
		p.fail(c, err)
		return
	}
	loc := ev.Location()
	for _, r := range list.Rows {
		page.Rows = append(page.Rows, entryLine{ID: r.ID, Short: r.ID[:8], Created: r.CreatedAt.In(loc).Format("2006-01-02 15:04"),
			Name: r.Name, Email: r.Email, Phone: r.Phone, Status: t("data.status." + string(r.Status)),
			SubQueue: names[r.SubQueueID], Review: t("data.review." + strings.ReplaceAll(r.ReviewState(), " ", "_")),
			Flagged: r.Flagged(), Bib: r.Bib})
	}
	q := url.Values{}
	for k, v := range map[string]string{"q": page.Q, "status": page.Status, "subqueue": page.SubQueue} {
		if v != "" {
			q.Set(k, v)
		}
	}
	page.First = c.Request.URL.Path + "?" + q.Encode()
	if list.Next != "" {
		q.Set("after", list.Next)
		page.Next = c.Request.URL.Path + "?" + q.Encode()
	}
	p.render(c, status, "console_entries", t("console.tab.entries"), page, nil)
}

// exportFile is a download link of the exports page.
type exportFile struct {
	Href  string
	Label string
	Help  string
}

// bibRow is one pace group's range on the exports page: the input as
// given (kept on an error) and the error shown next to each end.
type bibRow struct {
	Key       string
	Name      string
	First     string
	Last      string
	Confirmed int
	ErrFirst  string
	ErrLast   string
}

type exportsPage struct {
	consoleBase
	Files     []exportFile
	Bibs      []bibRow
	Confirmed int
	Confirm   bool   // the assign step's confirmation is shown
	Saved     bool   // the ranges were just saved
	Assigned  string // after an assignment: how many got a new bib
	Numbered  string // and how many hold one
	FormErr   string // a refused form, in the page's language
}

// exportsData fills the page from the stored ranges; given, when not nil,
// is the posted input to show instead, and err the refusal to place.
func (p *pages) exportsData(c *gin.Context, base consoleBase, given map[string][2]string, err error) (exportsPage, bool) {
	ctx := c.Request.Context()
	ev := base.Event
	t := translator(p.lang(c))
	page := exportsPage{consoleBase: base}
	for _, f := range exports.Files {
		k := strings.TrimSuffix(f, ".csv")
		page.Files = append(page.Files, exportFile{Href: "/admin/events/" + ev.Slug + "/exports/" + f,
			Label: t("data.file." + k), Help: t("data.file." + k + ".help")})
	}
	ranges, rerr := p.Exports.BibRanges(ctx, ev)
	if rerr != nil {
		p.fail(c, rerr)
		return page, false
	}
	counts, rerr := p.Exports.ConfirmedBySubQueue(ctx, ev)
	if rerr != nil {
		p.fail(c, rerr)
		return page, false
	}
	var le *lottery.Error
	errors.As(err, &le)
	for _, r := range ranges {
		row := bibRow{Key: r.Key, Name: ev.SubQueueName(r.Key), Confirmed: counts[r.SubQueueID]}
		if r.Set() {
			row.First, row.Last = strconv.Itoa(r.First), strconv.Itoa(r.Last)
		}
		if g, ok := given[r.Key]; ok {
			row.First, row.Last = g[0], g[1]
		}
		if le != nil {
			switch le.Field {
			case exports.BibField(r.Key, "first"):
				row.ErrFirst = bibMessage(t, le.Message)
			case exports.BibField(r.Key, "last"):
				row.ErrLast = bibMessage(t, le.Message)
			}
		}
		page.Confirmed += row.Confirmed
		page.Bibs = append(page.Bibs, row)
	}
	if le != nil {
		page.FormErr = bibMessage(t, le.Message)
	}
	return page, true
}

// bibMessages are the page's words for exports' range errors.
var bibMessages = map[string]string{exports.MsgBibNumber: "data.bibs.err.number", exports.MsgBibBounds: "data.bibs.err.bounds",
	exports.MsgBibOrder: "data.bibs.err.order", exports.MsgBibOverlap: "data.bibs.err.overlap",
	exports.MsgBibMissing: "data.bibs.err.missing", exports.MsgBibTooSmall: "data.bibs.err.small"}

func bibMessage(t func(string, ...any) string, msg string) string {
	if k, ok := bibMessages[msg]; ok {
		return t(k)
	}
	return t("error.badinput")
}

func (p *pages) consoleExports(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok || !p.consoleEvent(c, &base, "exports") {
		return
	}
	page, ok := p.exportsData(c, base, nil, nil)
	if !ok {
		return
	}
	page.Confirm = c.Query("step") == "assign"
	page.Saved = c.Query("saved") == "1"
	if n, err := strconv.Atoi(c.Query("assigned")); err == nil && n >= 0 {
		page.Assigned, page.Numbered = strconv.Itoa(n), c.Query("numbered")
		if _, err := strconv.Atoi(page.Numbered); err != nil {
			page.Numbered = ""
		}
	}
	p.render(c, http.StatusOK, "console_exports", translator(p.lang(c))("console.tab.exports"), page, nil)
}

// consoleExportCSV streams an export to a signed-in organizer, as the
// API's route does (UTF-8 with a byte order mark, for Excel).
func (p *pages) consoleExportCSV(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok {
		return
	}
	x, err := p.Exports.Open(c.Request.Context(), base.Staff, c.Param("slug"), c.Param("file"))
	if err != nil {
		p.fail(c, err)
		return
	}
	httpkit.StreamExport(c, p.Log, p.Exports, x)
}

// consoleSaveBibs stores the ranges form: each pace group's first and last
// bib (both empty: no range). A refusal shows the form again with the
// input kept and the error next to the field.
func (p *pages) consoleSaveBibs(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok || !p.consoleEvent(c, &base, "exports") {
		return
	}
	given := map[string][2]string{}
	var ranges []exports.BibRange
	var err error
	for _, sq := range base.Event.SubQueues() {
		first := strings.TrimSpace(c.PostForm(exports.BibField(sq.Key, "first")))
		last := strings.TrimSpace(c.PostForm(exports.BibField(sq.Key, "last")))
		given[sq.Key] = [2]string{first, last}
		r := exports.BibRange{Key: sq.Key}
		for _, end := range []struct {
			in  string
			out *int
			f   string
		}{{first, &r.First, "first"}, {last, &r.Last, "last"}} {
			if end.in == "" {
				continue
			}
			n, aerr := strconv.Atoi(end.in)
			if aerr != nil && err == nil {
				err = lottery.Fieldf(exports.BibField(sq.Key, end.f), exports.MsgBibNumber)
			}
			*end.out = n
		}
		if (first == "") != (last == "") && err == nil {
			f := "first"
			if last == "" {
				f = "last"
			}
			err = lottery.Fieldf(exports.BibField(sq.Key, f), exports.MsgBibBounds)
		}
		ranges = append(ranges, r)
	}
	if err == nil {
		err = p.Exports.SetBibRanges(c.Request.Context(), base.Staff, base.Event, ranges)
	}
	if err != nil {
		p.exportsRefused(c, base, given, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/events/"+base.Event.Slug+"/exports?saved=1#bibs")
}

// exportsRefused shows the exports page again with a refused form's
// error in place (422), or the error page for anything else.
func (p *pages) exportsRefused(c *gin.Context, base consoleBase, given map[string][2]string, err error) {
	if lottery.CodeOf(err) != lottery.CodeInvalidField {
		p.fail(c, err)
		return
	}
	page, ok := p.exportsData(c, base, given, err)
	if !ok {
		return
	}
	p.render(c, http.StatusUnprocessableEntity, "console_exports", translator(p.lang(c))("console.tab.exports"), page, nil)
}

// consoleAssignBibs numbers the confirmed entries (the confirmation step
// posts here) and shows how many got a bib.
func (p *pages) consoleAssignBibs(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok || !p.consoleEvent(c, &base, "exports") {
		return
	}
	plan, err := p.Exports.AssignBibs(c.Request.Context(), base.Staff, base.Event)
	if err != nil {
		p.exportsRefused(c, base, nil, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/events/"+base.Event.Slug+"/exports?assigned="+strconv.Itoa(plan.Assigned)+
		"&numbered="+strconv.Itoa(len(plan.Bibs))+"#bibs")
}
