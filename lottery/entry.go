package lottery

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/internal/textin"
)

// EntryStatus is where an entry stands. Every change is appended to the
// event log.
type EntryStatus string

// Entry statuses (API.md).
const (
	EntryReceived   EntryStatus = "received"
	EntryInReview   EntryStatus = "in_review"
	EntryRejected   EntryStatus = "rejected"
	EntryEligible   EntryStatus = "eligible"
	EntrySelected   EntryStatus = "selected"
	EntryWaitlisted EntryStatus = "waitlisted"
	EntryOffered    EntryStatus = "offered"
	EntryConfirmed  EntryStatus = "confirmed"
	EntryDeclined   EntryStatus = "declined"
	EntryExpired    EntryStatus = "expired"
)

// Entry is one person's application to one sub-queue of an event.
type Entry struct {
	ID                   string
	EventID              int64
	SubQueueID           int64
	SubQueue             string // "course:pace"
	EventSlug            string
	Name                 string
	Email                string // as given (trimmed)
	EmailKey             string // normalized, the dedupe key
	Phone                string // E.164
	BirthDate            time.Time
	Tickets              int
	PreviousApplications int
	GroupCode            string
	Status               EntryStatus
	Risk                 antibot.Assessment
	CreatedAt            time.Time
	UpdatedAt            time.Time

	// Identity and device keys, for de-duplication, clustering and review.
	PersonKey   string // normalized name + birth date
	ClientIP    string
	UserAgent   string
	DeviceID    string // the signed first-party cookie's id
	Fingerprint string // canvas/WebGL/fonts hash from the form's script
	Signals     json.RawMessage
	ClusterID   string
}

// ApplyRequest is the runner's application as received (API.md fields).
type ApplyRequest struct {
	Course               string
	PaceGroup            string
	Name                 string
	Email                string
	Phone                string
	BirthDate            string
	OTP                  string
	GroupCode            string
	PreviousApplications *int
	Altcha               string
	AdmissionToken       string
	Website              string // honeypot
	Signals              json.RawMessage
}

// ClientInfo is what the transport knows about the caller.
type ClientInfo struct {
	IP             string
	UserAgent      string
	AcceptLanguage string
	DeviceID       string // from a validly signed sl_device cookie, else empty
	UAPlatform     string // Sec-CH-UA-Platform client hint
}

var (
	otpRe   = regexp.MustCompile(`^[0-9]{6}$`)
	groupRe = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
)

// cleanName trims, collapses inner white space and refuses control
// characters and names that show nothing (only zero-width characters,
// joiners or fillers).
func cleanName(s string) (string, bool) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || len([]rune(s)) > 100 || !textin.Visible(s) {
		return "", false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", false
		}
	}
	return s, true
}

// parseBirthDate accepts YYYY-MM-DD for someone aged 5 to 120 on day now.
func parseBirthDate(s string, now time.Time) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, Fieldf("birth_date", "use the form YYYY-MM-DD")
	}
	if d.After(now.AddDate(-5, 0, 0)) || d.Before(now.AddDate(-120, 0, 0)) {
		return time.Time{}, Fieldf("birth_date", "give a birth date for an age between 5 and 120")
	}
	return d, nil
}
