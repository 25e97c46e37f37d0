package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/payments/stripe"
	"github.com/startline/startline/lottery/registration"
)

// Face-value transfers (issue 15): the giver's form on the status page of a
// confirmed entry, and the recipient's pages under /transfers/{token}:
// send a code → the form (identity, the event's questions and documents)
// → pay the face value → done. Forms work without JavaScript; posts from
// another site are refused (refuseCrossSite).

func (p *pages) registerTransfers(r gin.IRoutes) {
	r.POST("/entries/:id/transfer", p.refuseCrossSite, p.offerTransfer)
	r.POST("/entries/:id/transfer/cancel", p.refuseCrossSite, p.cancelTransfer)
	r.GET("/transfers/:token", p.transferPage)
	r.POST("/transfers/:token/code", p.refuseCrossSite, p.transferCode)
	r.POST("/transfers/:token/accept", p.refuseCrossSite, p.acceptTransfer)
	r.POST("/transfers/:token/pay", p.refuseCrossSite, p.payTransfer)
}

// transferSection is the status page's "Transfer my slot" part.
type transferSection struct {
	Can   bool             // a confirmed, paid place with no open transfer
	Open  *offers.Transfer // the open transfer
	Sent  bool             // just offered
	Error string           // why the last attempt was refused, in the page's language
}

func (p *pages) transferSection(c *gin.Context, v lottery.EntryView) transferSection {
	var s transferSection
	if p.Offers == nil || v.Offer == nil || v.Offer.Status != lottery.OfferPaid || v.Entry.Status != lottery.EntryConfirmed ||
		v.Entry.PickedUpAt != nil { // the bib is with this runner (offers.TransferHeld)
		return s
	}
	t, err := p.Offers.TransferOf(c.Request.Context(), v.Entry.ID)
	switch {
	case err == nil:
		s.Open = &t
	case errors.Is(err, lottery.ErrNotFound):
		s.Can = true
	default:
		return s
	}
	s.Sent = c.Query("transfer") == "sent"
	if code := c.Query("transfer_error"); code != "" {
		lang := p.lang(c)
		s.Error = codeMessages[lang][code]
		if s.Error == "" {
			s.Error = translator(lang)("transfer.refused")
		}
	}
	return s
}

func (p *pages) entryBack(c *gin.Context, tok, query string) string {
	return "/entries/" + url.PathEscape(strings.ToLower(c.Param("id"))) + "?token=" + url.QueryEscape(tok) + query + "#transfer"
}

// offerTransfer names the recipient and returns to the status page.
func (p *pages) offerTransfer(c *gin.Context) {
	tok := c.PostForm("token")
	_, err := p.Offers.OfferTransfer(c.Request.Context(), c.Param("id"), tok, c.PostForm("to_email"), p.lang(c))
	switch code := lottery.CodeOf(err); {
	case err == nil:
		c.Redirect(http.StatusSeeOther, p.entryBack(c, tok, "&transfer=sent"))
	case code == lottery.CodeNotFound || code == lottery.CodeInternal || code == lottery.CodeUnavailable:
		p.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, p.entryBack(c, tok, "&transfer_error="+url.QueryEscape(code)))
	}
}

func (p *pages) cancelTransfer(c *gin.Context) {
	tok := c.PostForm("token")
	if _, err := p.Offers.CancelTransfer(c.Request.Context(), c.Param("id"), tok); err != nil && !errors.Is(err, lottery.ErrNotFound) {
		p.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, p.entryBack(c, tok, ""))
}

// transferView is the recipient's page.
type transferView struct {
	Token    string
	Transfer offers.Transfer
	Event    lottery.Event
	Price    lottery.Money
	Sent     bool
	// The form as posted (shown again with its error).
	Name, Phone, BirthDate string
	Q                      questionValues
	// Status is the recipient's entry status page, once verified.
	Status string
	// Started is when the form was shown (ms), for the fill time signal.
	Started int64
}

func (p *pages) transferData(c *gin.Context, tok string) (transferView, error) {
	t, ev, err := p.Offers.OpenTransfer(c.Request.Context(), tok)
	if err != nil {
		return transferView{}, err
	}
	d := transferView{Token: tok, Transfer: t, Event: ev, Price: lottery.Money{Amount: t.PriceMinor, Currency: t.Currency}, Q: questionValues{},
		Started: time.Now().UnixMilli()}
	if t.ToEntry != "" {
		d.Status = "/entries/" + t.ToEntry + "?token=" + url.QueryEscape(p.Offers.RecipientReceipt(t))
	}
	return d, nil
}

