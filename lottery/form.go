package lottery

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/internal/textin"
)

// An event's registration form beyond the identity fields (issue 13): the
// organizer's questions, and the two consents every entry gives, to the
// privacy notice and to the waiver, each recorded with its version. The
// rules (FormSpec.Build, Form.CheckAnswers, Form.CheckConsents) are pure.

// QuestionKind is one of the built-in kinds of question.
type QuestionKind string

// The built-in kinds. Emergency contact, T-shirt size, club and category have
// built-in English and Korean labels; free text and checkbox need the
// organizer's.
const (
	// KindEmergencyContact is a contact person's name and phone number (the
	// phone checked like the entry's own).
	KindEmergencyContact QuestionKind = "emergency_contact"
	// KindTShirt is a T-shirt size from the organizer's list.
	KindTShirt QuestionKind = "tshirt_size"
	// KindClub is a short text: the runner's club or team.
	KindClub QuestionKind = "club"
	// KindCategory is a choice from the organizer's list (gender, category).
	KindCategory QuestionKind = "category"
	// KindText is a free text.
	KindText QuestionKind = "text"
	// KindCheckbox is a yes/no box; a required one must be ticked.
	KindCheckbox QuestionKind = "checkbox"
)

// Limits of a form (in characters where they count text).
const (
	MaxQuestions      = 20
	MaxOptions        = 50
	MaxClubRunes      = 100
	MaxTextRunes      = 1000
	MaxLabelRunes     = 200
	MaxContactRunes   = 100
	MaxConsentRunes   = 10000 // a waiver's or notice's purpose, per language
	MaxRetentionRunes = 500
	MaxVersionRunes   = 32
)

// The documents every entry consents to (entry_consents.document, the keys
// of an application's "consents").
const (
	ConsentPrivacy = "privacy"
	ConsentWaiver  = "waiver"
)

// defaultVersion names the built-in documents' version.
const defaultVersion = "default-2"

// Text is a label or document in English with an optional Korean version.
type Text struct {
	EN string `json:"en"`
	KO string `json:"ko,omitempty"`
}

// In is the text in lang ("ko" or "en"); English when there is no Korean.
func (t Text) In(lang string) string {
	if lang == "ko" && t.KO != "" {
		return t.KO
	}
	return t.EN
}

// Option is one choice of a T-shirt size or category question.
type Option struct {
	Value string `json:"value"`
	Label Text   `json:"label"`
}

// Question is one question of an event's form; ID is stable, the key of its
// answer.
type Question struct {
	ID       string       `json:"id"`
	Kind     QuestionKind `json:"kind"`
	Required bool         `json:"required"`
	Label    Text         `json:"label"`
	Options  []Option     `json:"options,omitempty"`
}

// HasOptions reports whether the question is a choice from a list.
func (q Question) HasOptions() bool { return q.Kind == KindTShirt || q.Kind == KindCategory }

// MaxRunes is the longest answer a text question takes (0: not text).
func (q Question) MaxRunes() int {
	switch q.Kind {
	case KindClub:
		return MaxClubRunes
	case KindText:
		return MaxTextRunes
	}
	return 0
}

// PrivacyNotice is what a runner consents to about their personal data:
// why it is collected and how long it is kept (PIPA, GDPR), in a version.
type PrivacyNotice struct {
	Version   string `json:"version"`
	Purpose   Text   `json:"purpose"`
	Retention Text   `json:"retention"`
}

// Waiver is the liability waiver's text in a version.
type Waiver struct {
	Version string `json:"version"`
	Text    Text   `json:"text"`
}

// Form is an event's questions and consent documents.
type Form struct {
	Questions []Question    `json:"questions"`
	Privacy   PrivacyNotice `json:"privacy"`
	Waiver    Waiver        `json:"waiver"`
}

