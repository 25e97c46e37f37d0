package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/gate"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/registration"
)

type otpBody struct {
	Email string `json:"email"`
	Lang  string `json:"lang"` // the code mail's language; else Accept-Language
}

func (h *handler) requestOTP(c *gin.Context) {
	var b otpBody
	_, ok := h.bind(c, &b)
	if !ok {
		return
	}
	lang, err := runnerLang(b.Lang, c.GetHeader("Accept-Language"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	mail, err := h.gate.Code(c, b.Email)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	ctx, slug, client := c.Request.Context(), c.Param("slug"), h.gate.Client(c)
	if mail {
		err = h.Registration.RequestOTP(ctx, slug, b.Email, lang, client)
	} else {
		err = h.Registration.WithholdOTP(ctx, slug, b.Email, client)
	}
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"sent": true})
}

type applyBody struct {
	Course               string          `json:"course"`
	PaceGroup            string          `json:"pace_group"`
	Name                 string          `json:"name"`
	Email                string          `json:"email"`
	Phone                string          `json:"phone"`
	BirthDate            string          `json:"birth_date"`
	OTP                  string          `json:"otp"`
	GroupCode            string          `json:"group_code"`
	PreviousApplications *int            `json:"previous_applications"`
	Altcha               string          `json:"altcha"`
	AdmissionToken       string          `json:"admission_token"`
	Website              string          `json:"website"`
	ClaimNote            string          `json:"claim_note"` // why previous_applications is above the record
	Signals              json.RawMessage `json:"signals"`
	// Answers to the event's questions by id; Consents the accepted
	// documents' versions: {"privacy":"v","waiver":"v"} (questions.go).
	Answers  map[string]any    `json:"answers"`
	Consents map[string]string `json:"consents"`
	Lang     string            `json:"lang"` // the entry's mail language; else Accept-Language
	// CardSetupID is the confirmed card setup (POST .../card-setups) an
	// event with card on file requires; ignored by any other event.
	CardSetupID string `json:"card_setup_id"`
}

type applyJSON struct {
	EntryID      string `json:"entry_id"`
	ReceiptToken string `json:"receipt_token"`
	Status       string `json:"status"`
	SubQueue     string `json:"subqueue"`
}

