package web

// Issue 14, one event in the organizer console: the overview (status,
// window, sub-queues with their draw progress, the commitment, the next
// lifecycle steps), a confirmation page for every step, the capacity and
// waiting-room forms, and the event's audit log.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
)

// lifecycleActions are the steps the overview offers, in lifecycle order;
// each goes through its confirmation page.
var lifecycleActions = []string{lottery.ActionPublish, lottery.ActionUnpublish, lottery.ActionClose, lottery.ActionFreeze,
	lottery.ActionReveal, lottery.ActionDraw, lottery.ActionPublishResults, lottery.ActionSettle, lottery.ActionCancel}

// registerLifecycle mounts the overview, the confirmations, the forms and
// the audit log.
func (p *pages) registerLifecycle(r gin.IRoutes) {
	r.GET("/admin/events/:slug", p.consoleOverview)
	r.GET("/admin/events/:slug/confirm/:action", p.consoleConfirm)
	r.POST("/admin/events/:slug/actions/:action", p.consoleAction)
	r.POST("/admin/events/:slug/subqueues/:key/:control", p.consoleSubQueue)
	r.GET("/admin/events/:slug/audit", p.consoleAudit)
}

// sqRow is one sub-queue on the overview.
type sqRow struct {
	lottery.SubQueue
	Name    string
	Entries int
	Draw    string // "", or pending, drawing, drawn once frozen
	Info    lottery.DrawInfo
	Paused  bool
	Err     *lottery.Error // a refused form of this row, shown in place
	ErrText string
	ErrForm string // which form was refused: capacity, rate, pause, resume
}

type overviewData struct {
	consoleBase
	Phase   lottery.EventStatus
	Rows    []sqRow
	Actions []string
	// Running: the draw is under way; the page refreshes itself.
	Running bool
	// Draws counts the sub-queues by draw state once frozen.
	Pending, Drawing, Drawn int
	Done                    string // the step or change just made (?done=)
	// Cards counts the saved cards' charges (cardcharge.go); nil: no card on file.
	Cards *offers.CardChargeCounts
}

// overview gathers the overview of base.Event.
func (p *pages) overview(c *gin.Context, base consoleBase) (overviewData, error) {
	ctx := c.Request.Context()
	ev := base.Event
	now := p.Svc.Now()
	d := overviewData{consoleBase: base, Phase: ev.Phase(now), Done: c.Query("done")}
	counts, err := p.Svc.EntryCounts(ctx, base.Staff, ev)
	if err != nil {
		return d, err
	}
	draws := map[string]lottery.DrawInfo{}
	if ev.FrozenAt != nil && ev.Status != lottery.EventDraft {
		if _, ds, err := p.Draws.Draws(ctx, ev.Slug); err == nil {
			for _, di := range ds {
				draws[di.SubQueue] = di
			}
		} else if lottery.CodeOf(err) != lottery.CodeNotFound {
			return d, err
		}
	}
	for _, sq := range ev.SubQueues() {
		row := sqRow{SubQueue: sq, Name: ev.SubQueueName(sq.Key), Entries: counts[sq.ID], Paused: sq.PausedAt != nil}
		if di, ok := draws[sq.Key]; ok {
			row.Info, row.Draw = di, drawState(ev, di)
			switch row.Draw {
			case "pending":
				d.Pending++
			case lottery.DrawDrawing:
				d.Drawing++
			case lottery.DrawDrawn:
				d.Drawn++
			}
		}
		d.Rows = append(d.Rows, row)
	}
	d.Running = ev.DrawRequestedAt != nil && ev.Status == lottery.EventFrozen && d.Pending+d.Drawing > 0
	d.Actions = nextActions(ev, now)
	d.Cards, err = p.cardCounts(c, ev)
	return d, err
}

// drawState names a sub-queue's draw for the organizer: pending once the
// draw is requested (or before: frozen, waiting for it), drawing, drawn.
func drawState(ev lottery.Event, di lottery.DrawInfo) string {
	switch di.Status {
	case lottery.DrawDrawing, lottery.DrawDrawn:
		return di.Status
	}
	if ev.DrawRequestedAt != nil {
		return "pending"
	}
	return lottery.DrawFrozen
}

// nextActions are the steps the event's state allows at now (NextStatus),
// and the reveal of a frozen event during its dispute window, which the
// confirmation then refuses with the window's end.
func nextActions(ev lottery.Event, now time.Time) []string {
	var out []string
	for _, a := range lifecycleActions {
		_, err := ev.NextStatus(a, now)
		if err == nil || a == lottery.ActionReveal && lottery.CodeOf(err) == lottery.CodeDisputeWindowOpen {
			out = append(out, a)
		}
	}
	return out
}

func (p *pages) consoleOverview(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok || !p.consoleEvent(c, &base, "overview") {
		return
	}
	d, err := p.overview(c, base)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.render(c, http.StatusOK, "console_overview", base.Event.Name, d, nil)
}

