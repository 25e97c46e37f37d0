package web

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
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
