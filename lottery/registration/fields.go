package registration

import (
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/startline/startline/internal/textin"
	"github.com/startline/startline/lottery"
)

var otpRe = regexp.MustCompile(`^[0-9]{6}$`)

// cleanName is the rule for a runner's name: it trims, collapses inner
// white space and refuses control characters and names that show nothing
// (only zero-width characters, joiners or fillers) or run past 100
// characters.
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

// parseBirthDate is the rule for a birth date: YYYY-MM-DD, for someone
// aged 5 to 120 on day now; otherwise a birth_date field error.
func parseBirthDate(s string, now time.Time) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, lottery.Fieldf("birth_date", "use the form YYYY-MM-DD")
	}
	if d.After(now.AddDate(-5, 0, 0)) || d.Before(now.AddDate(-120, 0, 0)) {
		return time.Time{}, lottery.Fieldf("birth_date", "give a birth date for an age between 5 and 120")
	}
	return d, nil
}
