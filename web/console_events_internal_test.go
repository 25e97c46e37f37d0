package web

import (
	"errors"
	"os"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
)

// TestEventFormKeysTranslated: every label, help and choice of the event
// form (named through cfield, not call .T) exists in English and Korean,
// and the two languages have the same keys.
func TestEventFormKeysTranslated(t *testing.T) {
	b, err := os.ReadFile("templates/console_event_form.html")
	if err != nil {
		t.Fatal(err)
	}
	keyRe := regexp.MustCompile(`cfield \$v (?:"[^"]*"|\([^)]*\)) "([a-z0-9_.]+)"`)
	found := keyRe.FindAllStringSubmatch(string(b), -1)
	if len(found) < 40 {
		t.Fatalf("found %d cfield keys; the pattern no longer matches the template", len(found))
	}
	var keys []string
	for _, m := range found {
		keys = append(keys, "cf."+m[1])
		for _, o := range selectOptions[m[1]] {
			keys = append(keys, "cf."+m[1]+"."+o)
		}
	}
	for _, k := range keys {
		for _, lang := range []string{"en", "ko"} {
			if _, ok := messages[lang][k]; !ok {
				t.Errorf("%s missing in %s", k, lang)
			}
		}
	}
	for k := range consoleEventsMessages["en"] {
		if _, ok := consoleEventsMessages["ko"][k]; !ok {
			t.Errorf("%s has no Korean", k)
		}
	}
	for k := range consoleEventsMessages["ko"] {
		if _, ok := consoleEventsMessages["en"][k]; !ok {
			t.Errorf("%s has no English", k)
		}
	}
}

// TestEventFormRows: blank rows are left out before the spec is built (so
// the rules' paths are the rows shown), "add another" adds one row, and a
// value that is not a number is its field's error.
func TestEventFormRows(t *testing.T) {
	filled := paceRow{Code: "open", Capacity: "10", Mode: "lottery"}
	empty := paceRow{Mode: "lottery"}
	f := eventForm{Courses: []courseRow{{Code: "10k", Paces: []paceRow{empty, filled}}, {Paces: []paceRow{empty}},
		{Code: "half", Paces: []paceRow{filled, empty}}}, Tiers: []tierRow{{}, {Until: "2031-01-01", Percent: "50"}},
		Questions: []questionRow{{Kind: "text"}}}
	c := f.compact()
	got := []int{len(c.Courses), len(c.Courses[0].Paces), len(c.Courses[1].Paces), len(c.Tiers), len(c.Questions)}
	if diff := cmp.Diff([]int{2, 1, 1, 1, 0}, got); diff != "" {
		t.Errorf("compact (-want +got):\n%s", diff)
	}
	tests := []struct {
		add       string
		structure bool
		want      []int // courses, paces of course 0, paces of course 1, tiers, questions
	}{
		{"", true, []int{2, 2, 2, 2, 1}},
		{"course", true, []int{3, 2, 2, 2, 1}}, // the new course gets its blank pace groups
		{"pace-1", true, []int{2, 2, 3, 2, 1}},
		{"tier", true, []int{2, 2, 2, 3, 1}},
		{"question", true, []int{2, 2, 2, 2, 2}},
		{"course", false, []int{2, 1, 1, 2, 1}}, // an edit: courses are fixed
		{"pace-0", false, []int{2, 1, 1, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.add, func(t *testing.T) {
			p := c.padded(tt.add, tt.structure)
			if tt.structure { // a new event's form: from what it shows
				p = c.padded("", true).padded(tt.add, true)
			}
			got := []int{len(p.Courses), len(p.Courses[0].Paces), len(p.Courses[1].Paces), len(p.Tiers), len(p.Questions)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("padded(%q, %v) (-want +got):\n%s", tt.add, tt.structure, diff)
			}
		})
	}
	for _, tt := range []struct {
		f     eventForm
		field string
	}{
		{eventForm{OpensAt: "soon", ClosesAt: "2031-01-02T10:00"}, "opens_at"},
		{eventForm{OpensAt: "2031-01-01T10:00", ClosesAt: "2031-01-02T10:00", MaxGroupSize: "two"}, "max_group_size"},
		{eventForm{OpensAt: "2031-01-01T10:00", ClosesAt: "2031-01-02T10:00",
			Courses: []courseRow{{Paces: []paceRow{{}, {Capacity: "lots"}}}}}, "courses[0].pace_groups[1].capacity"},
		{eventForm{OpensAt: "2031-01-01T10:00", ClosesAt: "2031-01-02T10:00", Tiers: []tierRow{{Percent: "half"}}},
			"refund_policy.tiers[0].percent"},
	} {
		_, err := tt.f.spec()
		var e *lottery.Error
		if !asError(err, &e) || e.Field != tt.field {
			t.Errorf("spec of %+v: %v, want a %s error", tt.f, err, tt.field)
		}
	}
}

func asError(err error, e **lottery.Error) bool { return errors.As(err, e) }

// FuzzEventForm: whatever is posted, the form decodes to a spec or a field
// error and the rules take the spec, never a panic.
func FuzzEventForm(f *testing.F) {
	f.Add("2031-04-01T09:00", "2", "10k", "S\nM | Medium | 중간")
	f.Add("", "-1", "", "|||")
	f.Add("2031-13-40T99:99", "9999999999999999999999", "a b", "\x00")
	f.Fuzz(func(t *testing.T, when, num, code, text string) {
		form := eventForm{Slug: code, Name: text, TimeZone: text, OpensAt: when, ClosesAt: when, MaxGroupSize: num,
			EditionYear: num, ReviewAt: num, RaceDate: when, DrawDate: when, Currency: code,
			Tiers:     []tierRow{{Until: when, Percent: num}},
			Courses:   []courseRow{{Code: code, Name: text, Distance: num, Paces: []paceRow{{Code: code, PaceMin: text, Capacity: num, Prequeue: num, Price: num}}}},
			Questions: []questionRow{{ID: code, Kind: text, Options: text}}}
		spec, err := form.compact().padded("pace-0", true).compact().spec()
		if err != nil {
			if lottery.CodeOf(err) != lottery.CodeInvalidField {
				t.Fatalf("decode error %v is not a field error", err)
			}
			return
		}
		if _, err := spec.Build(); err != nil && lottery.CodeOf(err) != lottery.CodeInvalidField {
			t.Fatalf("build error %v is not a field error", err)
		}
	})
}
