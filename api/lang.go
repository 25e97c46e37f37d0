package api

import (
	"strings"

	"github.com/startline/startline/lottery"
)

// runnerLang is the language a runner's mail is written in (issue 13): the
// body's optional "lang" ("en" or "ko"), else the first Accept-Language tag
// (ko-* is Korean, anything else English). Another "lang" is a field error.
func runnerLang(body, acceptLanguage string) (string, error) {
	switch body {
	case "en", "ko":
		return body, nil
	case "":
	default:
		return "", lottery.Fieldf("lang", "use \"en\" or \"ko\"")
	}
	first, _, _ := strings.Cut(acceptLanguage, ",")
	first, _, _ = strings.Cut(strings.TrimSpace(first), ";")
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(first)), "-")
	if primary == "ko" {
		return "ko", nil
	}
	return "en", nil
}