// confirmData is a step's confirmation page.
type confirmData struct {
	consoleBase
	Action string
	Phase  lottery.EventStatus
	// Offers and Paid count what a cancel ends and refunds.
	Entries int
	Beacon  string // reveal: the beacon typed, kept on a refusal
	Round   string // freeze: the beacon round typed
	// RevealAt is the end of the dispute window, the earliest reveal.
	RevealAt *time.Time
}

func (p *pages) confirmPage(c *gin.Context, base consoleBase, action string) (confirmData, bool) {
	if !slices.Contains(lifecycleActions, action) {
		p.fail(c, lottery.ErrNotFound)
		return confirmData{}, false
	}
	d := confirmData{consoleBase: base, Action: action, Phase: base.Event.Phase(p.Svc.Now())}
	if at, ok := lottery.RevealNotBefore(base.Event); ok {
		d.RevealAt = &at
	}
	if action == lottery.ActionCancel {
		counts, err := p.Svc.EntryCounts(c.Request.Context(), base.Staff, base.Event)
		if err != nil {
			p.fail(c, err)
			return d, false
		}
		for _, n := range counts {
			d.Entries += n
		}
	}
	return d, true
}

func (p *pages) consoleConfirm(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok || !p.consoleEvent(c, &base, "overview") {
		return
	}
	d, ok := p.confirmPage(c, base, c.Param("action"))
	if !ok {
		return
	}
	p.render(c, http.StatusOK, "console_confirm", base.Event.Name, d, nil)
}

// consoleAction carries out a confirmed step through the API's own call
// (lottery.Service.Transition); a refusal is shown on the confirmation.
func (p *pages) consoleAction(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok || !p.consoleEvent(c, &base, "overview") {
		return
	}
	action := c.Param("action")
	d, ok := p.confirmPage(c, base, action)
	if !ok {
		return
	}
	d.Beacon, d.Round = strings.TrimSpace(c.PostForm("beacon")), strings.TrimSpace(c.PostForm("beacon_round"))
	_, err := p.Svc.Transition(c.Request.Context(), base.Staff, base.Event.Slug, action,
		lottery.TransitionParams{Beacon: d.Beacon, BeaconRound: d.Round})
	if err != nil {
		switchByLink(c, "/admin/events/"+url.PathEscape(base.Event.Slug)+"/confirm/"+action)
		p.refuse(c, "console_confirm", base.Event.Name, d, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/events/"+url.PathEscape(base.Event.Slug)+"?done="+url.QueryEscape(action))
}

// refuse shows a refused form on its page with the translated reason; an
// internal error or an outage gets the error page.
func (p *pages) refuse(c *gin.Context, page, title string, data any, err error) {
	if _, ok := refusal(err); !ok {
		p.fail(c, err)
		return
	}
	p.render(c, httpkit.StatusOf(err), page, title, data, err)
}

// refusal is the coded error a form shows in place (a step or value the
// event's state refuses); false for what the error page shows instead:
// not found, forbidden, an outage or an internal error.
func refusal(err error) (*lottery.Error, bool) {
	var le *lottery.Error
	if !errors.As(err, &le) {
		return nil, false
	}
	switch le.Code {
	case lottery.CodeInternal, lottery.CodeUnavailable, lottery.CodeNotFound, lottery.CodeForbidden:
		return nil, false
	}
	return le, true
}

// consoleSubQueue takes a sub-queue's form: capacity, pause, resume, rate.
// A refusal is shown on the overview beside the form.
func (p *pages) consoleSubQueue(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok || !p.consoleEvent(c, &base, "overview") {
		return
	}
	ctx := c.Request.Context()
	ev, key, control := base.Event, c.Param("key"), c.Param("control")
	course, pace, _ := strings.Cut(key, ":")
	if _, found := ev.SubQueue(course, pace); !found {
		p.fail(c, lottery.ErrNotFound)
		return
	}
	number := func(field string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(c.PostForm(field)))
		if err != nil {
			return 0, lottery.Fieldf(field, "give a whole number")
		}
		return n, nil
	}
	var err error
	switch control {
	case "capacity":
		var n int
		if n, err = number("capacity"); err == nil {
			_, err = p.Offers.SetCapacity(ctx, base.Staff, ev.Slug, key, n)
		}
	case "pause", "resume":
		err = p.Waitroom.SetPaused(ctx, base.Staff, ev.Slug, key, control == "pause")
	case "rate":
		var n int
		if n, err = number("admit_per_minute"); err == nil {
			err = p.Waitroom.SetAdmitRate(ctx, base.Staff, ev.Slug, key, n)
		}
	default:
		p.fail(c, lottery.ErrNotFound)
		return
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/admin/events/"+url.PathEscape(ev.Slug)+"?done="+url.QueryEscape(control)+
			"#sq-"+course+"--"+pace)
		return
	}
	le, ok := refusal(err)
	if !ok {
		p.fail(c, err)
		return
	}
	// Show the overview again, the refusal beside the form.
	if fresh, ferr := p.Svc.ManagedEvent(ctx, base.Staff, ev.Slug); ferr == nil {
		base.Event = fresh
	}
	d, oerr := p.overview(c, base)
	if oerr != nil {
		p.fail(c, oerr)
		return
	}
	switchByLink(c, "/admin/events/"+url.PathEscape(ev.Slug))
	lang := p.lang(c)
	for i := range d.Rows {
		if d.Rows[i].Key == key {
			d.Rows[i].Err, d.Rows[i].ErrForm = le, control
			d.Rows[i].ErrText = translator(lang)("console.refused." + le.Code)
			if m, ok := codeMessages[lang][le.Code]; ok {
				d.Rows[i].ErrText = m
			}
		}
	}
	p.render(c, httpkit.StatusOf(err), "console_overview", ev.Name, d, nil)
}

