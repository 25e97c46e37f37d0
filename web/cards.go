package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/payments/sandbox"
	"github.com/startline/startline/lottery/registration"
)

// Card on file (issue 15). For an event with it, step 2 of the
// application has a "Save a card" step: its button posts the whole form
// here, which keeps what the runner typed in a sealed, HttpOnly cookie
// scoped to the event's form (never in a URL, read back once), starts a
// card setup and sends the runner to the provider's page (the sandbox's
// hosted page in dev mode). The provider sends them back to
// /events/:slug/apply/card, which opens the draft and shows step 2 again
// with the card ("Visa •4242 saved") and the setup id the application
// carries. The organizer turns the option on under the console's Payment
// tab before registration opens.

const cardDraftCookie = "sl_card_draft"

// registerCards mounts the card step, the console's Payment tab and, in
// dev mode, the sandbox's hosted setup page.
func (p *pages) registerCards(r gin.IRoutes) {
	r.POST("/events/:slug/apply/card", p.saveCard)
	r.GET("/events/:slug/apply/card", p.cardBack)
	r.GET("/admin/events/:slug/cards", p.consoleCards)
	r.POST("/admin/events/:slug/cards", p.consoleSetCards)
	if p.Sandbox != nil {
		r.GET("/sandbox/setup/:id", p.sandboxSetup)
		r.POST("/sandbox/setup/:id", p.sandboxConfirmSetup)
	}
}

// formCard is the card a form carries between steps: the setup id the
// application sends, and the brand and last four it shows (display only:
// the application checks the setup with the provider).
type formCard struct {
	SetupID string
	Brand   string
	Last4   string
}

func readFormCard(c *gin.Context) formCard {
	return formCard{SetupID: c.PostForm("card_setup_id"), Brand: c.PostForm("card_brand"), Last4: c.PostForm("card_last4")}
}

// checkCardStep refuses to go on to the code step of an event with card
// on file before a card is saved, beside the card step.
func checkCardStep(f applyForm) error {
	if f.Event.CardOnFile() && f.Card.SetupID == "" {
		return lottery.Fieldf("card_setup_id", "save a card first")
	}
	return nil
}

// cardStepErr reports an error about the card step: the form goes back
// to step 2, where the card is saved again.
func cardStepErr(err error) bool {
	var e *lottery.Error
	return errors.As(err, &e) && e.Field == "card_setup_id"
}

// applyCardPath is the application form's return address for a card setup.
func applyCardPath(slug, subqueue string) string {
	return "/events/" + url.PathEscape(slug) + "/apply/card?" + url.Values{"subqueue": {subqueue}}.Encode()
}

