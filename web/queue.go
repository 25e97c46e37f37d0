package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/gate"
	"github.com/startline/startline/lottery"
)

// The waiting room of ordered (first-come) pace groups: a join page, then a
// waiting page that refreshes itself until the runner is admitted and links
// to the apply form with the admission token.

// queueCookie keeps what the joining browser chose (event, pace group,
// e-mail address) for the waiting page's apply link. It is scoped to that
// ticket's page, so the address never travels in a URL or to other pages.
const queueCookie = "sl_queue"

// joinPage is the join form.
type joinPage struct {
	Event     lottery.Event
	Course    lottery.Course
	SubQueue  lottery.SubQueue
	Email     string
	Open      bool // the form is shown only while the line takes joins
	Prequeue  bool // it takes them before the window: places are drawn at the opening
	Challenge string
	// PrequeueURL is where the pre-queue's commitment, and after the
	// opening its order, are published.
	PrequeueURL string
}

func queueJoinPath(slug string, sq lottery.SubQueue) string {
	return "/events/" + url.PathEscape(slug) + "/queue?" + url.Values{"course": {sq.Course}, "pace": {sq.Pace}}.Encode()
}

// queueTarget loads the event and finds the pace group; found is false for
// an unknown course or pace group.
func (p *pages) queueTarget(c *gin.Context, course, pace string) (q joinPage, found bool, err error) {
	ev, err := p.Svc.PublicEvent(c.Request.Context(), c.Param("slug"))
	if err != nil {
		return joinPage{}, false, err
	}
	q.Event = ev
	q.SubQueue, found = ev.SubQueue(course, pace)
	for _, co := range ev.Courses {
		if co.Code == course {
			q.Course = co
		}
	}
	return q, found, nil
}

// queueForm shows the join page of an ordered pace group.
func (p *pages) queueForm(c *gin.Context) { p.showQueueForm(c, c.Query("course"), c.Query("pace"), "") }

// showQueueForm shows the join page, the address filled in when given (a
// language switch keeps what was typed).
func (p *pages) showQueueForm(c *gin.Context, course, pace, email string) {
	q, found, err := p.queueTarget(c, course, pace)
	switch {
	case err != nil:
		p.fail(c, err)
		return
	case !found:
		c.Redirect(http.StatusSeeOther, "/events/"+url.PathEscape(q.Event.Slug)+"#step1")
		return
	case q.SubQueue.Mode != lottery.ModeOrdered: // drawn groups have no line: straight to the form
		c.Redirect(http.StatusSeeOther, "/events/"+url.PathEscape(q.Event.Slug)+"/apply?subqueue="+url.QueryEscape(q.SubQueue.Key))
		return
	}
	p.Guard.EnsureDevice(c.Writer, c.Request) // the join is scored partly on keeping it
	c.Header("Cache-Control", "no-store")
	q.Email = email
	switchByForm(c, queueFormID, "/events/"+url.PathEscape(q.Event.Slug)+"/queue/lang")
	if err := q.Event.CheckJoin(p.Svc.Now(), q.SubQueue); err != nil {
		switchByLink(c, queueJoinPath(q.Event.Slug, q.SubQueue)) // no form to re-post
		p.render(c, http.StatusForbidden, "queue", q.Event.Name, q, err)
		return
	}
	q.Open, q.Challenge = true, p.challenge(c)
	q.Prequeue = q.Event.CheckOpen(p.Svc.Now()) != nil
	if q.Prequeue {
		q.PrequeueURL = lottery.PrequeueArtifactPath(q.Event.Slug, q.SubQueue.Key)
	}
	p.render(c, http.StatusOK, "queue", q.Event.Name, q, nil)
}

