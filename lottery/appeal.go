package lottery

import "time"

// Appeals (issue 13): a rejected runner asks once, with a message, to be let
// back in; a reviewer reinstates the entry (back into the draw, as if
// approved in review) or upholds the rejection. Both are possible only
// before the freeze, while the entry could still enter the draw.
const (
	// MaxAppealRunes is how long a runner's appeal may be, in characters.
	MaxAppealRunes = 1000
	// MaxAppealNoteRunes bounds a reviewer's note on the decision.
	MaxAppealNoteRunes = 1000
)

// Appeal decisions a reviewer takes, and the outcomes they store.
const (
	AppealReinstate  = "reinstate"
	AppealUphold     = "uphold"
	AppealReinstated = "reinstated"
	AppealUpheld     = "upheld"
)

// Appeal is a runner's appeal of a rejection and, once decided, the outcome.
type Appeal struct {
	ID        int64
	EventID   int64
	EventSlug string
	EntryID   string
	SubQueue  string
	Message   string
	CreatedAt time.Time
	// Outcome is empty while the appeal is open.
	Outcome   string
	Note      string
	DecidedAt *time.Time
	// DecidedBy is the reviewer's e-mail, for the console only.
	DecidedBy string
}

// Open reports whether no reviewer has decided yet.
func (a Appeal) Open() bool { return a.Outcome == "" }

// AppealsOpen reports whether appeals of ev's entries are taken and
// decided: before the freeze (published or closed).
func AppealsOpen(ev Event) bool { return ev.Status == EventPublished || ev.Status == EventClosed }

// CheckAppeal decides whether an entry in status st may file an appeal:
// only a rejected entry, only while AppealsOpen, and once (filed: it has
// one already).
func CheckAppeal(ev Event, st EntryStatus, filed bool) error {
	if st != EntryRejected {
		return &Error{Code: CodeInvalidTransition, Message: "only a rejected entry can appeal"}
	}
	if !AppealsOpen(ev) {
		return ErrAppealClosed
	}
	if filed {
		return ErrAppealExists
	}
	return nil
}

// AppealMessage checks a runner's appeal and returns it trimmed and cut to
// MaxAppealRunes characters.
func AppealMessage(s string) (string, error) { return cutText("message", s, MaxAppealRunes) }

// CheckAppealDecision checks a reviewer's decision and note and returns
// the outcome to store and the trimmed note (optional when reinstating,
// required when upholding, so the runner is told why).
func CheckAppealDecision(decision, note string) (outcome, cleaned string, err error) {
	switch decision {
	case AppealReinstate:
		outcome = AppealReinstated
	case AppealUphold:
		outcome = AppealUpheld
	default:
		return "", "", Fieldf("decision", "use %q or %q", AppealReinstate, AppealUphold)
	}
	if outcome == AppealReinstated && note == "" {
		return outcome, "", nil
	}
	cleaned, err = cutText("note", note, MaxAppealNoteRunes)
	if err != nil {
		return "", "", err
	}
	return outcome, cleaned, nil
}

// CheckAppealDecidable decides whether an open appeal can be decided now:
// the event's entries are not frozen yet and the entry is still rejected.
func CheckAppealDecidable(ev Event, st EntryStatus) error {
	if !AppealsOpen(ev) {
		return ErrAppealClosed
	}
	if st != EntryRejected {
		return &Error{Code: CodeInvalidTransition, Message: "the entry is no longer rejected (it is " + string(st) + ")"}
	}
	return nil
}
