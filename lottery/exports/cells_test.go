package exports

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/startline/startline/lottery"
)

func TestReviewState(t *testing.T) {
	for _, tt := range []struct {
		decision string
		status   lottery.EntryStatus
		want     string
	}{
		{"accept", lottery.EntryReceived, "not flagged"},
		{"review", lottery.EntryInReview, "in review"},
		{"review", lottery.EntryRejected, "rejected"},
		{"review", lottery.EntryReceived, "approved"},
		{"reject", lottery.EntryConfirmed, "approved"},
		{"accept", lottery.EntryRejected, "rejected"}, // a whole cluster rejected
	} {
		if got := ReviewState(tt.decision, tt.status); got != tt.want {
			t.Errorf("ReviewState(%s, %s) = %q, want %q", tt.decision, tt.status, got, tt.want)
		}
	}
}

func TestAnswerCell(t *testing.T) {
	a := lottery.Answers{"ok": true, "size": "m", "other": "xl", "club": "Han River", "sos": map[string]any{"name": "Kim", "phone": "+821012345678"}}
	size := lottery.Question{ID: "size", Kind: lottery.KindTShirt, Options: []lottery.Option{{Value: "m", Label: lottery.Text{EN: "Medium", KO: "중"}}}}
	for _, tt := range []struct {
		q    lottery.Question
		want string
	}{
		{lottery.Question{ID: "ok", Kind: lottery.KindCheckbox}, "yes"},
		{lottery.Question{ID: "missing", Kind: lottery.KindCheckbox}, "no"},
		{size, "Medium"},
		{lottery.Question{ID: "other", Kind: lottery.KindTShirt, Options: size.Options}, "xl"}, // an option since removed
		{lottery.Question{ID: "club", Kind: lottery.KindClub}, "Han River"},
		{lottery.Question{ID: "sos", Kind: lottery.KindEmergencyContact}, "Kim +821012345678"},
		{lottery.Question{ID: "nobody", Kind: lottery.KindEmergencyContact}, ""},
	} {
		if got := AnswerCell(tt.q, a); got != tt.want {
			t.Errorf("AnswerCell(%s) = %q, want %q", tt.q.ID, got, tt.want)
		}
	}
}

// FuzzFilterOf: any search, status, sub-queue and cursor an organizer (or
// a crafted link) sends gives a filter or a field error, never a panic,
// and an id range only of lower-case UUID text.
func FuzzFilterOf(f *testing.F) {
	ev := lottery.Event{Courses: []lottery.Course{{Code: "half", PaceGroups: []lottery.PaceGroup{{ID: 7, Code: "open"}}}}}
	for _, s := range []string{"", "kim@example.com", "010-1234-5678", "3f2a9c", "----", "1764900000000000_3f2a9c00-0000-4000-8000-000000000001", "김민준", "%_\\"} {
		f.Add(s, "", "", s)
	}
	f.Fuzz(func(t *testing.T, search, status, subqueue, after string) {
		flt, err := FilterOf(ev, ListQuery{Search: search, Status: status, SubQueue: subqueue, After: after}, "KR")
		if err != nil {
			if lottery.CodeOf(err) != lottery.CodeInvalidField {
				t.Fatalf("not a field error: %v", err)
			}
			return
		}
		if flt.IDFrom != "" && (len(flt.IDFrom) != 36 || !uuidRe.MatchString(flt.IDFrom) || !uuidRe.MatchString(flt.IDTo)) {
			t.Fatalf("id range %q..%q", flt.IDFrom, flt.IDTo)
		}
		if flt.Limit != PageSize || (utf8.ValidString(search) && strings.TrimSpace(search) == "" && flt.Text != "") {
			t.Fatalf("filter %+v", flt)
		}
	})
}
