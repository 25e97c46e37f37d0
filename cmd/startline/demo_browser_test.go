package main

import (
	"strings"
	"testing"

	"github.com/startline/startline/internal/browsertest"
)

// TestBrowserDemoDrawVerifies opens the demo's drawn event, as `make run`
// serves it after seed-demo, in headless Chromium on a phone screen: a
// runner finds an entry by its id, by keyboard, and the in-browser
// verification of that draw and of every sub-queue's says "matches".
func TestBrowserDemoDrawVerifies(t *testing.T) {
	store, _ := seedDemo(t)
	_, srv := serveApp(t)

	var entry string
	var position int
	store.DB().Raw(`SELECT r.entry_id::text, r.waitlist_position FROM draw_results r JOIN subqueues q ON q.id = r.subqueue_id
		WHERE q.key = '10k:open' AND NOT r.selected ORDER BY r.position LIMIT 1`).Row().Scan(&entry, &position)
	if entry == "" {
		t.Fatal("the demo's 10k:open draw has no waitlist")
	}

	b := browsertest.New(t, browsertest.Options{Lang: "en-US"})
	b.Open(srv.URL + "/events/demo-10k-drawn/results")
	b.Check("demo-results", "en")
	b.TabTo("entry", 20)
	b.KeysToPage(entry + "\r")
	b.WaitFor("#find-result")
	if got, want := b.Text("#find-result .big"), "is on the waitlist of 10K · Open at position "; !strings.Contains(got, want) {
		t.Errorf("found entry reads %q, want %q", got, want)
	}
	const matches = "Matches: the published result is the one the rules produce."
	for _, button := range []string{"verify-mine", "verify-0", "verify-1"} {
		b.TabTo(button, 40)
		b.Keys("\r")
		out := "#" + button + " ~ .verify-out"
		b.WaitFor(out + ".verify-ok, " + out + ".verify-bad, " + out + ".verify-error")
		if got := b.Text(out + " p"); got != matches {
			t.Errorf("%s: %q, want %q", button, got, matches)
		}
	}
	b.Check("demo-verified", "en")
}
