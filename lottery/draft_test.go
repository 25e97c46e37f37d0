package lottery

import (
	"errors"
	"testing"
)

func TestCheckReplaceDraft(t *testing.T) {
	draft := Event{Slug: "spring", Status: EventDraft}
	published := Event{Slug: "spring", Status: EventPublished}
	closed := Event{Slug: "spring", Status: EventClosed}
	for _, tc := range []struct {
		name      string
		ev        Event
		slug      string
		code      string
		field     string
		notDraftE bool
	}{
		{"draft, same slug", draft, "spring", "", "", false},
		{"draft, new slug", draft, "autumn", CodeInvalidField, "slug", false},
		{"draft, no slug", draft, "", CodeInvalidField, "slug", false},
		{"published", published, "spring", CodeInvalidTransition, "", true},
		{"published, new slug", published, "autumn", CodeInvalidTransition, "", true},
		{"closed", closed, "spring", CodeInvalidTransition, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckReplaceDraft(tc.ev, EventSpec{Slug: tc.slug})
			if tc.code == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("err = %#v; want code %s field %q", err, tc.code, tc.field)
			}
			if tc.notDraftE != errors.Is(err, ErrNotDraft) {
				t.Fatalf("errors.Is(err, ErrNotDraft) = %v", !tc.notDraftE)
			}
		})
	}
}
