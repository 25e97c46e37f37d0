package lottery

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func validFormSpec() FormSpec {
	return FormSpec{Questions: []QuestionSpec{
		{ID: "emergency", Kind: "emergency_contact", Required: true},
		{ID: "tshirt", Kind: "tshirt_size", Required: true, Options: []OptionSpec{{Value: "S"}, {Value: "M"}, {Value: "L", Label: "Large", LabelKO: "라지"}}},
		{ID: "club", Kind: "club"},
		{ID: "category", Kind: "category", Options: []OptionSpec{{Value: "f", Label: "Women", LabelKO: "여성"}, {Value: "m", Label: "Men", LabelKO: "남성"}}},
		{ID: "note", Kind: "text", Label: "Anything we should know?", LabelKO: "알려 주실 내용"},
		{ID: "photos", Kind: "checkbox", Label: "I agree to race photos", Required: true},
	},
		Privacy: &PrivacySpec{Version: "2027-01", Purpose: "To run the race.", PurposeKO: "대회 운영", Retention: "One year."},
		Waiver:  &WaiverSpec{Version: "w-3", Text: "At my own risk."}}
}

func fieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func TestFormSpecBuild(t *testing.T) {
	f, err := validFormSpec().Build()
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Questions[0].Label; got != (Text{EN: "Emergency contact", KO: "비상 연락처"}) {
		t.Errorf("built-in label: %+v", got)
	}
	if got := f.Questions[1].Options[0].Label.EN; got != "S" {
		t.Errorf("option label defaults to the value: %q", got)
	}
	if f.Privacy.Version != "2027-01" || f.Privacy.Retention.EN != "One year." || f.Waiver.Version != "w-3" {
		t.Errorf("documents: %+v %+v", f.Privacy, f.Waiver)
	}
	empty, err := FormSpec{}.Build()
	if err != nil || empty.Privacy != DefaultPrivacy || empty.Waiver != DefaultWaiver || len(empty.Questions) != 0 {
		t.Errorf("an empty spec takes the default documents: %+v %v", empty, err)
	}
	long := strings.Repeat("x", MaxLabelRunes+1)
	tests := []struct {
		name  string
		edit  func(s *FormSpec)
		field string
	}{
		{"bad id", func(s *FormSpec) { s.Questions[0].ID = "Emergency Contact" }, "questions[0].id"},
		{"duplicate id", func(s *FormSpec) { s.Questions[2].ID = "tshirt" }, "questions[2].id"},
		{"unknown kind", func(s *FormSpec) { s.Questions[2].Kind = "dropdown" }, "questions[2].kind"},
		{"free text needs a label", func(s *FormSpec) { s.Questions[4].Label = "" }, "questions[4].label"},
		{"checkbox needs a label", func(s *FormSpec) { s.Questions[5].Label = " " }, "questions[5].label"},
		{"label too long", func(s *FormSpec) { s.Questions[2].Label = long }, "questions[2].label"},
		{"Korean label too long", func(s *FormSpec) { s.Questions[2].Label, s.Questions[2].LabelKO = "Club", long }, "questions[2].label_ko"},
		{"built-in kind with only a Korean label", func(s *FormSpec) { s.Questions[4].Label = ""; s.Questions[4].Kind = "club" }, ""},
		{"Korean label without English", func(s *FormSpec) { s.Questions[4].Label = "" }, "questions[4].label"},
		{"invisible label", func(s *FormSpec) { s.Questions[4].Label = "\u200b" }, "questions[4].label"},
		{"sizes need options", func(s *FormSpec) { s.Questions[1].Options = nil }, "questions[1].options"},
		{"club has no options", func(s *FormSpec) { s.Questions[2].Options = []OptionSpec{{Value: "a"}} }, "questions[2].options"},
		{"bad option value", func(s *FormSpec) { s.Questions[1].Options[1].Value = "M L" }, "questions[1].options[1].value"},
		{"duplicate option", func(s *FormSpec) { s.Questions[3].Options[1].Value = "f" }, "questions[3].options[1].value"},
		{"too many questions", func(s *FormSpec) {
			for len(s.Questions) <= MaxQuestions {
				s.Questions = append(s.Questions, QuestionSpec{ID: "c" + strings.Repeat("x", len(s.Questions)), Kind: "club"})
			}
		}, "questions"},
		{"privacy without version", func(s *FormSpec) { s.Privacy.Version = "" }, "privacy.version"},
		{"privacy version too long", func(s *FormSpec) { s.Privacy.Version = strings.Repeat("v", 33) }, "privacy.version"},
		{"privacy without purpose", func(s *FormSpec) { s.Privacy.Purpose = "" }, "privacy.purpose"},
		{"privacy without retention", func(s *FormSpec) { s.Privacy.Retention = "" }, "privacy.retention"},
		{"waiver without text", func(s *FormSpec) { s.Waiver.Text = "" }, "waiver.text"},
		{"waiver without version", func(s *FormSpec) { s.Waiver.Version = " " }, "waiver.version"},
		{"waiver Korean with a NUL", func(s *FormSpec) { s.Waiver.TextKO = "a\x00b" }, "waiver.text_ko"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validFormSpec()
			tt.edit(&s)
			_, err := s.Build()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidField) || fieldOf(err) != tt.field {
				t.Errorf("got %v, want a field error on %s", err, tt.field)
			}
		})
	}
	// The event spec checks its form with the same paths.
	spec := validSpec()
	spec.Form = validFormSpec()
	spec.Form.Questions[1].Options = nil
	if _, err := spec.Build(); fieldOf(err) != "questions[1].options" {
		t.Errorf("event spec: got %v", err)
	}
}

