package identity

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// maxPhoneLen bounds the input before any parsing; real numbers with
// separators stay far below it.
const maxPhoneLen = 64

// NormalizePhone returns raw in E.164 form (+821012345678) so the same line
// always gives the same key. Numbers without a leading + or 00 are read as
// national numbers of defaultRegion (ISO 3166 code such as "KR" or "US"; it
// may be empty when every number is international). Digits may be separated
// by spaces, dashes (any Unicode dash), dots, slashes or parentheses;
// full-width digits are accepted. Letters, extensions and numbers that are
// not valid for their country are rejected with an error wrapping
// ErrInvalidPhone.
func NormalizePhone(raw, defaultRegion string) (string, error) {
	s := strings.TrimSpace(raw)
	if len(s) > 4*maxPhoneLen { // cheap bound before normalizing
		return "", phoneErr("too long")
	}
	s = strings.TrimSpace(norm.NFKC.String(s))
	switch {
	case s == "":
		return "", phoneErr("empty")
	case len(s) > maxPhoneLen:
		return "", phoneErr("too long")
	}
	// Keep digits and a leading +, turn any dash or space into a separator
	// phonenumbers skips, and reject everything else (letters, #, ext).
	s = strings.Map(func(r rune) rune {
		switch {
		case '0' <= r && r <= '9', r == '+', r == '(', r == ')', r == '.', r == '/':
			return r
		case unicode.Is(unicode.Pd, r):
			return '-'
		case unicode.IsSpace(r):
			return ' '
		}
		return utf8.RuneError
	}, s)
	if strings.ContainsRune(s, utf8.RuneError) || strings.LastIndexByte(s, '+') > 0 {
		return "", phoneErr("unexpected character")
	}
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))

	// "00" is the international prefix in most of the world. Read it as "+"
	// first; if that gives no valid number, let the region's own rules try
	// (Korean carrier prefixes such as 001 and 008 also start with 00).
	if strings.HasPrefix(s, "00") {
		if e164, err := parsePhone("+"+s[2:], region); err == nil {
			return e164, nil
		}
	}
	return parsePhone(s, region)
}

func parsePhone(s, region string) (string, error) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", phoneErr("not a phone number")
	}
	if num.GetExtension() != "" {
		return "", phoneErr("extensions are not accepted")
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", phoneErr("not a valid number")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

func phoneErr(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidPhone, reason)
}