// DefaultPrivacy is the notice of an event whose organizer gave none.
var DefaultPrivacy = PrivacyNotice{Version: defaultVersion,
	Purpose: Text{
		EN: "We use your name, e-mail address, phone number, date of birth and answers to run this registration and its draw, to tell you about your entry, and to organize the race and your safety on race day. Nothing is published that names you.",
		KO: "이름, 이메일 주소, 휴대전화 번호, 생년월일과 답변은 이 접수와 추첨을 진행하고, 신청 결과를 알리고, 대회 운영과 대회 당일 안전 관리에만 사용합니다. 신청자를 알아볼 수 있는 정보는 공개하지 않습니다."},
	Retention: Text{
		EN: "Kept until 90 days after race day, then anonymized. You can ask for your data to be erased earlier on your entry's status page, unless the entry holds a paid or offered place. The published draw lists hold no personal data. If you are not drawn in a race held yearly, a keyed pseudonym of your contact details is kept so your earned ticket counts next year; erasing your entry keeps nothing.",
		KO: "대회일로부터 90일까지 보관한 뒤 익명 처리합니다. 결제했거나 제안받은 자리가 없는 신청은 신청 상태 페이지에서 더 일찍 삭제를 요청할 수 있습니다. 공개되는 추첨 명단에는 개인정보가 없습니다. 매년 열리는 대회에서 추첨되지 않은 경우, 다음 회차에 적립된 추첨권을 반영하도록 연락처의 가명 처리된 값만 보관합니다. 직접 삭제하면 아무것도 보관하지 않습니다."}}

// DefaultWaiver is the waiver of an event whose organizer gave none.
var DefaultWaiver = Waiver{Version: defaultVersion, Text: Text{
	EN: "I take part at my own risk. I am fit to run the distance I chose and have no medical reason not to. I will follow the race rules and the instructions of officials and medical staff, and I agree to receive first aid if needed.",
	KO: "본인은 자신의 책임 아래 참가합니다. 선택한 거리를 달릴 수 있는 건강 상태이며 참가하면 안 되는 의학적 사유가 없습니다. 대회 규정과 진행 요원·의료진의 지시를 따르며, 필요한 경우 응급 처치를 받는 데 동의합니다."}}

// WithDefaults fills the consent documents an event's stored form lacks
// (events created before forms existed): every event asks both consents.
func (f Form) WithDefaults() Form {
	if f.Privacy.Version == "" {
		f.Privacy = DefaultPrivacy
	}
	if f.Waiver.Version == "" {
		f.Waiver = DefaultWaiver
	}
	return f
}

// Implicit reports a form the organizer never set: no questions and the
// default documents.
func (f Form) Implicit() bool {
	f = f.WithDefaults()
	return len(f.Questions) == 0 && f.Privacy.Version == defaultVersion && f.Waiver.Version == defaultVersion
}

// Question finds a question by id.
func (f Form) Question(id string) (Question, bool) {
	for _, q := range f.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}

// builtinLabels are the built-in kinds' labels.
var builtinLabels = map[QuestionKind]Text{
	KindEmergencyContact: {EN: "Emergency contact", KO: "비상 연락처"},
	KindTShirt:           {EN: "T-shirt size", KO: "티셔츠 사이즈"},
	KindClub:             {EN: "Club or team", KO: "소속 클럽·팀"},
	KindCategory:         {EN: "Gender / category", KO: "성별 / 부문"},
}

// FormSpec is the organizer's form: "questions", "privacy" and "waiver" of
// an event spec (or of the route that replaces them).
type FormSpec struct {
	Questions []QuestionSpec
	Privacy   *PrivacySpec // nil: DefaultPrivacy
	Waiver    *WaiverSpec  // nil: DefaultWaiver
}

// QuestionSpec is one question as the organizer writes it.
type QuestionSpec struct {
	ID       string
	Kind     string
	Required bool
	Label    string
	LabelKO  string
	Options  []OptionSpec
}

// OptionSpec is one choice; Label defaults to Value.
type OptionSpec struct {
	Value   string
	Label   string
	LabelKO string
}

// PrivacySpec is the organizer's privacy notice.
type PrivacySpec struct {
	Version                string
	Purpose, PurposeKO     string
	Retention, RetentionKO string
}

// WaiverSpec is the organizer's waiver.
type WaiverSpec struct {
	Version      string
	Text, TextKO string
}

var (
	questionIDRe  = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	optionValueRe = regexp.MustCompile(`^[A-Za-z0-9_.+-]{1,32}$`)
)