func TestCheckAnswers(t *testing.T) {
	f, err := validFormSpec().Build()
	if err != nil {
		t.Fatal(err)
	}
	valid := func() map[string]any {
		return map[string]any{"emergency": map[string]any{"name": "  Park  Jiwoo ", "phone": "010-9876-5432"},
			"tshirt": "M", "club": " Seoul Runners ", "category": "f", "note": "Line one\nline two", "photos": true}
	}
	got, err := f.CheckAnswers(valid(), "KR")
	if err != nil {
		t.Fatal(err)
	}
	want := Answers{"emergency": Contact{Name: "Park Jiwoo", Phone: "+821098765432"}, "tshirt": "M", "club": "Seoul Runners",
		"category": "f", "note": "Line one\nline two", "photos": true}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("normalized answers (-want +got):\n%s", d)
	}
	if c := got.Contact("emergency"); c.Phone != "+821098765432" {
		t.Errorf("contact accessor: %+v", c)
	}
	tests := []struct {
		name  string
		edit  func(a map[string]any)
		field string
	}{
		{"optional ones left out", func(a map[string]any) { delete(a, "club"); delete(a, "category"); delete(a, "note") }, ""},
		{"optional ones empty", func(a map[string]any) { a["club"], a["note"], a["category"] = "", " ", nil }, ""},
		{"no emergency contact", func(a map[string]any) { delete(a, "emergency") }, "answers.emergency.name"},
		{"emergency contact blank", func(a map[string]any) { a["emergency"] = map[string]any{"name": " ", "phone": ""} }, "answers.emergency.name"},
		{"emergency contact without a name", func(a map[string]any) { a["emergency"] = map[string]any{"phone": "010-1111-2222"} }, "answers.emergency.name"},
		{"emergency phone invalid", func(a map[string]any) { a["emergency"] = map[string]any{"name": "Park", "phone": "12"} }, "answers.emergency.phone"},
		{"emergency phone letters", func(a map[string]any) { a["emergency"] = map[string]any{"name": "Park", "phone": "call me"} }, "answers.emergency.phone"},
		{"emergency contact as text", func(a map[string]any) { a["emergency"] = "Park 010" }, "answers.emergency"},
		{"emergency contact extra part", func(a map[string]any) {
			a["emergency"] = map[string]any{"name": "Park", "phone": "010-1111-2222", "blood": "A"}
		}, "answers.emergency"},
		{"no size", func(a map[string]any) { delete(a, "tshirt") }, "answers.tshirt"},
		{"size not offered", func(a map[string]any) { a["tshirt"] = "XXL" }, "answers.tshirt"},
		{"size as a number", func(a map[string]any) { a["tshirt"] = 3.0 }, "answers.tshirt"},
		{"category not offered", func(a map[string]any) { a["category"] = "x" }, "answers.category"},
		{"club too long", func(a map[string]any) { a["club"] = strings.Repeat("클", MaxClubRunes+1) }, "answers.club"},
		{"club on two lines", func(a map[string]any) { a["club"] = "Seoul\nRunners" }, "answers.club"},
		{"text too long", func(a map[string]any) { a["note"] = strings.Repeat("x", MaxTextRunes+1) }, "answers.note"},
		{"text with a control character", func(a map[string]any) { a["note"] = "bell\x07" }, "answers.note"},
		{"required box not ticked", func(a map[string]any) { a["photos"] = false }, "answers.photos"},
		{"required box absent", func(a map[string]any) { delete(a, "photos") }, "answers.photos"},
		{"box as text", func(a map[string]any) { a["photos"] = "yes" }, "answers.photos"},
		{"unknown question", func(a map[string]any) { a["shoe"] = "42" }, "answers.shoe"},
		{"unknown question, odd id", func(a map[string]any) { a["Shoe Size"] = "42" }, "answers.?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid()
			tt.edit(a)
			_, err := f.CheckAnswers(a, "KR")
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidField) || fieldOf(err) != tt.field {
				t.Errorf("got %v, want a field error on %s", err, tt.field)
			}
		})
	}
	// A form with no questions takes no answers.
	if _, err := (Form{}).CheckAnswers(map[string]any{"x": "y"}, "KR"); fieldOf(err) != "answers.x" {
		t.Errorf("no questions: %v", err)
	}
	if a, err := (Form{}).CheckAnswers(nil, "KR"); err != nil || len(a) != 0 {
		t.Errorf("no questions, no answers: %v %v", a, err)
	}
}