// auditData is one page of the event's audit log or event log.
type auditData struct {
	consoleBase
	View   string // staff (audit_log) or log (event_log)
	Audit  []lottery.AuditEntry
	Log    []lottery.EventLogEntry
	Next   int64 // the id to page on from, 0 on the last page
	Before int64
}

func (p *pages) consoleAudit(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok || !p.consoleEvent(c, &base, "audit") {
		return
	}
	ctx := c.Request.Context()
	d := auditData{consoleBase: base, View: "staff"}
	if c.Query("view") == "log" {
		d.View = "log"
	}
	if b := c.Query("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			p.fail(c, lottery.ErrNotFound)
			return
		}
		d.Before = n
	}
	var err error
	if d.View == "staff" {
		if d.Audit, err = p.Svc.EventAudit(ctx, base.Staff, base.Event.Slug, d.Before); err == nil && len(d.Audit) == lottery.AuditPageSize {
			d.Next = d.Audit[len(d.Audit)-1].ID
		}
	} else {
		if d.Log, err = p.Svc.EventLog(ctx, base.Staff, base.Event.Slug, d.Before); err == nil && len(d.Log) == lottery.AuditPageSize {
			d.Next = d.Log[len(d.Log)-1].ID
		}
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	p.render(c, http.StatusOK, "console_audit", base.Event.Name, d, nil)
}

// The audit page's template helpers: plain words for log kinds, states,
// actors and details.
func init() {
	funcs["auditAction"] = auditAction
	funcs["auditDetails"] = auditDetails
	funcs["statusWord"] = statusWord
	funcs["actorWord"] = actorWord
	funcs["subqueueOf"] = func(target string) string { _, key, _ := strings.Cut(target, "/"); return key }
}

type tfunc = func(string, ...any) string

// tryT translates key, or returns "" when the table has no such key.
func tryT(t tfunc, key string) string {
	if s := t(key); s != key {
		return s
	}
	return ""
}

// auditAction names an audit action or a log kind in words
// ("event.published" → "Published"); an unknown one reads as its words.
func auditAction(t tfunc, action string) string {
	if s := tryT(t, "console.log."+action); s != "" {
		return s
	}
	return strings.NewReplacer(".", " ", "_", " ").Replace(action)
}

// statusWord names an event, entry or offer state.
func statusWord(t tfunc, s string) string {
	if s == "" {
		return "—"
	}
	for _, k := range []string{"status.", "console.state."} {
		if w := tryT(t, k+s); w != "" {
			return w
		}
	}
	return s
}

// actorWord names a log actor that is not a staff member.
func actorWord(t tfunc, actor string) string {
	switch {
	case actor == "runner":
		return t("console.audit.runner")
	case strings.HasPrefix(actor, "system"):
		return t("console.audit.system")
	}
	return actor
}

type detailLine struct{ Label, Value string }

// auditDetails puts a record's details in plain words: known keys get a
// label, sub-queue keys their names, amounts in minor units money.
func auditDetails(t tfunc, ev lottery.Event, d map[string]any) []detailLine {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]detailLine, 0, len(keys))
	for _, k := range keys {
		label := tryT(t, "console.detail."+k)
		if label == "" {
			label = strings.ReplaceAll(k, "_", " ")
		}
		out = append(out, detailLine{Label: label, Value: detailValue(t, ev, k, d[k])})
	}
	return out
}

func detailValue(t tfunc, ev lottery.Event, key string, v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "—"
		}
		if key == "subqueue" {
			return ev.SubQueueName(x)
		}
		if strings.HasSuffix(key, "status") {
			return statusWord(t, x)
		}
		return x
	case float64:
		if strings.HasSuffix(key, "_minor") {
			return lottery.Money{Amount: int64(x), Currency: ev.Currency}.String()
		}
		if x == float64(int64(x)) {
			return formatCount(int64(x))
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return t("console.yes")
		}
		return t("console.no")
	case nil:
		return "—"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
