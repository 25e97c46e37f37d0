package lottery

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/startline/startline/internal/textin"
)

// The dispute window: freeze publishes each sub-queue's frozen list and its
// root, runners check their line and may dispute it, and the seed is not
// revealed (so nothing is drawn) before the window ends.
const (
	// DefaultDisputeWindow is an event's window when the organizer sets none.
	DefaultDisputeWindow = 24 * time.Hour
	// MaxDisputeWindow bounds it: a month is longer than any race waits.
	MaxDisputeWindow = 30 * 24 * time.Hour
	// MaxDisputeRunes is how long a runner's message may be, in characters.
	MaxDisputeRunes = 500
	// MaxAnswerRunes is how long a reviewer's answer may be, in characters.
	MaxAnswerRunes = 1000
	// MaxDisputesPerEntry caps what one receipt holder can file.
	MaxDisputesPerEntry = 3
)

// Dispute outcomes a reviewer answers with.
const (
	DisputeUpheld = "upheld"
	DisputeDenied = "denied"
)

// Dispute is a runner's objection to their frozen line and, once a reviewer
// answered, the answer.
type Dispute struct {
	ID        int64
	EventID   int64
	EventSlug string
	EntryID   string
	SubQueue  string
	Message   string
	CreatedAt time.Time
	// Outcome is empty while the dispute is open.
	Outcome    string
	Answer     string
	AnsweredAt *time.Time
	// AnsweredBy is the reviewer's e-mail, for the console only.
	AnsweredBy string
}

// Open reports whether no reviewer has answered yet.
func (d Dispute) Open() bool { return d.Outcome == "" }

// RevealNotBefore is when ev's dispute window ends: frozen_at plus the
// window. ok is false before freeze.
func RevealNotBefore(ev Event) (t time.Time, ok bool) {
	if ev.FrozenAt == nil {
		return time.Time{}, false
	}
	return ev.FrozenAt.Add(ev.DisputeWindow).UTC(), true
}

// DisputeWindowOpen reports whether runners may still dispute ev's frozen
// lists at now: the event is frozen, its seed not revealed, and the window
// not over. A window of 0 is never open.
func DisputeWindowOpen(ev Event, now time.Time) bool {
	end, ok := RevealNotBefore(ev)
	return ok && ev.Status == EventFrozen && ev.RevealedAt == nil && now.Before(end)
}

// CheckRevealWindow refuses a reveal before ev's dispute window ends, with
// the end in the message (ErrDisputeWindowOpen).
func CheckRevealWindow(ev Event, now time.Time) error {
	end, ok := RevealNotBefore(ev)
	if !ok || !now.Before(end) {
		return nil
	}
	return &Error{Code: CodeDisputeWindowOpen, Field: "action",
		Message: fmt.Sprintf("the dispute window is open until %s; reveal at or after then", end.Format(time.RFC3339))}
}

// CheckDispute decides whether an entry may file another dispute: the
// window must be open and the entry may have filed fewer than
// MaxDisputesPerEntry. Any entry of the event may dispute, whatever its
// status: one left out of the frozen list (rejected, still in review) is
// who the window is for.
func CheckDispute(ev Event, filed int, now time.Time) error {
	if !DisputeWindowOpen(ev, now) {
		return ErrDisputeWindowClosed
	}
	if filed >= MaxDisputesPerEntry {
		return ErrDisputeLimit
	}
	return nil
}

// DisputeMessage checks a runner's message and returns it trimmed and cut
// to MaxDisputeRunes characters (on a character boundary: the form stops
// typing there, so only a script sends more).
func DisputeMessage(s string) (string, error) {
	return cutText("message", s, MaxDisputeRunes)
}

// CheckAnswer checks a reviewer's answer: an outcome (upheld or denied)
// and a text for the runner, cut to MaxAnswerRunes characters.
func CheckAnswer(outcome, text string) (string, error) {
	if outcome != DisputeUpheld && outcome != DisputeDenied {
		return "", Fieldf("outcome", "use %q or %q", DisputeUpheld, DisputeDenied)
	}
	return cutText("answer", text, MaxAnswerRunes)
}

// cutText is the one check of a free-text field: valid text, something
// visible, at most max characters kept.
func cutText(field, s string, max int) (string, error) {
	if textin.Check(s) != nil {
		return "", Fieldf(field, "use plain text without control characters")
	}
	s = strings.TrimSpace(s)
	if !textin.Visible(s) {
		return "", Fieldf(field, "write a few words")
	}
	if utf8.RuneCountInString(s) > max {
		i, n := 0, 0
		for i = range s {
			if n == max {
				break
			}
			n++
		}
		s = strings.TrimSpace(s[:i])
	}
	return s, nil
}
