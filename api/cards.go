package api

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// registerCards mounts card on file at apply (issue 15): the runner's
// POST /events/:slug/card-setups (public, budgeted per client) and the
// organizer's policy under /admin/events/:slug/card-policy (orgScope
// checks the event's organization).
func (h *handler) registerCards(v1, admin *gin.RouterGroup) {
	v1.POST("/events/:slug/card-setups", h.startCardSetup)
	admin.GET("/events/:slug/card-policy", h.cardPolicy)
	admin.PUT("/events/:slug/card-policy", h.setCardPolicy)
}

// cardPolicyJSON is an event's card-on-file option; a number left out of
// a PUT takes its default (1, 1200, 3).
type cardPolicyJSON struct {
	Enabled         bool `json:"enabled"`
	EntriesPerCard  *int `json:"entries_per_card"`
	ChargePerMinute *int `json:"charge_per_minute"`
	MaxAttempts     *int `json:"max_attempts"`
}

func cardPolicyView(p lottery.CardPolicy) cardPolicyJSON {
	return cardPolicyJSON{Enabled: p.Enabled, EntriesPerCard: &p.EntriesPerCard, ChargePerMinute: &p.ChargePerMinute,
		MaxAttempts: &p.MaxAttempts}
}

func (h *handler) cardPolicy(c *gin.Context) {
	p, err := h.Svc.CardPolicy(c.Request.Context(), staffOf(c), c.Param("slug"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, cardPolicyView(p))
}

// setCardPolicy sets the option before registration opens: 200 with it;
// 422 naming a bad number; 409 invalid_transition once registration opened.
func (h *handler) setCardPolicy(c *gin.Context) {
	var b cardPolicyJSON
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	p := lottery.CardPolicy{Enabled: b.Enabled}.WithDefaults()
	for _, f := range []struct {
		in  *int
		out *int
	}{{b.EntriesPerCard, &p.EntriesPerCard}, {b.ChargePerMinute, &p.ChargePerMinute}, {b.MaxAttempts, &p.MaxAttempts}} {
		if f.in != nil {
			*f.out = *f.in
		}
	}
	out, err := h.Svc.SetCardPolicy(c.Request.Context(), staffOf(c), c.Param("slug"), p)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, cardPolicyView(out))
}

// cardSetupJSON is a started card setup: the runner confirms the card at
// confirm_url, then applies with setup_id as card_setup_id.
type cardSetupJSON struct {
	SetupID    string `json:"setup_id"`
	ConfirmURL string `json:"confirm_url"`
}

// startCardSetup begins saving a card for an application: 201; 409
// no_card_on_file for an event without card on file; 422 return_url when
// the body's return path leaves the site. The body is optional:
// {"return_url": "/path"}, by default the event's application form. Each
// call counts against the client's own budget (IP, device), never anyone
// else's.
func (h *handler) startCardSetup(c *gin.Context) {
	if err := h.gate.Limit(c); err != nil {
		writeError(c, h.Log, err)
		return
	}
	var b struct {
		ReturnURL string `json:"return_url"`
	}
	body, err := readBody(c)
	if err == nil && len(body) > 0 {
		err = decodeJSON(body, &b)
	}
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	if b.ReturnURL == "" {
		b.ReturnURL = "/events/" + url.PathEscape(c.Param("slug")) + "/apply"
	}
	s, err := h.Registration.StartCardSetup(c.Request.Context(), c.Param("slug"), b.ReturnURL)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusCreated, cardSetupJSON{SetupID: s.ID, ConfirmURL: s.ConfirmURL})
}

// savedCardJSON is a saved card as its runner is shown it.
type savedCardJSON struct {
	Brand string `json:"brand"`
	Last4 string `json:"last4"`
}

func savedCardView(c *lottery.SavedCard) *savedCardJSON {
	if c == nil {
		return nil
	}
	return &savedCardJSON{Brand: c.Brand, Last4: c.Last4}
}

// reviewCardJSON is an entry's saved card as a reviewer sees it: brand,
// last four and how many entries of the event saved the same card (the
// fingerprint itself stays in the store).
type reviewCardJSON struct {
	Brand  string `json:"brand"`
	Last4  string `json:"last4"`
	Shared int    `json:"shared_entries"`
}

// reviewCardDetail is the review detail with the entry's card, when it
// saved one.
type reviewCardDetail struct {
	reviewDetailJSON
	Card *reviewCardJSON `json:"card,omitempty"`
}

func reviewCardView(c *lottery.SavedCard, shared int) *reviewCardJSON {
	if c == nil {
		return nil
	}
	return &reviewCardJSON{Brand: c.Brand, Last4: c.Last4, Shared: shared}
}