// joinQueue takes a place in line and redirects to the waiting page. Like
// the JSON join it costs a proof of work, checked before anything is
// counted, and counts against the IP, device and (requester, address)
// budgets.
func (p *pages) joinQueue(c *gin.Context) {
	q, _, err := p.queueTarget(c, c.PostForm("course"), c.PostForm("pace"))
	if err != nil {
		p.fail(c, err)
		return
	}
	q.Email, q.Open = c.PostForm("email"), true
	c.Header("Cache-Control", "no-store")
	switchByForm(c, queueFormID, "/events/"+url.PathEscape(q.Event.Slug)+"/queue/lang")
	show := func(err error) {
		if lottery.CodeOf(err) == lottery.CodeRegistrationClosed || lottery.CodeOf(err) == lottery.CodeRegistrationNotOpen {
			q.Open = false
			switchByLink(c, queueJoinPath(q.Event.Slug, q.SubQueue)) // no form to re-post
		}
		q.Challenge = p.challenge(c)
		p.refused(c, "queue", q.Event.Name, q, err)
	}
	if err := p.gate.Runner(c, gate.Write{Email: q.Email, Proof: c.PostForm("altcha")}); err != nil {
		show(err)
		return
	}
	res, err := p.Waitroom.JoinQueue(c.Request.Context(), q.Event.Slug,
		lottery.JoinRequest{Course: c.PostForm("course"), PaceGroup: c.PostForm("pace"), Email: q.Email}, p.gate.Client(c))
	if err != nil {
		show(err)
		return
	}
	page := "/queue/" + res.Ticket
	where := url.Values{"event": {q.Event.Slug}, "subqueue": {q.SubQueue.Key}}
	joined := url.Values{"event": where["event"], "subqueue": where["subqueue"], "email": {strings.TrimSpace(q.Email)}}
	p.Site.SetCookie(c.Writer, c.Request, &http.Cookie{Name: queueCookie, Value: joined.Encode(), Path: page,
		MaxAge: int(24 * time.Hour / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode})
	// The view names the event and pace group; the query is kept so links
	// made before that stay valid.
	c.Redirect(http.StatusSeeOther, page+"?"+where.Encode())
}

// joined reads the joining browser's cookie; empty values when absent.
func joined(c *gin.Context) url.Values {
	ck, err := c.Request.Cookie(queueCookie) // not c.Cookie: it would unescape the form encoding
	if err != nil {
		return url.Values{}
	}
	v, _ := url.ParseQuery(ck.Value)
	return v
}

// queueWaitPage is the waiting page of one ticket.
type queueWaitPage struct {
	View     lottery.QueueView
	Event    lottery.Event // zero when the page does not know the event
	Course   lottery.Course
	SubQueue lottery.SubQueue
	Refresh  int    // seconds until the page reloads itself; 0 stops
	ApplyURL string // once admitted
	JoinURL  string // once lapsed
	// PrequeueURL is the published pre-queue of a ticket that was in it:
	// its commitment while it waits, its order once placed.
	PrequeueURL string
}

// queueWait shows a ticket's place in line, and once admitted the way to
// the apply form. It reloads itself through a meta refresh, so it works
// without JavaScript.
func (p *pages) queueWait(c *gin.Context) {
	ticket := c.Param("ticket")
	v, err := p.Waitroom.QueueStatus(c.Request.Context(), ticket)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	w := queueWaitPage{View: v, Refresh: v.PollAfter()}
	if v.PublicID != "" {
		w.PrequeueURL = lottery.PrequeueArtifactPath(v.EventSlug, v.SubQueue.Key)
	}
	// Which event: the view when it says, else the link, else the cookie
	// (a language switch without JavaScript drops the link's query).
	jc := joined(c)
	slug := cmp.Or(v.EventSlug, c.Query("event"), jc.Get("event"))
	key := cmp.Or(v.SubQueue.Key, c.Query("subqueue"), jc.Get("subqueue"))
	if slug != "" {
		// Best effort: without the event the page still shows the place.
		if ev, err := p.Svc.PublicEvent(c.Request.Context(), slug); err == nil {
			course, pace, _ := strings.Cut(key, ":")
			if sq, ok := ev.SubQueue(course, pace); ok && sq.Mode == lottery.ModeOrdered {
				w.Event, w.SubQueue = ev, sq
				for _, co := range ev.Courses {
					if co.Code == course {
						w.Course = co
					}
				}
			}
		}
	}
	if w.SubQueue.Key != "" {
		switch {
		case v.Admitted && !v.Used:
			q := url.Values{"subqueue": {w.SubQueue.Key}, "admission_token": {v.AdmissionToken}}
			if e := jc.Get("email"); e != "" {
				q.Set("who", p.Waitroom.SealAddress(e))
			}
			w.ApplyURL = "/events/" + url.PathEscape(w.Event.Slug) + "/apply?" + q.Encode()
		case v.Lapsed:
			w.JoinURL = queueJoinPath(w.Event.Slug, w.SubQueue)
		}
	}
	p.render(c, http.StatusOK, "queue_wait", w.Event.Name, w, nil)
}

// formatETA says a wait in minutes, rounded up.
func formatETA(t func(string, ...any) string, seconds int) string {
	if seconds < 60 {
		return t("queue.eta.soon")
	}
	m := (seconds + 59) / 60
	if m < 60 {
		return t("queue.eta.min", m)
	}
	return t("queue.eta.hour", m/60, m%60)
}
