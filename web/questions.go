package web

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// Registration questions and consents on the pages (issue 13): the
// questions after the identity fields of the form (templates/_questions.html),
// the privacy notice and waiver pages, and "Edit my details" on the status
// page (templates/_entry_answers.html). Inputs are named by the field path
// the rules report ("answers.tshirt", "answers.emergency.phone",
// "consents.privacy"), so an error lands beside its control.

const (
	answersPrefix  = "answers."
	consentsPrefix = "consents."
)

// questionValues are the answers and consents as posted (or as stored,
// for the edit form), by input name.
type questionValues url.Values

// readQuestionValues collects the posted answers.* and consents.* values.
func readQuestionValues(c *gin.Context) questionValues {
	out := questionValues{}
	for k, v := range c.Request.PostForm {
		if strings.HasPrefix(k, answersPrefix) || strings.HasPrefix(k, consentsPrefix) {
			out[k] = v
		}
	}
	return out
}

func (q questionValues) get(name string) string {
	if v := q[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Hidden lists the values as name/value pairs in a stable order, for the
// code step's hidden inputs.
func (q questionValues) Hidden() [][2]string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, [2]string{k, q.get(k)})
	}
	return out
}

// answers turns the form's values into what lottery.Form.CheckAnswers reads:
// a checkbox is true when ticked, an emergency contact its two parts; an
// untouched optional question is left out. Values for no question are kept,
// so the rules refuse them.
func (q questionValues) answers(form lottery.Form) map[string]any {
	out := map[string]any{}
	for k := range q {
		if id, ok := strings.CutPrefix(k, answersPrefix); ok && !strings.Contains(id, ".") {
			if _, asked := form.Question(id); !asked {
				out[id] = q.get(k)
			}
		}
	}
	for _, qu := range form.Questions {
		name := answersPrefix + qu.ID
		switch qu.Kind {
		case lottery.KindCheckbox:
			out[qu.ID] = q.get(name) != ""
		case lottery.KindEmergencyContact:
			n, p := q.get(name+".name"), q.get(name+".phone")
			if n != "" || p != "" {
				out[qu.ID] = map[string]any{"name": n, "phone": p}
			}
		default:
			if v := q.get(name); v != "" {
				out[qu.ID] = v
			}
		}
	}
	return out
}

// consents are the ticked documents' versions.
func (q questionValues) consents() map[string]string {
	out := map[string]string{}
	for _, d := range []string{lottery.ConsentPrivacy, lottery.ConsentWaiver} {
		if v := q.get(consentsPrefix + d); v != "" {
			out[d] = v
		}
	}
	return out
}

// storedValues are an entry's stored answers as the edit form's values.
func storedValues(form lottery.Form, a lottery.Answers) questionValues {
	out := questionValues{}
	for _, qu := range form.Questions {
		name := answersPrefix + qu.ID
		switch qu.Kind {
		case lottery.KindCheckbox:
			if a.Checked(qu.ID) {
				out[name] = []string{"on"}
			}
		case lottery.KindEmergencyContact:
			c := a.Contact(qu.ID)
			out[name+".name"], out[name+".phone"] = []string{c.Name}, []string{c.Phone}
		default:
			out[name] = []string{a.Text(qu.ID)}
		}
	}
	return out
}

// questionField is one question as the template draws it.
type questionField struct {
	ID, Name, Kind, Label, Value, Message string
	Required, Checked, Invalid, TextArea  bool
	MaxRunes                              int
	Options                               []optionField
	// An emergency contact's two inputs.
	Contact *contactField
	// Optional marks a question that may be left empty; Choose is a
	// list's empty choice; Display is the answer as read back.
	Optional, Choose, Display string
}

type optionField struct {
	Value, Label string
	Selected     bool
}

type contactField struct {
	Name, Phone                   subField
	NameLabel, PhoneLabel, Legend string
	Required                      bool
}

type subField struct {
	Name, Value, Message string
	Invalid              bool
}

// consentField is one consent checkbox.
type consentField struct {
	Name, Document, Version, Link, Message string
	Checked, Invalid                       bool
}