// Build validates the organizer's form and returns it with the built-in
// labels and default documents filled in, or a field error with a JSON path
// ("questions[1].options[0].value", "privacy.version").
func (s FormSpec) Build() (Form, error) {
	f := Form{Questions: []Question{}}
	if len(s.Questions) > MaxQuestions {
		return Form{}, Fieldf("questions", "give at most %d questions", MaxQuestions)
	}
	seen := map[string]bool{}
	for i, qs := range s.Questions {
		path := fmt.Sprintf("questions[%d]", i)
		if !questionIDRe.MatchString(qs.ID) {
			return Form{}, Fieldf(path+".id", "use 1 to 32 lowercase letters, digits, dashes and underscores")
		}
		if seen[qs.ID] {
			return Form{}, Fieldf(path+".id", "question %q appears twice", qs.ID)
		}
		seen[qs.ID] = true
		q := Question{ID: qs.ID, Kind: QuestionKind(qs.Kind), Required: qs.Required}
		builtin, known := builtinLabels[q.Kind]
		if !known && q.Kind != KindText && q.Kind != KindCheckbox {
			return Form{}, Fieldf(path+".kind", "use one of emergency_contact, tshirt_size, club, category, text, checkbox")
		}
		en := qs.Label
		if known && strings.TrimSpace(en) == "" && strings.TrimSpace(qs.LabelKO) != "" {
			en = builtin.EN // a Korean label of its own on a built-in kind
		}
		var err error
		if q.Label, err = specText(path+".label", en, qs.LabelKO, MaxLabelRunes, !known); err != nil {
			return Form{}, err
		}
		if q.Label.EN == "" {
			q.Label = builtin
		} else if q.Label.KO == "" && q.Label.EN == builtin.EN {
			q.Label.KO = builtin.KO
		}
		if !q.HasOptions() && len(qs.Options) > 0 {
			return Form{}, Fieldf(path+".options", "only tshirt_size and category questions have options")
		}
		if q.HasOptions() {
			if len(qs.Options) < 1 || len(qs.Options) > MaxOptions {
				return Form{}, Fieldf(path+".options", "give 1 to %d options", MaxOptions)
			}
			values := map[string]bool{}
			for j, os := range qs.Options {
				op := fmt.Sprintf("%s.options[%d]", path, j)
				if !optionValueRe.MatchString(os.Value) {
					return Form{}, Fieldf(op+".value", "use 1 to 32 letters, digits or . _ + -")
				}
				if values[os.Value] {
					return Form{}, Fieldf(op+".value", "option %q appears twice", os.Value)
				}
				values[os.Value] = true
				label, err := specText(op+".label", os.Label, os.LabelKO, MaxLabelRunes, false)
				if err != nil {
					return Form{}, err
				}
				if label.EN == "" {
					label.EN = os.Value
				}
				q.Options = append(q.Options, Option{Value: os.Value, Label: label})
			}
		}
		f.Questions = append(f.Questions, q)
	}
	f.Privacy = DefaultPrivacy
	if p := s.Privacy; p != nil {
		var err error
		if f.Privacy.Version, err = specVersion("privacy.version", p.Version); err != nil {
			return Form{}, err
		}
		if f.Privacy.Purpose, err = specText("privacy.purpose", p.Purpose, p.PurposeKO, MaxConsentRunes, true); err != nil {
			return Form{}, err
		}
		if f.Privacy.Retention, err = specText("privacy.retention", p.Retention, p.RetentionKO, MaxRetentionRunes, true); err != nil {
			return Form{}, err
		}
	}
	f.Waiver = DefaultWaiver
	if w := s.Waiver; w != nil {
		var err error
		if f.Waiver.Version, err = specVersion("waiver.version", w.Version); err != nil {
			return Form{}, err
		}
		if f.Waiver.Text, err = specText("waiver.text", w.Text, w.TextKO, MaxConsentRunes, true); err != nil {
			return Form{}, err
		}
	}
	return f, nil
}

