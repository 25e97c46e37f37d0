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
