package web

// Issue 15, the console's "After the draw" tab: an event's transfer terms
// (deadline, how many, the fee) and deferral terms (deadline, fee, cap per
// group) as forms, with how they have been used. The forms call the same
// service methods as the API's PUT …/transfer-policy and PUT …/deferral,
// which audit every change.

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
)

func (p *pages) registerAfterDraw(r gin.IRoutes) {
	r.GET("/admin/events/:slug/after", p.consoleAfter)
	r.POST("/admin/events/:slug/after/transfers", p.refuseCrossSite, p.consoleAfterTransfers)
	r.POST("/admin/events/:slug/after/deferral", p.refuseCrossSite, p.consoleAfterDeferral)
}

// afterTransferForm and afterDeferralForm are the forms' values as typed
// (kept on a refusal): datetime-local times in the event's zone, whole
// numbers, fees in the currency's minor units.
type afterTransferForm struct{ Deadline, Max, Fee string }

type afterDeferralForm struct{ Deadline, Fee, Cap string }

type afterPage struct {
	consoleBase
	After    offers.AfterDraw
	Transfer afterTransferForm
	Deferral afterDeferralForm
	Currency string
	Done     string // transfers, deferral: the form just saved
}

// afterLocal formats t for a datetime-local input in the event's zone.
func afterLocal(t time.Time, ev lottery.Event) string {
	if t.IsZero() {
		return ""
	}
	return t.In(ev.Location()).Format(datetimeLocal)
}

// afterPageOf loads the tab's data with the forms showing the stored terms.
func (p *pages) afterPageOf(c *gin.Context, base consoleBase) (afterPage, error) {
	a, err := p.Offers.AfterDraw(c.Request.Context(), base.Staff, base.Event.Slug)
	if err != nil {
		return afterPage{}, err
	}
	ev := base.Event
	d := afterPage{consoleBase: base, After: a, Currency: strings.ToUpper(ev.Currency), Done: c.Query("done")}
	if a.Transfer.Deadline != nil {
		d.Transfer.Deadline = afterLocal(*a.Transfer.Deadline, ev)
	}
	d.Transfer.Max = strconv.Itoa(a.Transfer.Max)
	d.Transfer.Fee = strconv.FormatInt(a.Transfer.FeeMinor, 10)
	d.Deferral = afterDeferralForm{Deadline: afterLocal(a.Deferral.Deadline, ev), Fee: strconv.FormatInt(a.Deferral.FeeMinor, 10),
		Cap: strconv.Itoa(a.Deferral.Cap)}
	return d, nil
}

func (p *pages) consoleAfter(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok || !p.consoleEvent(c, &base, "after") {
		return
	}
	d, err := p.afterPageOf(c, base)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.render(c, http.StatusOK, "console_after", base.Event.Name, d, nil)
}

// afterRefused shows the tab again with the refused form's input kept and
// the error beside its field; errors that name no field are failures.
func (p *pages) afterRefused(c *gin.Context, base consoleBase, keep func(*afterPage), err error) {
	var e *lottery.Error
	if !errors.As(err, &e) || e.Field == "" {
		p.fail(c, err)
		return
	}
	d, lerr := p.afterPageOf(c, base)
	if lerr != nil {
		p.fail(c, lerr)
		return
	}
	d.Done = ""
	keep(&d)
	p.render(c, httpkit.StatusOf(err), "console_after", base.Event.Name, d, err)
}

// afterInt reads a whole number from 0 up; field names the input.
func afterInt(field, s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, lottery.Fieldf(field, "give a whole number from 0")
	}
	return n, nil
}

// afterTime reads a datetime-local value in the event's zone; blank is
// the zero time.
func afterTime(field, s string, ev lottery.Event) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(datetimeLocal, s, ev.Location())
	if err != nil {
		return time.Time{}, lottery.Fieldf(field, "give a date and time")
	}
	return t, nil
}

