package web

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/gin-gonic/gin"
)

// The language switch in every page's header keeps the runner where they
// are. On a page reached by a link it is a link to the same address with
// lang changed (the query kept, so the chosen group or the entry's token
// stays). On a form page it is a submit button of the page's own form
// (the HTML form attribute), posted to that form's switch route, which
// shows the same step again in the other language with everything typed so
// far: no JavaScript, nothing personal in a URL, nothing sent or stored.
// Enter in a field submits with the form's first submit button in document
// order, which the header's switch would be: the layout puts a hidden
// submit button of the form before it, so Enter still does what the page's
// own button does.

// langSwitch is the header's switch to the other language.
type langSwitch struct {
	Code  string // the other language
	Label string // its name, in itself
	Href  string // a link: the same page in the other language
	// Form and Action re-post the page's form (its id) to its switch route.
	Form, Action string
}

const (
	langKey   = "sl.lang"   // gin context: the language a switch route chose
	switchKey = "sl.switch" // gin context: a handler's own switch (langSwitch)
)

// otherLang is the language the switch offers.
func otherLang(lang string) string {
	if lang == "ko" {
		return "en"
	}
	return "ko"
}

// langHref is path with query and lang=to: the same page in another
// language.
func langHref(path string, query url.Values, to string) string {
	q := url.Values{}
	for k, v := range query {
		if k != "lang" {
			q[k] = v
		}
	}
	q.Set("lang", to)
	return path + "?" + q.Encode()
}

// switchFor is the page's switch: the handler's own when it set one, else
// a link to the address of a GET, else (a page shown in answer to a post,
// whose handler set none) the path alone.
func (p *pages) switchFor(c *gin.Context, lang string) langSwitch {
	to := otherLang(lang)
	s := langSwitch{Code: to, Label: translator(lang)("lang.other")}
	if v, ok := c.Get(switchKey); ok && (v.(langSwitch).Form != "" || v.(langSwitch).Href != "") {
		own := v.(langSwitch)
		s.Form, s.Action = own.Form, own.Action
		if u, err := url.Parse(own.Href); err == nil && own.Href != "" {
			s.Href = langHref(u.Path, u.Query(), to)
		}
		return s
	}
	query := url.Values(nil)
	if c.Request.Method == http.MethodGet {
		query = c.Request.URL.Query()
	}
	s.Href = langHref(c.Request.URL.Path, query, to)
	return s
}

// switchByForm makes the page's switch re-post the form with this id to
// action, the form's switch route.
func switchByForm(c *gin.Context, form, action string) {
	c.Set(switchKey, langSwitch{Form: form, Action: action})
}

// switchByLink makes the page's switch a link to href (a path on this site
// with its query) in the other language: for a page shown in answer to a
// post whose GET address is another.
func switchByLink(c *gin.Context, href string) {
	c.Set(switchKey, langSwitch{Href: href})
}

// noFormSwitch drops a handler's form switch: an error page has no form to
// re-post.
func noFormSwitch(c *gin.Context) {
	if v, ok := c.Get(switchKey); ok && v.(langSwitch).Form != "" {
		c.Set(switchKey, langSwitch{})
	}
}

// switchLang is what a switch route does first: the posted language becomes
// the page's and the cookie's. Any other value keeps the current one.
func (p *pages) switchLang(c *gin.Context) {
	if l := c.PostForm("lang"); l == "en" || l == "ko" {
		p.Site.SetCookie(c.Writer, c.Request, &http.Cookie{Name: "sl_lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode})
		c.Set(langKey, l)
	}
}

// otpTyped is a code the runner was typing, kept across a switch only while
// it looks like one.
var otpTyped = regexp.MustCompile(`^[0-9]{0,6}$`)

// applyFormID and queueFormID are the ids of the forms their switch routes
// re-post.
const (
	applyFormID = "apply-form"
	queueFormID = "queue-form"
)

// switchApplyLang shows the application's current step again in the other
// language with what the runner typed: step 2 (the identity fields, any
// not yet valid) or step 3 (the code step, told apart by its idempotency
// key), with a fresh proof-of-work challenge. It sends no code and applies
// nothing.
func (p *pages) switchApplyLang(c *gin.Context) {
	p.switchLang(c)
	f, err := p.readForm(c)
	if err != nil {
		if f.Event.Slug == "" {
			p.fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/events/"+url.PathEscape(f.Event.Slug)+"#step1")
		return
	}
	f.CodeSent = f.IdemKey != ""
	if otp := c.PostForm("otp"); otpTyped.MatchString(otp) {
		f.OTP = otp
	}
	if f.CodeSent {
		p.withChallenge(c, &f)
	}
	p.applyPage(c, http.StatusOK, f, nil)
}

// applyPage renders the application form (step 2 or 3).
func (p *pages) applyPage(c *gin.Context, status int, f applyForm, err error) {
	applySwitch(c, f.Event.Slug)
	p.render(c, status, "identity", f.Event.Name, f, err)
}

// applySwitch makes every page of the application form switch language by
// re-posting the form. Such a page may hold what the runner typed, the code
// included: never stored by a cache.
func applySwitch(c *gin.Context, slug string) {
	c.Header("Cache-Control", "no-store")
	switchByForm(c, applyFormID, "/events/"+url.PathEscape(slug)+"/apply/lang")
}

// switchQueueLang shows the waiting room's join form again in the other
// language, the typed address kept. It joins nothing.
func (p *pages) switchQueueLang(c *gin.Context) {
	p.switchLang(c)
	p.showQueueForm(c, c.PostForm("course"), c.PostForm("pace"), c.PostForm("email"))
}
