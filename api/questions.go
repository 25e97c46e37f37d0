package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// Registration questions and consents (issue 13): the form fields of an
// event spec and of the event view, the organizer's route that replaces
// them before registration opens, and the runner's route that edits their
// answers until it closes.

// formSpecJSON is the form part of an event spec, and the body of
// PUT /api/v1/admin/events/{slug}/questions.
type formSpecJSON struct {
	Questions []questionJSON `json:"questions"`
	Privacy   *privacyJSON   `json:"privacy"`
	Waiver    *waiverJSON    `json:"waiver"`
}

type questionJSON struct {
	ID       string       `json:"id"`
	Kind     string       `json:"kind"`
	Required bool         `json:"required"`
	Label    string       `json:"label,omitempty"`
	LabelKO  string       `json:"label_ko,omitempty"`
	Options  []optionJSON `json:"options,omitempty"`
}

// optionJSON is a choice: {"value","label"?,"label_ko"?}, or just the value
// as a string ("M").
type optionJSON struct {
	Value   string `json:"value"`
	Label   string `json:"label,omitempty"`
	LabelKO string `json:"label_ko,omitempty"`
}

func (o *optionJSON) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*o = optionJSON{Value: s}
		return nil
	}
	type plain optionJSON
	return json.Unmarshal(b, (*plain)(o))
}

type privacyJSON struct {
	Version     string `json:"version"`
	Purpose     string `json:"purpose"`
	PurposeKO   string `json:"purpose_ko,omitempty"`
	Retention   string `json:"retention"`
	RetentionKO string `json:"retention_ko,omitempty"`
}

type waiverJSON struct {
	Version string `json:"version"`
	Text    string `json:"text"`
	TextKO  string `json:"text_ko,omitempty"`
}

func (b formSpecJSON) spec() lottery.FormSpec {
	s := lottery.FormSpec{}
	for _, q := range b.Questions {
		qs := lottery.QuestionSpec{ID: q.ID, Kind: q.Kind, Required: q.Required, Label: q.Label, LabelKO: q.LabelKO}
		for _, o := range q.Options {
			qs.Options = append(qs.Options, lottery.OptionSpec{Value: o.Value, Label: o.Label, LabelKO: o.LabelKO})
		}
		s.Questions = append(s.Questions, qs)
	}
	if p := b.Privacy; p != nil {
		s.Privacy = &lottery.PrivacySpec{Version: p.Version, Purpose: p.Purpose, PurposeKO: p.PurposeKO,
			Retention: p.Retention, RetentionKO: p.RetentionKO}
	}
	if w := b.Waiver; w != nil {
		s.Waiver = &lottery.WaiverSpec{Version: w.Version, Text: w.Text, TextKO: w.TextKO}
	}
	return s
}

// formView is an event's form in the spec's shape, so an organizer can
// read it, change it and send it back.
func formView(f lottery.Form) formSpecJSON {
	f = f.WithDefaults()
	out := formSpecJSON{Questions: []questionJSON{},
		Privacy: &privacyJSON{Version: f.Privacy.Version, Purpose: f.Privacy.Purpose.EN, PurposeKO: f.Privacy.Purpose.KO,
			Retention: f.Privacy.Retention.EN, RetentionKO: f.Privacy.Retention.KO},
		Waiver: &waiverJSON{Version: f.Waiver.Version, Text: f.Waiver.Text.EN, TextKO: f.Waiver.Text.KO}}
	for _, q := range f.Questions {
		qj := questionJSON{ID: q.ID, Kind: string(q.Kind), Required: q.Required, Label: q.Label.EN, LabelKO: q.Label.KO}
		for _, o := range q.Options {
			qj.Options = append(qj.Options, optionJSON{Value: o.Value, Label: o.Label.EN, LabelKO: o.Label.KO})
		}
		out.Questions = append(out.Questions, qj)
	}
	return out
}

// setForm replaces an event's questions and documents before it opens.
func (h *handler) setForm(c *gin.Context) {
	var b formSpecJSON
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	ev, err := h.Svc.SetForm(c.Request.Context(), staffOf(c), c.Param("slug"), b.spec())
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, eventView(ev, h.Svc.Now()))
}

type answersBody struct {
	Token   string         `json:"token"`
	Answers map[string]any `json:"answers"`
}

type consentJSON struct {
	Document   string    `json:"document"`
	Version    string    `json:"version"`
	AcceptedAt time.Time `json:"accepted_at"`
}

func consentsView(cs []lottery.Consent) []consentJSON {
	out := make([]consentJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, consentJSON{Document: c.Document, Version: c.Version, AcceptedAt: c.AcceptedAt})
	}
	return out
}

// answersView is an entry's answers for the holder of its receipt.
func answersView(a lottery.Answers) lottery.Answers {
	if a == nil {
		return lottery.Answers{}
	}
	return a
}

// editAnswers replaces an entry's answers until registration closes: 200
// with the entry; a wrong token 404; after close 409 registration_closed
// (a change refused because the window passed, as for withdrawing).
func (h *handler) editAnswers(c *gin.Context) {
	var b answersBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	v, err := h.Registration.EditAnswers(c.Request.Context(), c.Param("id"), b.Token, b.Answers)
	if errors.Is(err, lottery.ErrClosed) {
		c.AbortWithStatusJSON(http.StatusConflict, errorBody{errorDetail{Code: lottery.CodeRegistrationClosed,
			Message: "registration is closed: answers can no longer change"}})
		return
	}
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, h.entryView(c, v))
}