func (h *handler) apply(c *gin.Context) {
	var b applyBody
	body, ok := h.bind(c, &b)
	if !ok {
		return
	}
	lang, err := runnerLang(b.Lang, c.GetHeader("Accept-Language"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	idem := c.GetHeader("Idempotency-Key")
	if err := h.gate.Runner(c, gate.Write{Email: b.Email, Proof: b.Altcha, IdempotencyKey: idem, Body: body}); err != nil {
		writeError(c, h.Log, err)
		return
	}
	req := registration.ApplyRequest{Course: b.Course, PaceGroup: b.PaceGroup, Name: b.Name, Email: b.Email, Phone: b.Phone,
		BirthDate: b.BirthDate, OTP: b.OTP, GroupCode: b.GroupCode, PreviousApplications: b.PreviousApplications,
		Altcha: b.Altcha, AdmissionToken: b.AdmissionToken, Website: b.Website, Signals: b.Signals,
		ClaimNote: b.ClaimNote, Answers: b.Answers, Consents: b.Consents, Lang: lang, CardSetupID: b.CardSetupID}
	res, err := h.Registration.Apply(c.Request.Context(), c.Param("slug"), req, h.gate.Client(c), idem, body)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	h.gate.RememberAddress(c, b.Email)
	if res.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, applyJSON{EntryID: res.EntryID, ReceiptToken: res.ReceiptToken, Status: string(res.Status),
		SubQueue: res.SubQueue})
}

type entryJSON struct {
	EntryID  string     `json:"entry_id"`
	Event    string     `json:"event"`
	Status   string     `json:"status"`
	SubQueue string     `json:"subqueue"`
	Position *int       `json:"position,omitempty"` // waitlist position after the draw
	Offer    *offerJSON `json:"offer,omitempty"`
	Tickets  int        `json:"tickets"`
	// TicketsReason says how the count was earned (API.md), in English;
	// TicketsRecord is the same as data.
	TicketsReason string            `json:"tickets_reason"`
	TicketsRecord ticketsRecordJSON `json:"tickets_record"`
	GroupCode     string            `json:"group_code,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	// Answers and Consents are the receipt holder's own (questions.go).
	Answers  lottery.Answers `json:"answers"`
	Consents []consentJSON   `json:"consents"`
	// GiveBack is what giving the place back now would refund (giveback.go).
	GiveBack *giveBackQuoteJSON `json:"give_back,omitempty"`
	// Rejection is a rejected entry's reason category (the one its mail
	// names: automated, linked, mismatch, disposable, claim, other); the
	// risk reasons themselves stay with the reviewers.
	Rejection string `json:"rejection,omitempty"`
	// Appeal is the entry's appeal of its rejection, once filed.
	Appeal *appealStatusJSON `json:"appeal,omitempty"`
	// Card is the card saved at apply (card on file): brand and last four.
	Card *savedCardJSON `json:"card,omitempty"`
	// CardCharge is where the off-session charge of that card for the
	// entry's offer stands (offers.ChargeStanding): charging, paid, or
	// failed (pay by the offer's expires_at).
	CardCharge *cardChargeJSON `json:"card_charge,omitempty"`
}

// appealStatusJSON is what the runner reads of their appeal: open, or the
// outcome and when it was decided (never the reviewer or their note).
type appealStatusJSON struct {
	Status    string     `json:"status"` // open, reinstated, upheld
	FiledAt   time.Time  `json:"filed_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

type ticketsRecordJSON struct {
	Recorded int      `json:"recorded_applications"`
	Found    []string `json:"found"` // the counted editions and imported years
	Counted  int      `json:"counted_applications"`
	Claimed  *int     `json:"claimed_applications,omitempty"`
	Claim    string   `json:"claim_status"` // none, pending, accepted, declined
}

func ticketsRecord(x lottery.TicketsExplained) ticketsRecordJSON {
	out := ticketsRecordJSON{Recorded: x.Found, Found: x.Labels, Counted: x.Counted, Claim: x.Claim}
	if out.Found == nil {
		out.Found = []string{}
	}
	if x.Claim != lottery.ClaimNone {
		out.Claimed = &x.Claimed
	}
	return out
}

// entryView is what the holder of an entry's receipt reads of it.
func (h *handler) entryView(c *gin.Context, v lottery.EntryView) entryJSON {
	e := v.Entry
	out := entryJSON{EntryID: e.ID, Event: e.EventSlug, Status: string(e.Status), SubQueue: e.SubQueue,
		Tickets: e.Tickets, GroupCode: e.GroupCode, CreatedAt: e.CreatedAt}
	x := lottery.ExplainTickets(v.Event, e)
	out.TicketsReason, out.TicketsRecord = x.English(), ticketsRecord(x)
	if v.Place != nil && !v.Place.Selected {
		out.Position = &v.Place.WaitlistPosition
	}
	if v.Offer != nil {
		o := offerView(*v.Offer)
		price := v.Event.PriceOf(v.Offer.SubQueue) // API.md: offer.amount/offer.currency
		o.Amount, o.Currency = &price.Amount, price.Code()
		out.Offer = &o
		out.GiveBack = h.giveBackQuote(c, v)
	}
	out.Answers, out.Consents = answersView(e.Answers), consentsView(e.Consents)
	if e.Status == lottery.EntryRejected {
		out.Rejection = lottery.RejectionCategory(e.Risk.Reasons)
	}
	out.Card = savedCardView(v.Card)
	out.CardCharge = h.cardCharge(c, v)
	return out
}

// cardChargeJSON is where a saved card's charge stands for its runner.
type cardChargeJSON struct {
	State    string `json:"state"` // charging | paid | failed
	Attempts int    `json:"attempts"`
}

// cardCharge reads the charge of the entry's offer; nil without one, or
// when nothing is left to say of it. A read that fails leaves it out: the
// offer's own status is in the answer.
func (h *handler) cardCharge(c *gin.Context, v lottery.EntryView) *cardChargeJSON {
	if h.Cards == nil || v.Offer == nil {
		return nil
	}
	ch, ok, err := h.Cards.ChargeOf(c.Request.Context(), v.Offer.ID)
	if err != nil {
		h.Log.WarnContext(c.Request.Context(), "card charge state not answered", "err", err)
		return nil
	}
	if st := offers.ChargeStanding(*v.Offer, ch); ok && st != "" {
		return &cardChargeJSON{State: st, Attempts: ch.Attempts}
	}
	return nil
}

// withAppeal adds the entry's appeal, when it has one, to its view.
func (h *handler) withAppeal(c *gin.Context, v lottery.EntryView, out *entryJSON) error {
	if h.Review == nil || (v.Entry.Status != lottery.EntryRejected && v.Entry.Status != lottery.EntryReceived) {
		return nil
	}
	a, found, err := h.Review.EntryAppeal(c.Request.Context(), v)
	if err != nil || !found {
		return err
	}
	st := "open"
	if !a.Open() {
		st = a.Outcome
	}
	out.Appeal = &appealStatusJSON{Status: st, FiledAt: a.CreatedAt, DecidedAt: a.DecidedAt}
	return nil
}

type proofJSON struct {
	SubQueue    string   `json:"subqueue"`
	EntriesRoot string   `json:"entries_root"`
	LeafData    string   `json:"leaf_data"`
	LeafIndex   int      `json:"leaf_index"`
	TreeSize    int      `json:"tree_size"`
	AuditPath   []string `json:"audit_path"`
}

func (h *handler) entryProof(c *gin.Context) {
	p, err := h.Draws.EntryProof(c.Request.Context(), c.Param("id"), c.Query("token"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.Header("Cache-Control", "private, max-age=3600")
	c.JSON(http.StatusOK, proofJSON{SubQueue: p.SubQueue, EntriesRoot: p.EntriesRoot, LeafData: p.LeafData,
		LeafIndex: p.LeafIndex, TreeSize: p.TreeSize, AuditPath: p.AuditPath})
}

type outboxMessageJSON struct {
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"` // text/plain
	HTML      string    `json:"html"` // text/html, the same wording
	CreatedAt time.Time `json:"created_at"`
}

// outboxJSON shows queued mail in dev mode (API.md: newest first).
func (h *handler) outboxJSON(c *gin.Context) {
	msgs, err := h.Outbox.OutboxFor(c.Request.Context(), c.Query("to"), 100)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	out := make([]outboxMessageJSON, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, outboxMessageJSON{To: m.To, Subject: m.Subject, Body: m.Body, HTML: m.HTML, CreatedAt: m.CreatedAt})
	}
	c.JSON(http.StatusOK, gin.H{"messages": out})
}

type offerJSON struct {
	OfferID   string     `json:"offer_id"`
	Status    string     `json:"status"`
	SubQueue  string     `json:"subqueue"`
	ExpiresAt time.Time  `json:"expires_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	// Amount and Currency are the slot's price (the entry status answer).
	Amount   *int64 `json:"amount,omitempty"`
	Currency string `json:"currency,omitempty"`
}

func offerView(o lottery.Offer) offerJSON {
	return offerJSON{OfferID: o.ID, Status: string(o.Status), SubQueue: o.SubQueue, ExpiresAt: o.ExpiresAt, DecidedAt: o.DecidedAt}
}

type tokenBody struct {
	Token string `json:"token"`
}

// offerAction accepts or declines an offer with the entry's receipt token.
func (h *handler) offerAction(c *gin.Context) {
	var b tokenBody
	_, ok := h.bind(c, &b)
	if !ok {
		return
	}
	if c.Param("action") == "pay" {
		// The return URL is a path or a URL on this site's public origin
		// (behind a trusted proxy, the one the client used); the provider
		// gets it absolute.
		ret, ok := h.returnURL(c)
		if !ok {
			return
		}
		p, err := h.Offers.Pay(c.Request.Context(), c.Param("id"), b.Token, ret)
		if err != nil {
			writeError(c, h.Log, err)
			return
		}
		// Empty for a free place, confirmed at once; relative for a hosted
		// page here (the sandbox).
		c.JSON(http.StatusOK, gin.H{"offer_id": p.OfferID, "payment_id": p.ID, "status": p.Status, "checkout_url": h.checkoutURL(c, p)})
		return
	}
	o, err := h.Offers.OfferAction(c.Request.Context(), c.Param("id"), b.Token, c.Param("action"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, offerView(o))
}

// returnURL is the pay request's "return": a path or a URL on this site's
// public origin (behind a trusted proxy, the one the client used), made
// absolute for the provider; false when it was refused (answered).
func (h *handler) returnURL(c *gin.Context) (string, bool) {
	ret := c.Query("return")
	if ret == "" {
		return "", true
	}
	local, err := h.Site.OnSite(c.Request, ret)
	if err == nil {
		ret, err = h.Site.Absolute(c.Request, local)
	}
	if err != nil {
		writeError(c, h.Log, lottery.Fieldf("return", "give a path or a URL on this site"))
		return "", false
	}
	return ret, true
}

// checkoutURL is a payment's checkout, absolute: empty for a free place,
// confirmed at once; a hosted page here (the sandbox) on the client's origin.
func (h *handler) checkoutURL(c *gin.Context, p lottery.Payment) string {
	checkout := p.CheckoutURL
	if u, err := url.Parse(checkout); err == nil && checkout != "" && !u.IsAbs() {
		checkout = h.Site.Origin(c.Request).ResolveReference(u).String()
	}
	return checkout
}

// paymentWebhook takes a provider's signed webhook. A bad signature is 401,
// a delivery seen before is 200 and changes nothing.
func (h *handler) paymentWebhook(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	if err := h.Offers.HandlePaymentWebhook(c.Request.Context(), c.Param("provider"), body, c.Request.Header); err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"received": true})
}
