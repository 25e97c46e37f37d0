package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/payments/stripe"
)

// Deferral fees (issue 15): a deferral with a fee waits for it. Deferring
// goes straight on to the provider's checkout; the status page's deferral
// section shows a pending deferral's fee, its time to pay and a pay
// button (the first checkout abandoned), and the runner keeps their place
// until the provider reports the fee paid.

func (p *pages) registerDeferralFee(r gin.IRoutes) {
	r.POST("/entries/:id/defer/pay", p.refuseCrossSite, p.payDeferral)
}

// deferBack is the status page's deferral section, the checkout's return.
func deferBack(c *gin.Context, tok string) string {
	return "/entries/" + url.PathEscape(strings.ToLower(c.Param("id"))) + "?token=" + url.QueryEscape(tok) + "#defer"
}

// toDeferralCheckout starts the fee's checkout and sends the runner there;
// a refusal is shown on the deferral step.
func (p *pages) toDeferralCheckout(c *gin.Context, tok string) {
	back := deferBack(c, tok)
	ret, err := p.Site.Absolute(c.Request, back)
	if err != nil {
		p.fail(c, err)
		return
	}
	pay, err := p.Offers.PayDeferral(c.Request.Context(), c.Param("id"), tok, ret)
	if err != nil {
		p.finishStep(c, p.deferStep(), tok, err)
		return
	}
	switch {
	case strings.HasPrefix(pay.CheckoutURL, stripe.CheckoutScheme):
		secret, sret, err := stripe.ParseCheckoutURL(pay.CheckoutURL)
		if err != nil {
			p.fail(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		p.render(c, http.StatusOK, "stripe_checkout", translator(p.lang(c))("stripe.title"), map[string]string{"Key": p.StripePublishableKey,
			"Secret": secret, "Return": sret, "Back": back,
			"Price": lottery.Money{Amount: pay.AmountMinor, Currency: pay.Currency}.String()}, nil)
	default:
		c.Redirect(http.StatusSeeOther, pay.CheckoutURL+"&back="+url.QueryEscape(back))
	}
}

// payDeferral is the status page's pay button of a pending deferral.
func (p *pages) payDeferral(c *gin.Context) {
	p.toDeferralCheckout(c, c.PostForm("token"))
}