// answerMessages translate the rules' answer errors (lottery.Msg*).
var answerMessages = map[string]string{
	lottery.MsgAnswerRequired: "q.err.required",
	lottery.MsgAnswerChoice:   "q.err.choice",
	lottery.MsgAnswerText:     "q.err.text",
	lottery.MsgAnswerCheckbox: "q.err.checkbox",
	lottery.MsgAnswerPhone:    "q.err.phone",
	lottery.MsgAnswerName:     "q.err.name",
	lottery.MsgAnswerUnknown:  "q.err.unknown",
	lottery.MsgConsentMissing: "q.err.consent",
	lottery.MsgConsentVersion: "q.err.consent_version",
}

// localizeFormError is a question or consent error with its message in
// lang, so the alert and the text beside the field read in the page's
// language; other errors pass unchanged.
func localizeFormError(lang string, err error) error {
	var e *lottery.Error
	if !errors.As(err, &e) || e.Code != lottery.CodeInvalidField ||
		(!strings.HasPrefix(e.Field, answersPrefix) && !strings.HasPrefix(e.Field, consentsPrefix)) {
		return err
	}
	key, ok := answerMessages[e.Message]
	if !ok {
		return err
	}
	return &lottery.Error{Code: e.Code, Field: e.Field, Message: translator(lang)(key)}
}

// isFormField reports whether an error is about a question or a consent.
func isFormField(err error) bool {
	var e *lottery.Error
	return errors.As(err, &e) && e.Code == lottery.CodeInvalidField &&
		(strings.HasPrefix(e.Field, answersPrefix) || strings.HasPrefix(e.Field, consentsPrefix))
}

// questionFields lays out a form's questions with the given values and the
// page's error beside its field.
func questionFields(v view, form lottery.Form, values questionValues) []questionField {
	errOn := func(name string) (bool, string) {
		if v.Err != nil && v.Err.Field == name {
			return true, v.ErrText
		}
		return false, ""
	}
	out := make([]questionField, 0, len(form.Questions))
	for _, q := range form.Questions {
		name := answersPrefix + q.ID
		f := questionField{ID: q.ID, Name: name, Kind: string(q.Kind), Label: q.Label.In(v.Lang), Required: q.Required,
			Value: values.get(name), Checked: values.get(name) != "", MaxRunes: q.MaxRunes(), TextArea: q.Kind == lottery.KindText}
		f.Invalid, f.Message = errOn(name)
		f.Choose, f.Display = v.T("q.choose"), f.Value
		if !q.Required {
			f.Optional = v.T("q.optional")
		}
		for _, o := range q.Options {
			f.Options = append(f.Options, optionField{Value: o.Value, Label: o.Label.In(v.Lang), Selected: o.Value == f.Value})
			if o.Value == f.Value {
				f.Display = o.Label.In(v.Lang)
			}
		}
		if q.Kind == lottery.KindCheckbox {
			f.Display = v.T("q.no")
			if f.Checked {
				f.Display = v.T("q.yes")
			}
		}
		if q.Kind == lottery.KindEmergencyContact {
			c := &contactField{Legend: f.Label, NameLabel: v.T("q.contact.name"), PhoneLabel: v.T("q.contact.phone"), Required: q.Required,
				Name: subField{Name: name + ".name", Value: values.get(name + ".name")}, Phone: subField{Name: name + ".phone", Value: values.get(name + ".phone")}}
			c.Name.Invalid, c.Name.Message = errOn(c.Name.Name)
			c.Phone.Invalid, c.Phone.Message = errOn(c.Phone.Name)
			if f.Invalid { // the contact as a whole
				c.Name.Invalid, c.Name.Message = true, f.Message
			}
			f.Contact = c
			f.Display = strings.TrimSpace(c.Name.Value + " · " + c.Phone.Value)
			if c.Name.Value == "" && c.Phone.Value == "" {
				f.Display = ""
			}
		}
		out = append(out, f)
	}
	return out
}