func TestCheckConsents(t *testing.T) {
	f, err := validFormSpec().Build()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 2, 10, 0, 0, 0, time.FixedZone("KST", 9*3600))
	got, err := f.CheckConsents(map[string]string{"privacy": "2027-01", "waiver": "w-3"}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []Consent{{Document: "privacy", Version: "2027-01", AcceptedAt: now.UTC()}, {Document: "waiver", Version: "w-3", AcceptedAt: now.UTC()}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("consents (-want +got):\n%s", d)
	}
	tests := []struct {
		name  string
		in    map[string]string
		field string
	}{
		{"none", nil, "consents.privacy"},
		{"no privacy", map[string]string{"waiver": "w-3"}, "consents.privacy"},
		{"empty privacy", map[string]string{"privacy": " ", "waiver": "w-3"}, "consents.privacy"},
		{"old privacy version", map[string]string{"privacy": "2026-01", "waiver": "w-3"}, "consents.privacy"},
		{"no waiver", map[string]string{"privacy": "2027-01"}, "consents.waiver"},
		{"old waiver version", map[string]string{"privacy": "2027-01", "waiver": "w-2"}, "consents.waiver"},
		{"unknown document", map[string]string{"privacy": "2027-01", "waiver": "w-3", "marketing": "1"}, "consents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.CheckConsents(tt.in, now); !errors.Is(err, ErrInvalidField) || fieldOf(err) != tt.field {
				t.Errorf("got %v, want a field error on %s", err, tt.field)
			}
		})
	}
	// An event without its own documents asks for the defaults.
	if _, err := (Form{}).CheckConsents(map[string]string{"privacy": DefaultPrivacy.Version, "waiver": DefaultWaiver.Version}, now); err != nil {
		t.Errorf("default documents: %v", err)
	}
}

func TestCheckFormChange(t *testing.T) {
	opens := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	ev := Event{Status: EventPublished, OpensAt: opens, ClosesAt: opens.Add(24 * time.Hour)}
	tests := []struct {
		name   string
		status EventStatus
		now    time.Time
		ok     bool
	}{
		{"draft", EventDraft, opens.Add(time.Hour), true},
		{"published, before opening", EventPublished, opens.Add(-time.Second), true},
		{"open", EventPublished, opens, false},
		{"closed", EventClosed, opens.Add(-time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ev
			e.Status = tt.status
			err := e.CheckFormChange(tt.now)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidTransition)) {
				t.Errorf("got %v, want ok=%t", err, tt.ok)
			}
		})
	}
}

// FuzzCheckAnswers: any decoded JSON body is refused with a field error or
// accepted as answers to asked questions only, which check again to the
// same answers (normalizing twice changes nothing).
func FuzzCheckAnswers(f *testing.F) {
	form, err := validFormSpec().Build()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"emergency":{"name":"Park","phone":"010-9876-5432"},"tshirt":"M","category":"f","photos":true}`)
	f.Add(`{"emergency":{"name":" ","phone":"+82 10 1111 2222"},"tshirt":"S","club":"x\ny","photos":true}`)
	f.Add(`{"emergency":"x","tshirt":3,"photos":"on","shoe":null}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, body string) {
		var in map[string]any
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		out, err := form.CheckAnswers(in, "KR")
		if err != nil {
			if !errors.Is(err, ErrInvalidField) || !strings.HasPrefix(fieldOf(err), "answers.") {
				t.Fatalf("error %v is not an answers field error", err)
			}
			return
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		var again map[string]any
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatal(err)
		}
		out2, err := form.CheckAnswers(again, "KR")
		if err != nil {
			t.Fatalf("stored answers %s refused: %v", b, err)
		}
		if b2, _ := json.Marshal(out2); string(b2) != string(b) {
			t.Fatalf("normalizing twice: %s then %s", b, b2)
		}
	})
}

// TestDefaultDocumentsFitTheirLimits: the defaults an organizer's form
// starts from must pass the form's own limits, or the console's event form
// refuses its own prefilled text.
func TestDefaultDocumentsFitTheirLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		text Text
		max  int
	}{
		{"privacy purpose", DefaultPrivacy.Purpose, MaxConsentRunes},
		{"privacy retention", DefaultPrivacy.Retention, MaxRetentionRunes},
		{"waiver", DefaultWaiver.Text, MaxConsentRunes},
	} {
		for lang, s := range map[string]string{"en": tc.text.EN, "ko": tc.text.KO} {
			if n := utf8.RuneCountInString(s); n == 0 || n > tc.max {
				t.Errorf("default %s (%s): %d characters, want 1..%d", tc.name, lang, n, tc.max)
			}
		}
	}
}