// readTransferTerms is the rule for the transfer form: a blank deadline
// allows transfers until the race; the count and the fee (minor units)
// are whole numbers from 0. Errors name the form's inputs.
func readTransferTerms(f afterTransferForm, ev lottery.Event) (offers.TransferPolicy, error) {
	var p offers.TransferPolicy
	t, err := afterTime("transfer_deadline", f.Deadline, ev)
	if err != nil {
		return p, err
	}
	if !t.IsZero() {
		p.Deadline = &t
	}
	n, err := afterInt("transfer_max", f.Max)
	if err != nil || n > offers.MaxTransfers {
		return p, lottery.Fieldf("transfer_max", "give a number of transfers from 0 to %d", offers.MaxTransfers)
	}
	p.Max = int(n)
	if p.FeeMinor, err = afterInt("transfer_fee", f.Fee); err != nil {
		return p, err
	}
	return p, nil
}

// readDeferralTerms is the rule for the deferral form: a deadline (none
// is refused: the terms need one), a fee (minor units) and a cap per
// group (0: none), whole numbers from 0.
func readDeferralTerms(f afterDeferralForm, ev lottery.Event) (lottery.DeferralSettings, error) {
	var d lottery.DeferralSettings
	t, err := afterTime("deferral_deadline", f.Deadline, ev)
	if err != nil {
		return d, err
	}
	if t.IsZero() {
		return d, lottery.Fieldf("deferral_deadline", "give a date and time")
	}
	d.Deadline = t
	if d.FeeMinor, err = afterInt("deferral_fee", f.Fee); err != nil {
		return d, err
	}
	n, err := afterInt("deferral_cap", f.Cap)
	if err != nil || n > 1_000_000 {
		return d, lottery.Fieldf("deferral_cap", "give 0 (no cap) to 1000000")
	}
	d.Cap = int(n)
	return d, nil
}

// afterField renames a service's field error to the form's input.
func afterField(err error, prefix string, names map[string]string) error {
	var e *lottery.Error
	if !errors.As(err, &e) || e.Field == "" {
		return err
	}
	out := *e
	if n, ok := names[e.Field]; ok {
		out.Field = prefix + n
	} else {
		out.Field = prefix + e.Field
	}
	return &out
}

func (p *pages) consoleAfterTransfers(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok || !p.consoleEvent(c, &base, "after") {
		return
	}
	f := afterTransferForm{Deadline: c.PostForm("transfer_deadline"), Max: c.PostForm("transfer_max"), Fee: c.PostForm("transfer_fee")}
	keep := func(d *afterPage) { d.Transfer = f }
	pol, err := readTransferTerms(f, base.Event)
	if err == nil {
		err = afterField(p.Offers.SetTransferPolicy(c.Request.Context(), base.Staff, base.Event.Slug, pol), "transfer_",
			map[string]string{"max": "max", "fee": "fee"})
	}
	if err != nil {
		p.afterRefused(c, base, keep, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/events/"+base.Event.Slug+"/after?done=transfers")
}

func (p *pages) consoleAfterDeferral(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok || !p.consoleEvent(c, &base, "after") {
		return
	}
	f := afterDeferralForm{Deadline: c.PostForm("deferral_deadline"), Fee: c.PostForm("deferral_fee"), Cap: c.PostForm("deferral_cap")}
	keep := func(d *afterPage) { d.Deferral = f }
	set, err := readDeferralTerms(f, base.Event)
	if err == nil {
		_, err = p.Offers.SetDeferralSettings(c.Request.Context(), base.Staff, base.Event.Slug, set)
		err = afterField(err, "deferral_", map[string]string{"fee_minor": "fee"})
	}
	if err != nil {
		p.afterRefused(c, base, keep, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/events/"+base.Event.Slug+"/after?done=deferral")
}

// afterInput is one input of the tab's forms for the "after-field"
// template: its label, help and error come from after.f.*, after.h.* and
// after.e.* by name; Unit names a fee's currency or a time's zone.
type afterInput struct {
	T                        func(string, ...any) string
	Name, Type, Value, Field string
	Unit                     string
}

func init() {
	funcs["afterField"] = func(v view, name, typ, value, field string) afterInput {
		in := afterInput{T: v.T, Name: name, Type: typ, Value: value, Field: field}
		if d, ok := v.Data.(afterPage); ok {
			switch {
			case strings.HasSuffix(name, "_fee"):
				in.Unit = v.T("after.unit.fee", d.Currency)
			case strings.HasSuffix(name, "_deadline"):
				in.Unit = v.T("after.unit.zone", d.Event.TimeZone)
			}
		}
		return in
	}
}