func (p *pages) transferPage(c *gin.Context) {
	d, err := p.transferData(c, c.Param("token"))
	if err != nil {
		p.fail(c, err)
		return
	}
	d.Sent = c.Query("sent") == "1"
	p.showTransfer(c, http.StatusOK, d, nil)
}

func (p *pages) showTransfer(c *gin.Context, status int, d transferView, refused error) {
	c.Header("Cache-Control", "private, no-store")
	c.Header("Referrer-Policy", "no-referrer") // the token is in the path
	p.render(c, status, "transfer", translator(p.lang(c))("transfer.title"), d, refused)
}

func (p *pages) transferBack(c *gin.Context, query string) string {
	back := "/transfers/" + url.PathEscape(c.Param("token"))
	if query != "" {
		back += "?" + query
	}
	return back
}

// transferCode mails the recipient a code and shows the form.
func (p *pages) transferCode(c *gin.Context) {
	err := p.Offers.TransferOTP(c.Request.Context(), c.Param("token"), p.lang(c), p.gate.Client(c))
	if err != nil {
		p.transferRefused(c, err, transferView{})
		return
	}
	c.Redirect(http.StatusSeeOther, p.transferBack(c, "sent=1"))
}

// transferRefused shows the page again with why the step was refused.
func (p *pages) transferRefused(c *gin.Context, err error, posted transferView) {
	switch lottery.CodeOf(err) {
	case lottery.CodeNotFound, lottery.CodeInternal, lottery.CodeUnavailable:
		p.fail(c, err)
		return
	}
	d, derr := p.transferData(c, c.Param("token"))
	if derr != nil {
		p.fail(c, derr)
		return
	}
	d.Sent = true
	d.Name, d.Phone, d.BirthDate = posted.Name, posted.Phone, posted.BirthDate
	if posted.Q != nil {
		d.Q = posted.Q
	}
	status := http.StatusConflict
	if lottery.CodeOf(err) == lottery.CodeInvalidField || lottery.CodeOf(err) == lottery.CodeInvalidOTP {
		status = http.StatusUnprocessableEntity
	}
	p.showTransfer(c, status, d, err)
}

// acceptTransfer takes the recipient's code and form.
func (p *pages) acceptTransfer(c *gin.Context) {
	posted := transferView{Name: c.PostForm("name"), Phone: c.PostForm("phone"), BirthDate: c.PostForm("birth_date"),
		Q: readQuestionValues(c)}
	_, ev, err := p.Offers.OpenTransfer(c.Request.Context(), c.Param("token"))
	if err != nil {
		p.fail(c, err)
		return
	}
	req := registration.ApplyRequest{Name: posted.Name, Phone: posted.Phone, BirthDate: posted.BirthDate, OTP: c.PostForm("otp"),
		Website: c.PostForm("website"), Signals: signalsJSON(c.PostForm("signals"), c.PostForm("started")),
		Answers: posted.Q.answers(ev.Form.WithDefaults()), Consents: posted.Q.consents(), Lang: p.lang(c)}
	if _, err := p.Offers.AcceptTransfer(c.Request.Context(), c.Param("token"), req, p.gate.Client(c)); err != nil {
		p.transferRefused(c, err, posted)
		return
	}
	c.Redirect(http.StatusSeeOther, p.transferBack(c, ""))
}

// payTransfer sends the recipient to the provider's checkout for the face
// value; they come back to the transfer's page.
func (p *pages) payTransfer(c *gin.Context) {
	back := p.transferBack(c, "")
	ret, err := p.Site.Absolute(c.Request, back)
	if err != nil {
		p.fail(c, err)
		return
	}
	pay, _, err := p.Offers.PayTransfer(c.Request.Context(), c.Param("token"), ret)
	if err != nil {
		p.transferRefused(c, err, transferView{})
		return
	}
	switch {
	case pay.CheckoutURL == "": // a free place: moved at once
		c.Redirect(http.StatusSeeOther, back)
	case strings.HasPrefix(pay.CheckoutURL, stripe.CheckoutScheme):
		secret, ret, err := stripe.ParseCheckoutURL(pay.CheckoutURL)
		if err != nil {
			p.fail(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		p.render(c, http.StatusOK, "stripe_checkout", translator(p.lang(c))("stripe.title"), map[string]string{"Key": p.StripePublishableKey,
			"Secret": secret, "Return": ret, "Back": back,
			"Price": lottery.Money{Amount: pay.AmountMinor, Currency: pay.Currency}.String()}, nil)
	default:
		c.Redirect(http.StatusSeeOther, pay.CheckoutURL+"&back="+url.QueryEscape(back))
	}
}
