package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/checkin"
)

// checkinPage is the race-day check-in page (issue 15): staff of the
// event's organization choose the event, then type or scan a runner's
// code; a posted code shows the runner and whether the bib goes out.
type checkinPage struct {
	Staff  lottery.StaffAccount
	CSRF   string
	Events []lottery.Event
	Event  lottery.Event
	Result *checkinResult
	// Text is what the page's script shows (checkin.js.* messages).
	Text template.JS
}

// checkinResult is one code checked in.
type checkinResult struct {
	OK           bool
	Reason       string // the refusal's message key suffix: already_picked_up, withdrawn, erased, not_accepted
	PickedUpAt   string
	Name         string
	BirthYear    int
	Bib          int
	SubQueueName string
}

func (p *pages) registerCheckin(r *gin.RouterGroup) {
	if p.Checkin == nil {
		return
	}
	r.GET("/checkin", p.checkinForm)
	r.POST("/checkin", p.checkinPost)
	r.GET("/entries/:id/checkin.png", p.checkinPNG)
}

// checkinPNG is a confirmed entry's QR code as an image, for the paid mail's
// link: guarded by the entry's receipt token like its status page; 404 when
// the entry holds no confirmed slot.
func (p *pages) checkinPNG(c *gin.Context) {
	v, err := p.Registration.EntryStatus(c.Request.Context(), c.Param("id"), c.Query("token"))
	if err != nil {
		p.fail(c, err)
		return
	}
	if !showsCheckin(v) {
		p.fail(c, lottery.ErrNotFound)
		return
	}
	code, err := p.Checkin.Signer().Code(v.Entry.ID)
	var png []byte
	if err == nil {
		png, err = checkin.QRPNG(code, 320)
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, "image/png", png)
}

// showsCheckin: a check-in code is shown for a confirmed entry whose data
// is not erased, of an event not cancelled.
func showsCheckin(v lottery.EntryView) bool {
	return v.Entry.Status == lottery.EntryConfirmed && !strings.HasPrefix(v.Entry.EmailKey, "erased:") &&
		v.Event.Status != lottery.EventCancelled
}

// checkinBase is the page for the member, with the event chosen (?event=
// or the form's event; the first of the organization's by default).
func (p *pages) checkinBase(c *gin.Context, acct lottery.StaffAccount, tok string) (checkinPage, bool) {
	evs, slug, ok := p.consoleEvents(c, acct)
	if !ok {
		return checkinPage{}, false
	}
	if s := c.PostForm("event"); s != "" {
		slug = s
	}
	page := checkinPage{Staff: acct, CSRF: p.csrf(tok), Events: evs, Text: checkinText(p.lang(c))}
	for _, ev := range evs {
		if ev.Slug == slug {
			page.Event = ev
		}
	}
	if slug != "" && page.Event.Slug == "" {
		p.fail(c, lottery.ErrNotFound) // another organization's, or no such event
		return checkinPage{}, false
	}
	c.Header("Cache-Control", "private, no-store")
	return page, true
}

func (p *pages) checkinForm(c *gin.Context) {
	acct, tok, ok := p.staff(c)
	if !ok {
		return
	}
	page, ok := p.checkinBase(c, acct, tok)
	if !ok {
		return
	}
	p.render(c, http.StatusOK, "console_checkin", translator(p.lang(c))("checkin.title"), page, nil)
}