// saveCard keeps the form in the draft cookie, starts a setup and sends
// the runner to confirm the card. Budgeted per client like the challenge.
func (p *pages) saveCard(c *gin.Context) {
	f, err := p.readForm(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	applySwitch(c, f.Event.Slug)
	f.CodeSent, f.IdemKey = false, ""
	if err := p.gate.Limit(c); err != nil {
		p.refused(c, "identity", f.Event.Name, f, err)
		return
	}
	setup, err := p.Registration.StartCardSetup(c.Request.Context(), f.Event.Slug, applyCardPath(f.Event.Slug, f.SubQueue.Key))
	if err != nil {
		p.refused(c, "identity", f.Event.Name, f, err)
		return
	}
	draft := url.Values{}
	for k, v := range c.Request.PostForm {
		switch k {
		case "altcha", "website", "otp", "idem", "card_brand", "card_last4":
		default:
			draft[k] = v
		}
	}
	draft.Set("card_setup_id", setup.ID)
	p.Site.SetCookie(c.Writer, c.Request, &http.Cookie{Name: cardDraftCookie, Value: p.Registration.SealDraft([]byte(draft.Encode())),
		Path: "/events/" + url.PathEscape(f.Event.Slug) + "/apply", MaxAge: 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	c.Redirect(http.StatusSeeOther, setup.ConfirmURL)
}

// cardBack is where the provider sends the runner back: step 2 again with
// what they typed and the saved card. The draft is read once (a shared
// computer's next user does not find the form filled in); without it the
// form starts again with the chosen group.
func (p *pages) cardBack(c *gin.Context) {
	slug := c.Param("slug")
	ck, _ := c.Cookie(cardDraftCookie)
	plain := p.Registration.OpenDraft(ck)
	draft, err := url.ParseQuery(string(plain))
	if plain == nil || err != nil || draft.Get("card_setup_id") == "" {
		c.Redirect(http.StatusSeeOther, "/events/"+url.PathEscape(slug)+"/apply?"+url.Values{"subqueue": {c.Query("subqueue")}}.Encode())
		return
	}
	p.Site.SetCookie(c.Writer, c.Request, &http.Cookie{Name: cardDraftCookie, Value: "", Path: "/events/" + url.PathEscape(slug) + "/apply",
		MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	// readForm reads the posted form: the draft is this request's, set
	// before anything parsed it (gin keeps an already set PostForm).
	c.Request.PostForm = draft
	f, err := p.readForm(c)
	if err != nil {
		if f.Event.Slug == "" {
			p.fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/events/"+url.PathEscape(f.Event.Slug)+"#step1")
		return
	}
	saved, err := p.Registration.SavedCard(c.Request.Context(), f.Card.SetupID)
	if err != nil {
		f.Card = formCard{}
		p.applyPage(c, httpkit.StatusOf(err), f, localizeCardError(p.lang(c), err))
		return
	}
	f.Card.Brand, f.Card.Last4 = saved.Brand, saved.Last4
	p.applyPage(c, http.StatusOK, f, nil)
}

// localizeCardError words the card step's errors in the page's language.
func localizeCardError(lang string, err error) error {
	var e *lottery.Error
	if !errors.As(err, &e) || e.Field != "card_setup_id" {
		return err
	}
	key := "card.error.missing"
	switch {
	case e.Code == lottery.CodeCardSetupUsed:
		key = "card.error.used"
	case strings.Contains(e.Message, "not saved yet"):
		key = "card.error.unconfirmed"
	case strings.Contains(e.Message, "does not exist"):
		key = "card.error.unknown"
	}
	return &lottery.Error{Code: e.Code, Field: e.Field, Message: translator(lang)(key)}
}

// brandName is a card network's name as printed on cards.
func brandName(b string) string {
	switch b {
	case "visa":
		return "Visa"
	case "mastercard":
		return "Mastercard"
	case "amex":
		return "American Express"
	case "":
		return ""
	}
	return strings.ToUpper(b[:1]) + b[1:]
}

func init() { funcs["brandName"] = brandName }

// sandboxCard is one of the sandbox's test cards on its setup page.
type sandboxCard struct {
	Number string // grouped by four, as printed
	Name   string // the translation key of what it does
}

var sandboxCards = []sandboxCard{
	{sandbox.CardOK, "sandbox.card.ok"},
	{sandbox.CardInsufficientFunds, "sandbox.card.funds"},
	{sandbox.CardProcessingError, "sandbox.card.processing"},
	{sandbox.CardDeclined, "sandbox.card.declined"},
	{sandbox.CardAuthRequired, "sandbox.card.auth"},
}

// groupDigits writes a card number in groups of four.
func groupDigits(n string) string {
	var b strings.Builder
	for i, r := range n {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

type sandboxSetupPage struct {
	ID     string
	Cards  []sandboxCard
	Number string
	Back   string // where "Go back without saving" leads
}

// sandboxSetupBack is a setup's return address when it stays on the site;
// else the home page (a setup started with a return elsewhere never
// leaves the site from here).
func (p *pages) sandboxSetupBack(id string) (string, bool) {
	back, ok := p.Sandbox.SetupReturn(id)
	if !ok {
		return "", false
	}
	if !registration.LocalPath(back) {
		return "/", true
	}
	return back, true
}

// setupPage is the setup page's data, with the number typed so far.
func (p *pages) setupPage(id, number string) sandboxSetupPage {
	back, _ := p.sandboxSetupBack(id)
	out := sandboxSetupPage{ID: id, Number: number, Back: back}
	for _, c := range sandboxCards {
		out.Cards = append(out.Cards, sandboxCard{Number: groupDigits(c.Number), Name: c.Name})
	}
	return out
}

// sandboxSetup is the sandbox's hosted setup page (dev mode): the test
// cards and what each does, and a card number field.
func (p *pages) sandboxSetup(c *gin.Context) {
	if _, ok := p.Sandbox.SetupReturn(c.Param("id")); !ok {
		p.fail(c, lottery.ErrNotFound)
		return
	}
	c.Header("Cache-Control", "no-store")
	p.render(c, http.StatusOK, "sandbox_setup", translator(p.lang(c))("sandbox.setup.title"), p.setupPage(c.Param("id"), ""), nil)
}

// sandboxConfirmSetup saves the typed test card and sends the runner back
// to the setup's return address, which stays on the site; a bad number is
// shown beside the field.
func (p *pages) sandboxConfirmSetup(c *gin.Context) {
	id := c.Param("id")
	back, ok := p.sandboxSetupBack(id)
	if !ok {
		p.fail(c, lottery.ErrNotFound)
		return
	}
	number := c.PostForm("card_number")
	if err := p.Sandbox.ConfirmSetup(id, number); err != nil {
		if lottery.CodeOf(err) == lottery.CodeNotFound {
			p.fail(c, err)
			return
		}
		switchByLink(c, "/sandbox/setup/"+url.PathEscape(id))
		e := &lottery.Error{Code: lottery.CodeInvalidField, Field: "card_number", Message: translator(p.lang(c))("sandbox.card.invalid")}
		p.render(c, http.StatusUnprocessableEntity, "sandbox_setup", translator(p.lang(c))("sandbox.setup.title"),
			p.setupPage(id, number), e)
		return
	}
	c.Redirect(http.StatusSeeOther, back)
}

// cardsData is the console's Payment tab: the card-on-file option.
type cardsData struct {
	consoleBase
	Policy   lottery.CardPolicy
	Editable bool // registration has not opened
	Saved    bool
	// Form holds the posted numbers as typed when refused.
	Form map[string]string
}

func (p *pages) consoleCards(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok || !p.consoleEvent(c, &base, "cards") {
		return
	}
	pol, err := p.Svc.CardPolicy(c.Request.Context(), base.Staff, base.Event.Slug)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.renderCards(c, http.StatusOK, base, pol, nil, c.Query("saved") == "1", nil)
}

func (p *pages) renderCards(c *gin.Context, status int, base consoleBase, pol lottery.CardPolicy, form map[string]string, saved bool, err error) {
	d := cardsData{consoleBase: base, Policy: pol, Saved: saved, Form: form,
		Editable: base.Event.CheckCardPolicyChange(p.Svc.Now()) == nil}
	if d.Form == nil {
		d.Form = map[string]string{"entries_per_card": strconv.Itoa(pol.EntriesPerCard),
			"charge_per_minute": strconv.Itoa(pol.ChargePerMinute), "max_attempts": strconv.Itoa(pol.MaxAttempts)}
	}
	p.render(c, status, "console_cards", base.Event.Name, d, err)
}

// consoleSetCards saves the option (CSRF-checked); a bad number is shown
// beside its field with what was typed.
func (p *pages) consoleSetCards(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok || !p.consoleEvent(c, &base, "cards") {
		return
	}
	pol := lottery.CardPolicy{Enabled: c.PostForm("enabled") == "on"}.WithDefaults()
	form := map[string]string{}
	for _, f := range []struct {
		name string
		out  *int
	}{{"entries_per_card", &pol.EntriesPerCard}, {"charge_per_minute", &pol.ChargePerMinute}, {"max_attempts", &pol.MaxAttempts}} {
		v := strings.TrimSpace(c.PostForm(f.name))
		form[f.name] = v
		if v == "" {
			continue // the default
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1 // refused by CheckCardPolicy, beside the field
		}
		*f.out = n
	}
	if _, err := p.Svc.SetCardPolicy(c.Request.Context(), base.Staff, base.Event.Slug, pol); err != nil {
		if code := lottery.CodeOf(err); code == lottery.CodeInternal || code == lottery.CodeNotFound || code == lottery.CodeUnavailable {
			p.fail(c, err)
			return
		}
		cur, _ := p.Svc.CardPolicy(c.Request.Context(), base.Staff, base.Event.Slug)
		cur.Enabled = pol.Enabled
		p.renderCards(c, httpkit.StatusOf(err), base, cur, form, false, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/events/"+url.PathEscape(base.Event.Slug)+"/cards?saved=1")
}