// consentFields are the two consent checkboxes of an event's form.
func consentFields(v view, ev lottery.Event, values questionValues) []consentField {
	form := ev.Form.WithDefaults()
	out := []consentField{}
	for _, d := range []struct{ doc, version string }{{lottery.ConsentPrivacy, form.Privacy.Version}, {lottery.ConsentWaiver, form.Waiver.Version}} {
		name := consentsPrefix + d.doc
		f := consentField{Name: name, Document: d.doc, Version: d.version, Checked: values.get(name) == d.version,
			Link: "/events/" + url.PathEscape(ev.Slug) + "/" + d.doc}
		if v.Err != nil && v.Err.Field == name {
			f.Invalid, f.Message = true, v.ErrText
		}
		out = append(out, f)
	}
	return out
}

// consentPage is the privacy notice or the waiver of an event.
type consentPage struct {
	Event    lottery.Event
	Document string
	Privacy  lottery.PrivacyNotice
	Waiver   lottery.Waiver
}

// consentDoc shows an event's privacy notice or waiver, in the page's
// language when the organizer wrote one, else in English.
func (p *pages) consentDoc(doc string) gin.HandlerFunc {
	return func(c *gin.Context) {
		ev, err := p.Svc.PublicEvent(c.Request.Context(), c.Param("slug"))
		if err != nil {
			p.fail(c, err)
			return
		}
		form := ev.Form.WithDefaults()
		c.Header("Cache-Control", "public, max-age=60")
		title := translator(p.lang(c))("consent." + doc + ".title")
		p.render(c, http.StatusOK, "consent_doc", title, consentPage{Event: ev, Document: doc, Privacy: form.Privacy,
			Waiver: form.Waiver}, nil)
	}
}

// answersSection is the status page's "Edit my details".
type answersSection struct {
	Show     bool // the event asks questions
	Editable bool // registration is open
	Saved    bool
	Values   questionValues
}

// answersInputKey holds a refused edit's input for the status page.
const answersInputKey = "answers.input"

// answersSection fills the status page's section: the stored answers, or
// the runner's refused input.
func (p *pages) answersSection(c *gin.Context, v lottery.EntryView) answersSection {
	form := v.Event.Form.WithDefaults()
	s := answersSection{Show: len(form.Questions) > 0, Editable: p.Registration.CanEditAnswers(v.Event),
		Saved: c.Query("saved") == "1", Values: storedValues(form, v.Entry.Answers)}
	if in, ok := c.Get(answersInputKey); ok {
		s.Values = in.(questionValues)
	}
	return s
}

// editAnswers takes the status page's "Edit my details" form; the receipt
// token in the form authenticates it, as on the other runner forms, and a
// form from another site is refused. A refusal shows the page again with
// the input kept and the error beside its field.
func (p *pages) editAnswers(c *gin.Context) {
	tok := c.PostForm("token")
	v, err := p.Registration.EntryStatus(c.Request.Context(), c.Param("id"), tok)
	if err != nil {
		p.fail(c, err)
		return
	}
	values := readQuestionValues(c)
	_, err = p.Registration.EditAnswers(c.Request.Context(), c.Param("id"), tok, values.answers(v.Event.Form.WithDefaults()))
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/entries/"+url.PathEscape(v.Entry.ID)+"?token="+url.QueryEscape(tok)+"&saved=1#details")
		return
	}
	if code := lottery.CodeOf(err); code == lottery.CodeNotFound || code == lottery.CodeInternal || code == lottery.CodeUnavailable {
		p.fail(c, err)
		return
	}
	// A closed registration is a conflict with the entry's state (409, as
	// the API answers), a bad answer 422.
	status := http.StatusUnprocessableEntity
	if errors.Is(err, lottery.ErrClosed) {
		status = http.StatusConflict
	}
	c.Set(answersInputKey, values)
	p.showEntry(c, tok, status, "", localizeFormError(p.lang(c), err))
}

func init() {
	funcs["questionFields"] = questionFields
	funcs["storedValues"] = storedValues
	funcs["consentFields"] = consentFields
}
