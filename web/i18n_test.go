package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery"
)

// Every key a template asks for exists in both languages, so no page ever
// shows a raw key like "offer.title".
func TestTemplateKeysTranslated(t *testing.T) {
	files, _ := filepath.Glob("templates/*.html")
	keyRe := regexp.MustCompile(`call \$?\.T "([a-z0-9_.]+)"`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			for _, lang := range []string{"en", "ko"} {
				if _, ok := messages[lang][m[1]]; !ok {
					t.Errorf("%s: key %q missing in %s", filepath.Base(f), m[1], lang)
				}
			}
		}
	}
	for _, lang := range []string{"en", "ko"} {
		for _, st := range []string{"received", "in_review", "rejected", "eligible", "selected", "waitlisted", "offered",
			"confirmed", "declined", "expired"} {
			if _, ok := messages[lang]["entry.status."+st]; !ok {
				t.Errorf("entry.status.%s missing in %s", st, lang)
			}
			if _, ok := messages[lang]["entry.state."+st]; !ok {
				t.Errorf("entry.state.%s missing in %s", st, lang)
			}
		}
		// The review console names these by printf'd keys.
		for _, k := range []string{"review.policy." + lottery.PolicyBlock, "review.policy." + lottery.PolicyExclude,
			"review.policy." + lottery.PolicyInclude, "review.decision." + string(antibot.Accept),
			"review.decision." + string(antibot.Review), "review.decision." + string(antibot.Reject),
			"review.role." + string(lottery.RoleReviewer), "review.role." + string(lottery.RoleOrganizer)} {
			if _, ok := messages[lang][k]; !ok {
				t.Errorf("%s missing in %s", k, lang)
			}
		}
		for _, st := range []string{"pending", "accepted", "paid", "declined", "expired", "void"} {
			if _, ok := messages[lang]["offer.status."+st]; !ok {
				t.Errorf("offer.status.%s missing in %s", st, lang)
			}
		}
	}
}

// Every message web/static/verify.js shows exists in both languages: the
// keys it names, and "diff." + each difference it can report.
func TestVerifierMessagesTranslated(t *testing.T) {
	js, err := os.ReadFile("static/verify.js")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bt\("([a-z_.]+[a-z_])"`).FindAllStringSubmatch(string(js), -1) {
		keys[m[1]] = true
	}
	whats := regexp.MustCompile(`what: "([a-z]+)"|return "([a-z]+)"|\? "([a-z]+)"`).FindAllStringSubmatch(string(js), -1)
	for _, m := range whats {
		if w := m[1] + m[2] + m[3]; w != "committed" {
			keys["diff."+w] = true
		}
	}
	if len(keys) < 15 || !keys["diff.order"] || !keys["diff.commitment"] {
		t.Fatalf("keys found in verify.js: %v", keys)
	}
	for _, lang := range []string{"en", "ko"} {
		text := verifyText(lang)
		for k := range keys {
			if _, ok := messages[lang]["verify.js."+k]; !ok || text[k] == "" {
				t.Errorf("verify.js message %q missing in %s", k, lang)
			}
		}
	}
}

// Every reason code a scorer can put on an assessment has a reason.<code>
// name in both languages, so the review console never shows a bare code.
// The codes are read from the scorers' sources (antibot's add("...") calls
// and the Reason{Code: "..."} literals in lottery), plus the named
// constants and the queue's filter list; a literal floor guards the scan
// itself against silently finding nothing.
func TestReasonCodesTranslated(t *testing.T) {
	codes := map[string]bool{antibot.ReasonGeoMismatch: true, lottery.ReasonTicketClaim: true}
	for _, c := range reasonCodes {
		codes[c] = true
	}
	addRe := regexp.MustCompile(`\badd\("([a-z_]+)"`)
	litRe := regexp.MustCompile(`Reason\{Code: +"([a-z_]+)"`)
	for _, glob := range []string{"../antibot/*.go", "../antibot/*/*.go", "../lottery/*.go", "../lottery/*/*.go"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, re := range []*regexp.Regexp{addRe, litRe} {
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					codes[m[1]] = true
				}
			}
		}
	}
	// Extracted by hand on 2026-12-04 from antibot/risk.go, antibot/staff.go,
	// lottery/registration/{apply,otp}.go and lottery/postgres/clusters.go.
	for _, c := range []string{"honeypot_filled", "no_user_agent", "disposable_email", "no_signals", "webdriver", "fast_fill",
		"language_mismatch", "platform_mismatch", "scripting_user_agent", "headless_user_agent", "hosting_network",
		"geo_mismatch", "no_accept_language", "no_device_cookie", "new_country", "recent_failures", "ticket_claim",
		"queue_join_flagged", "inbox_cap", "linked_cluster"} {
		if !codes[c] {
			t.Errorf("the source scan no longer finds reason code %q: update this list or the scan", c)
		}
	}
	for c := range codes {
		for _, lang := range []string{"en", "ko"} {
			if _, ok := messages[lang]["reason."+c]; !ok {
				t.Errorf("reason.%s missing in %s", c, lang)
			}
		}
	}
}