// checkinPost records a pickup and shows the result on the page, ready
// for the next code: 200 for a bib handed out, 409 for a refusal (the
// result is the answer to this post, not a state to return to).
func (p *pages) checkinPost(c *gin.Context) {
	acct, tok, ok := p.staffForm(c)
	if !ok {
		return
	}
	page, ok := p.checkinBase(c, acct, tok)
	if !ok {
		return
	}
	t := translator(p.lang(c))
	script := strings.Contains(c.GetHeader("Accept"), "application/json") // checkin.js: the result as JSON
	res, err := p.Checkin.CheckIn(c.Request.Context(), acct, page.Event.Slug, c.PostForm("code"))
	if err != nil {
		if lottery.CodeOf(err) != lottery.CodeInvalidField {
			p.fail(c, err)
		} else if script {
			c.JSON(http.StatusOK, gin.H{"ok": false, "verdict": t("checkin.refused"), "reason": t("checkin.code.bad")})
		} else {
			p.render(c, http.StatusUnprocessableEntity, "console_checkin", t("checkin.title"), page, err)
		}
		return
	}
	e := res.Entry
	r := &checkinResult{OK: res.Refusal == nil, Name: e.Name, BirthYear: e.BirthDate.Year(), Bib: e.Bib,
		SubQueueName: page.Event.SubQueueName(e.SubQueue)}
	status := http.StatusOK
	if f := res.Refusal; f != nil {
		status, r.Reason = http.StatusConflict, f.Reason
		if f.Code == checkin.CodeAlreadyPickedUp {
			r.Reason = f.Code
			if f.At != nil {
				r.PickedUpAt = localTime(*f.At, page.Event.TimeZone)
			}
		}
	}
	if script { // a refusal is this answer's content, not a failed request
		c.JSON(http.StatusOK, r.words(t))
		return
	}
	page.Result = r
	p.render(c, status, "console_checkin", t("checkin.title"), page, nil)
}

// words is the result as the script shows it, in the page's language.
func (r *checkinResult) words(t func(string, ...any) string) gin.H {
	verdict, reason := t("checkin.ok"), ""
	if !r.OK {
		verdict = t("checkin.refused")
		if r.Reason == checkin.CodeAlreadyPickedUp {
			reason = t("checkin.reason.already_picked_up", r.PickedUpAt)
		} else {
			reason = t("checkin.reason." + r.Reason)
		}
	}
	bib := t("checkin.bib.none")
	if r.Bib != 0 {
		bib = strconv.Itoa(r.Bib)
	}
	return gin.H{"ok": r.OK, "verdict": verdict, "reason": reason, "name": r.Name, "birth_year": strconv.Itoa(r.BirthYear),
		"bib": bib, "subqueue": r.SubQueueName}
}

// localTime is an instant as the event's clock shows it ("15:04").
func localTime(at time.Time, zone string) string {
	if loc, err := time.LoadLocation(zone); err == nil {
		at = at.In(loc)
	}
	return at.Format("15:04")
}

// checkinText is the script's words in the page's language.
func checkinText(lang string) template.JS {
	out := map[string]string{}
	for _, l := range []string{"en", lang} {
		for k, v := range messages[l] {
			if s, ok := strings.CutPrefix(k, "checkin."); ok {
				out[s] = v
			}
		}
	}
	b, _ := json.Marshal(out)
	return template.JS(b)
}

// checkinSection is the status page's check-in code: the QR code as a
// data: URL and the code in groups of four, for typing.
type checkinSection struct {
	QR   template.URL
	Text string
	// PickedUp is when the bib was picked up, in the event's zone ("" not yet).
	PickedUp string
}

// checkinSection is shown for a confirmed entry whose data is not erased;
// nil otherwise (and when the code cannot be drawn, which is logged).
func (p *pages) checkinSection(v lottery.EntryView) *checkinSection {
	if p.Checkin == nil || !showsCheckin(v) {
		return nil
	}
	code, err := p.Checkin.Signer().Code(v.Entry.ID)
	if err == nil {
		var qr string
		if qr, err = checkin.QRDataURL(code, 240); err == nil {
			s := &checkinSection{QR: template.URL(qr), Text: checkin.Grouped(code)}
			if at := v.Entry.PickedUpAt; at != nil {
				s.PickedUp = localTime(*at, v.Event.TimeZone)
			}
			return s
		}
	}
	p.Log.Error("check-in code", "entry", v.Entry.ID, "err", err)
	return nil
}