// specText checks an English text (required when need) and its optional
// Korean version ("<path>_ko").
func specText(path, en, ko string, max int, need bool) (Text, error) {
	t := Text{EN: strings.TrimSpace(en), KO: strings.TrimSpace(ko)}
	if need && t.EN == "" {
		return Text{}, Fieldf(path, "give the English text")
	}
	if !plainText(t.EN, max) {
		return Text{}, Fieldf(path, "give at most %d characters of visible text", max)
	}
	if !plainText(t.KO, max) {
		return Text{}, Fieldf(path+"_ko", "give at most %d characters of visible text, or none", max)
	}
	if t.EN == "" && t.KO != "" {
		return Text{}, Fieldf(path, "give the English text too")
	}
	return t, nil
}

// plainText: empty, or visible text of at most max characters without
// control characters other than line breaks.
func plainText(s string, max int) bool {
	if s == "" {
		return true
	}
	if len([]rune(s)) > max || !textin.Visible(s) || textin.Check(s) != nil {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

func specVersion(path, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || len([]rune(v)) > MaxVersionRunes || !plainText(v, MaxVersionRunes) || strings.ContainsAny(v, "\r\n") {
		return "", Fieldf(path, "give a version of 1 to %d characters, e.g. \"2027-01\"", MaxVersionRunes)
	}
	return v, nil
}

// Answers are an entry's answers by question id, as stored: a string
// (club, text, T-shirt size and category: the option's value), a bool
// (checkbox) or a Contact (emergency contact). Unanswered optional
// questions are absent.
type Answers map[string]any

// Contact is an emergency contact's answer; Phone is E.164.
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// Text is a text or choice answer ("" when absent).
func (a Answers) Text(id string) string { s, _ := a[id].(string); return s }

// Checked is a checkbox answer.
func (a Answers) Checked(id string) bool { b, _ := a[id].(bool); return b }

// Contact is an emergency contact answer, whether held as a Contact or as
// the map JSON decodes it into.
func (a Answers) Contact(id string) Contact {
	switch v := a[id].(type) {
	case Contact:
		return v
	case map[string]any:
		n, _ := v["name"].(string)
		p, _ := v["phone"].(string)
		return Contact{Name: n, Phone: p}
	case map[string]string:
		return Contact{Name: v["name"], Phone: v["phone"]}
	}
	return Contact{}
}

// Messages of answer errors; pages translate them by these exact texts.
const (
	MsgAnswerRequired = "answer this question"
	MsgAnswerChoice   = "choose one of the options"
	MsgAnswerText     = "give text of at most the allowed length"
	MsgAnswerCheckbox = "tick the box"
	MsgAnswerPhone    = "give a valid phone number, e.g. +82 10 1234 5678"
	MsgAnswerName     = "give the contact's name (1 to 100 characters)"
	MsgAnswerUnknown  = "this event asks no such question"
	MsgConsentMissing = "read and accept this document"
	MsgConsentVersion = "this document has changed; read the current version and accept it"
)

// CheckAnswers validates the runner's answers (as decoded from JSON or read
// from the form: strings, bools, {"name","phone"} objects) against the form
// in question order and returns them normalized (trimmed text, E.164 phone
// numbers), or the first field error ("answers.<id>", "answers.<id>.phone").
// Unknown ids are refused, so nothing unasked is kept. phoneRegion is the
// region of numbers given without a country code.
func (f Form) CheckAnswers(in map[string]any, phoneRegion string) (Answers, error) {
	for id := range in {
		if _, ok := f.Question(id); !ok {
			return nil, Fieldf("answers."+fieldSafe(id), MsgAnswerUnknown)
		}
	}
	out := Answers{}
	for _, q := range f.Questions {
		path := "answers." + q.ID
		v, given := in[q.ID]
		if v == nil {
			given = false
		}
		switch q.Kind {
		case KindCheckbox:
			b, ok := v.(bool)
			if given && !ok {
				return nil, Fieldf(path, MsgAnswerCheckbox)
			}
			if q.Required && !b {
				return nil, Fieldf(path, MsgAnswerCheckbox)
			}
			if given {
				out[q.ID] = b
			}
		case KindEmergencyContact:
			c, blank, err := contactOf(v, given)
			if err != nil {
				return nil, Fieldf(path, MsgAnswerRequired)
			}
			if blank {
				if q.Required {
					return nil, Fieldf(path+".name", MsgAnswerName)
				}
				continue
			}
			name := strings.Join(strings.Fields(c.Name), " ")
			if name == "" || len([]rune(name)) > MaxContactRunes || !plainText(name, MaxContactRunes) {
				return nil, Fieldf(path+".name", MsgAnswerName)
			}
			phone, err := identity.NormalizePhone(c.Phone, phoneRegion)
			if err != nil {
				return nil, Fieldf(path+".phone", MsgAnswerPhone)
			}
			out[q.ID] = Contact{Name: name, Phone: phone}
		default: // text and choice kinds
			s, ok := v.(string)
			if given && !ok {
				return nil, Fieldf(path, MsgAnswerText)
			}
			s = strings.TrimSpace(s)
			if s == "" {
				if q.Required {
					return nil, Fieldf(path, MsgAnswerRequired)
				}
				continue
			}
			if q.HasOptions() {
				if !hasOption(q, s) {
					return nil, Fieldf(path, MsgAnswerChoice)
				}
			} else if !plainText(s, q.MaxRunes()) || (q.Kind == KindClub && strings.ContainsAny(s, "\r\n")) {
				return nil, Fieldf(path, MsgAnswerText)
			}
			out[q.ID] = s
		}
	}
	return out, nil
}

// contactOf reads an emergency contact answer; blank when both parts are
// empty or it was not given.
func contactOf(v any, given bool) (c Contact, blank bool, err error) {
	if !given {
		return Contact{}, true, nil
	}
	switch m := v.(type) {
	case map[string]any:
		for k := range m {
			if k != "name" && k != "phone" {
				return Contact{}, false, fmt.Errorf("unknown part %q", k)
			}
		}
		n, ok1 := m["name"].(string)
		p, ok2 := m["phone"].(string)
		if (m["name"] != nil && !ok1) || (m["phone"] != nil && !ok2) {
			return Contact{}, false, fmt.Errorf("not text")
		}
		c = Contact{Name: n, Phone: p}
	case map[string]string:
		c = Contact{Name: m["name"], Phone: m["phone"]}
	case Contact:
		c = m
	default:
		return Contact{}, false, fmt.Errorf("not an object")
	}
	return c, strings.TrimSpace(c.Name) == "" && strings.TrimSpace(c.Phone) == "", nil
}

func hasOption(q Question, v string) bool {
	for _, o := range q.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

// fieldSafe keeps an unknown answer key short in the error's field name.
func fieldSafe(id string) string {
	if questionIDRe.MatchString(id) {
		return id
	}
	return "?"
}

// Consent is one document a runner accepted with their entry.
type Consent struct {
	Document   string // ConsentPrivacy or ConsentWaiver
	Version    string
	AcceptedAt time.Time
}

// CheckConsents checks that the runner accepted the current version of both
// documents ({"privacy": version, "waiver": version}) and returns the
// consents to record at now, or the field error ("consents.privacy").
func (f Form) CheckConsents(in map[string]string, now time.Time) ([]Consent, error) {
	f = f.WithDefaults()
	for k := range in {
		if k != ConsentPrivacy && k != ConsentWaiver {
			return nil, Fieldf("consents", "give only \"privacy\" and \"waiver\"")
		}
	}
	out := make([]Consent, 0, 2)
	for _, d := range []struct{ name, version string }{{ConsentPrivacy, f.Privacy.Version}, {ConsentWaiver, f.Waiver.Version}} {
		got, ok := in[d.name]
		switch {
		case !ok || strings.TrimSpace(got) == "":
			return nil, Fieldf("consents."+d.name, MsgConsentMissing)
		case got != d.version:
			return nil, Fieldf("consents."+d.name, MsgConsentVersion)
		}
		out = append(out, Consent{Document: d.name, Version: d.version, AcceptedAt: now.UTC()})
	}
	return out, nil
}

// CheckFormChange allows replacing an event's form only before its
// registration opens: an entry's answers and consents follow the form it
// applied with.
func (e *Event) CheckFormChange(now time.Time) error {
	switch e.Phase(now) {
	case EventDraft, EventPublished:
		return nil
	}
	return &Error{Code: CodeInvalidTransition, Field: "questions",
		Message: "the questions and documents can be changed only before registration opens"}
}
