package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/prequeue"
)

// jsResult is what StartlineVerify.verify (web/static/verify.js) resolves to.
type jsResult struct {
	OK         bool   `json:"ok"`
	What       string `json:"what"`
	Field      string `json:"field"`
	Position   int    `json:"position"`
	Published  int    `json:"published"`
	Recomputed int    `json:"recomputed"`
	Computed   struct {
		Commitment string          `json:"commitment"`
		Root       string          `json:"root"`
		Seed       string          `json:"seed"`
		Order      json.RawMessage `json:"order"`
	} `json:"computed"`
}

// jsVerify runs the page's verifier on one artifact.
func jsVerify(t *testing.T, b *browsertest.Browser, artifact []byte) jsResult {
	t.Helper()
	return browsertest.Eval[jsResult](b, `StartlineVerify.verify(`+string(artifact)+`)`)
}

// drawVectorsPath finds shared/DRAW-VECTORS.json beside the repository (as
// lottery/fairdraw's test does), else the copy fairdraw keeps.
func drawVectorsPath() string {
	dir, _ := filepath.Abs(".")
	for {
		p := filepath.Join(dir, "shared", "DRAW-VECTORS.json")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join("..", "lottery", "fairdraw", "testdata", "DRAW-VECTORS.json")
		}
		dir = parent
	}
}

// readVectors decodes a file of known answers: each an artifact plus a name.
func readVectors(t *testing.T, path string) []map[string]json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vs []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatalf("%s holds no vectors", path)
	}
	return vs
}

func field[T any](t *testing.T, v map[string]json.RawMessage, name string) T {
	t.Helper()
	var out T
	if err := json.Unmarshal(v[name], &out); err != nil {
		t.Fatalf("vector field %s: %v", name, err)
	}
	return out
}

// sameOrder decodes a vector's order and verify.js's and reports any
// difference; it returns the recomputed order.
func sameOrder[T any](t *testing.T, want, got json.RawMessage) []T {
	t.Helper()
	var w, g []T
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("order (-vector +verify.js):\n%s", diff)
	}
	return g
}

// TestBrowserVerifierVectors runs web/static/verify.js in headless Chromium
// on every known answer of DRAW-VECTORS.json and of prequeue's
// PREQUEUE-VECTORS.json: its recomputed commitment, root, seed and order
// must be the vector's, and it must say "matches"; the same artifacts with
// one thing changed must each say what differs. A draw with 4096-ticket
// entries checks the batched hashing against the Go implementation.
func TestBrowserVerifierVectors(t *testing.T) {
	s := newSite(t, false)
	b := browsertest.New(t, browsertest.Options{Lang: "en-US"})
	b.Open(s.srv.URL + "/verify")
	b.Check("verify-form", "en")

	for _, v := range readVectors(t, drawVectorsPath()) {
		name := field[string](t, v, "name")
		t.Run("draw/"+name, func(t *testing.T) {
			art, _ := json.Marshal(v)
			got := jsVerify(t, b, art)
			if !got.OK {
				t.Fatalf("verify.js says %q (%s, position %d)", got.What, got.Field, got.Position)
			}
			for _, c := range []struct{ name, got, want string }{
				{"commitment", got.Computed.Commitment, field[string](t, v, "commitment")},
				{"entries_root", got.Computed.Root, field[string](t, v, "entries_root")},
				{"seed", got.Computed.Seed, field[string](t, v, "seed")},
			} {
				if c.got != c.want {
					t.Errorf("%s: %s, want %s", c.name, c.got, c.want)
				}
			}
			sameOrder[fairdraw.OrderItem](t, v["order"], got.Computed.Order)
		})
	}

	// Tampered copies of the richest vector: each change is named.
	var base fairdraw.Artifact
	for _, v := range readVectors(t, drawVectorsPath()) {
		if field[string](t, v, "name") == "group-skipped-later-unit-fits" {
			art, _ := json.Marshal(v)
			if err := json.Unmarshal(art, &base); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(base.Order) < 3 {
		t.Fatal("vector group-skipped-later-unit-fits not found")
	}
	clone := func(change func(a *fairdraw.Artifact)) []byte {
		raw, _ := json.Marshal(base)
		var a fairdraw.Artifact
		json.Unmarshal(raw, &a)
		change(&a)
		out, _ := json.Marshal(a)
		return out
	}
	for _, tc := range []struct {
		name   string
		change func(a *fairdraw.Artifact)
		want   jsResult
	}{
		{"swapped places", func(a *fairdraw.Artifact) {
			a.Order[1].UnitID, a.Order[2].UnitID = a.Order[2].UnitID, a.Order[1].UnitID
			a.Order[1].EntryIDs, a.Order[2].EntryIDs = a.Order[2].EntryIDs, a.Order[1].EntryIDs
		}, jsResult{What: "order", Position: 2}},
		{"more tickets", func(a *fairdraw.Artifact) { a.Entries[0].Tickets++ }, jsResult{What: "root"}},
		{"another secret", func(a *fairdraw.Artifact) { a.SeedSecret = a.Commitment }, jsResult{What: "commitment"}},
		{"selection flipped", func(a *fairdraw.Artifact) {
			last := len(a.Order) - 1
			a.Order[last].Selected = !a.Order[last].Selected
		}, jsResult{What: "selected", Position: len(base.Order)}},
		{"a place dropped", func(a *fairdraw.Artifact) { a.Order = a.Order[:len(a.Order)-1] },
			jsResult{What: "length", Published: len(base.Order) - 1, Recomputed: len(base.Order)}},
		{"non-canonical tickets", func(a *fairdraw.Artifact) { a.Entries[1].Tickets = 4097 }, jsResult{What: "malformed", Field: "entries[1].tickets"}},
	} {
		t.Run("tampered/"+tc.name, func(t *testing.T) {
			got := jsVerify(t, b, clone(tc.change))
			got.Computed = tc.want.Computed
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("verify.js (-want +got):\n%s", diff)
			}
		})
	}

	// Heavy tickets: 4096 each (the most the spec allows) beside single
	// ones, checked against the Go implementation.
	t.Run("draw/heavy-tickets", func(t *testing.T) {
		in := fairdraw.Input{EventID: "heavy", SubQueue: "full:open", Capacity: 5, SeedSecret: make([]byte, 32)}
		for i := range 40 {
			tickets := 1
			if i%5 == 0 {
				tickets = fairdraw.MaxTickets
			}
			in.Entries = append(in.Entries, fairdraw.Entry{EntryID: fmt.Sprintf("e-%03d", i), Tickets: tickets, Group: map[bool]string{true: "g1"}[i%13 == 1]})
		}
		want, err := fairdraw.Draw(in)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(want)
		got := jsVerify(t, b, raw)
		if !got.OK || got.Computed.Root != want.EntriesRoot || got.Computed.Seed != want.Seed {
			t.Errorf("heavy draw: %+v", got)
		}
	})

	pqPath := filepath.Join("..", "lottery", "prequeue", "testdata", "PREQUEUE-VECTORS.json")
	for _, v := range readVectors(t, pqPath) {
		name := field[string](t, v, "name")
		t.Run("prequeue/"+name, func(t *testing.T) {
			art, _ := json.Marshal(v)
			got := jsVerify(t, b, art)
			if !got.OK {
				t.Fatalf("verify.js says %q (%s, position %d)", got.What, got.Field, got.Position)
			}
			if got.Computed.Root != field[string](t, v, "tickets_root") || got.Computed.Seed != field[string](t, v, "seed") ||
				got.Computed.Commitment != field[string](t, v, "commitment") {
				t.Errorf("recomputed %+v", got.Computed)
			}
			order := sameOrder[prequeue.Place](t, v["order"], got.Computed.Order)
			// The same order with its first two places swapped does not match.
			if len(order) >= 2 {
				var a map[string]any
				json.Unmarshal(art, &a)
				o := a["order"].([]any)
				o[0].(map[string]any)["ticket_id"], o[1].(map[string]any)["ticket_id"] = o[1].(map[string]any)["ticket_id"], o[0].(map[string]any)["ticket_id"]
				bad, _ := json.Marshal(a)
				if got := jsVerify(t, b, bad); got.OK || got.What != "order" || got.Position != 1 {
					t.Errorf("swapped pre-queue order: %+v", got)
				}
			}
		})
	}
	// A pre-queue not placed yet has nothing to recompute, and says so.
	committed := `{"algorithm":"prequeue-v1","event_id":"spring","subqueue":"half:fcfs","status":"committed","commitment":"630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"}`
	if got := jsVerify(t, b, []byte(committed)); got.OK || got.What != "committed" {
		t.Errorf("committed pre-queue: %+v", got)
	}
}

// pressVerify reaches a "verify in your browser" button by keyboard,
// presses it, waits for the verdict and returns it, one line per paragraph.
func pressVerify(b *browsertest.Browser, button string) string {
	b.TabTo(button, 30)
	b.Keys("\r")
	out := "#" + button + " ~ .verify-out"
	b.WaitFor(out + ".verify-ok, " + out + ".verify-bad, " + out + ".verify-error")
	return strings.ReplaceAll(b.Text(out), "\n\n", "\n")
}

// tamperedSite is drawnSite (30 entries, 10 slots) with a test route
// serving a drawn artifact with its second and third places swapped.
func tamperedSite(t *testing.T) *site {
	t.Helper()
	var drawn atomic.Pointer[site] // set once the draw is done, read by the route
	s, _, _ := drawnSite(t, siteOptions{routes: func(r *gin.Engine) {
		r.GET("/test/tampered/:subqueue/artifact.json", func(c *gin.Context) {
			gz, err := drawn.Load().draws.Artifact(c.Request.Context(), "spring", c.Param("subqueue"))
			if err != nil {
				c.Status(http.StatusNotFound)
				return
			}
			raw, _ := draws.Gunzip(gz)
			var a fairdraw.Artifact
			if err := json.Unmarshal(raw, &a); err != nil || len(a.Order) < 3 {
				c.Status(http.StatusInternalServerError)
				return
			}
			a.Order[1].UnitID, a.Order[2].UnitID = a.Order[2].UnitID, a.Order[1].UnitID
			a.Order[1].EntryIDs, a.Order[2].EntryIDs = a.Order[2].EntryIDs, a.Order[1].EntryIDs
			c.JSON(http.StatusOK, a)
		})
	}}, 30, 10)
	drawn.Store(s)
	return s
}

// TestBrowserFindMyEntryAndVerify walks the results page of a drawn event
// on a phone screen by keyboard, in English and Korean: find an entry by
// its id (selected, waitlisted, unknown), run the in-browser verification
// of its draw to "matches", and run it on a tampered artifact, which must
// say "does not match" and where. The entry's status page links to its
// answer.
func TestBrowserFindMyEntryAndVerify(t *testing.T) {
	s := tamperedSite(t)
	var winner, waiting string
	var waitPos int
	s.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE selected ORDER BY position LIMIT 1").Row().Scan(&winner)
	s.store.DB().Raw("SELECT entry_id::text, waitlist_position FROM draw_results WHERE NOT selected ORDER BY position LIMIT 1").Row().Scan(&waiting, &waitPos)
	if winner == "" || waiting == "" {
		t.Fatal("the draw selected nobody or everybody")
	}
	for _, tc := range []struct {
		lang, browserLang                        string
		selected, waitlisted, none, match, wrong string
	}{
		{"en", "en-US", "Selected: entry " + winner + " won a slot in Half Marathon · Open.",
			fmt.Sprintf("Not selected in the draw: entry %s is on the waitlist of Half Marathon · Open at position %d.", waiting, waitPos),
			"is not in this draw", "Matches: the published result is the one the rules produce.",
			"Does not match: the published result is not the one the rules produce.\nThe order differs at position 2."},
		{"ko", "ko-KR", "당첨: 신청 " + winner + "은(는) Half Marathon · Open에서 참가 자리를 얻었습니다.",
			fmt.Sprintf("신청 %s은(는) Half Marathon · Open 대기 %d번입니다.", waiting, waitPos),
			"이번 추첨에 없습니다", "일치합니다: 공개된 결과는 규칙대로 계산한 결과와 같습니다.",
			"일치하지 않습니다: 공개된 결과는 규칙대로 계산한 결과가 아닙니다.\n2번째 자리에서 순서가 다릅니다."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.Open(s.srv.URL + "/events/spring/results")
			b.Check("results", tc.lang)
			if got := b.Text("main"); !strings.Contains(got, "Half Marathon · Open") || strings.Contains(got, "half:open ") {
				t.Errorf("sub-queue heading is not its name: %q", b.Text("main section:nth-of-type(3) h2"))
			}

			// Find my entry, by keyboard: the id and Enter.
			b.TabTo("entry", 20)
			b.KeysToPage(winner + "\r")
			b.WaitFor("#find-result")
			b.Check("found-selected", tc.lang)
			if got := b.Text("#find-result .big"); got != tc.selected {
				t.Errorf("selected entry reads %q, want %q", got, tc.selected)
			}
			// Verify its draw in the browser.
			if got := pressVerify(b, "verify-mine"); !strings.HasPrefix(got, tc.match+"\n") {
				t.Errorf("verification of the published draw: %q, want %q", got, tc.match)
			}
			b.Check("verified", tc.lang)

			// Tab into the filled field selects its text: typing replaces it.
			b.TabTo("entry", 20)
			b.KeysToPage(waiting + "\r")
			b.WaitFor("#find-result.status-waitlisted")
			if got := b.Text("#find-result .big"); !strings.Contains(got, tc.waitlisted) {
				t.Errorf("waitlisted entry reads %q, want %q", got, tc.waitlisted)
			}

			b.Open(s.srv.URL + "/events/spring/results?entry=00000000-0000-4000-8000-000000000000")
			if got := b.Text("#find-result"); !strings.Contains(got, tc.none) {
				t.Errorf("unknown entry reads %q", got)
			}
			b.Check("not-found", tc.lang)

			// The same check on a tampered artifact says what differs.
			b.Open(s.srv.URL + "/verify?artifact=" + url.QueryEscape("/test/tampered/half:open/artifact.json"))
			if got := pressVerify(b, "verify-file-run"); got != tc.wrong {
				t.Errorf("tampered artifact: %q, want %q", got, tc.wrong)
			}
			b.Check("tampered", tc.lang)
		})
	}

	// The status page links straight to the entry's answer.
	_, page, _ := s.get("/entries/" + waiting + "?token=" + url.QueryEscape(s.keys.ReceiptToken(waiting)))
	if want := `href="/events/spring/results?entry=` + waiting + `#find-result"`; !strings.Contains(page, want) {
		t.Errorf("status page lacks the link %s", want)
	}
	// An id that is no UUID is an answer too, not an error.
	if code, page, _ := s.get("/events/spring/results?entry=%3Cscript%3E"); code != http.StatusNotFound || !strings.Contains(page, "is not in this draw") {
		t.Errorf("malformed id: %d", code)
	}
	if code, _, _ := s.get("/verify?artifact=https://evil.example/a.json"); code != http.StatusUnprocessableEntity {
		t.Errorf("verify page with another site's file: %d, want 422", code)
	}
}

// TestBrowserPrequeueVerifies places a real pre-queue (twelve joins before
// the opening, then the admission pass) and follows the waiting page's link
// to the in-browser check of its published order, by keyboard, in English
// and Korean: it must match.
func TestBrowserPrequeueVerifies(t *testing.T) {
	s := newSiteWith(t, siteOptions{})
	ctx := context.Background()
	opens := time.Now().Add(10 * time.Minute)
	_, err := s.svc.CreateEvent(ctx, s.org, lottery.EventSpec{Slug: "summer", Name: "Summer 10K", TimeZone: "Asia/Seoul",
		OpensAt: opens, ClosesAt: opens.Add(time.Hour), MaxGroupSize: 1, TicketRule: "none",
		Courses: []lottery.CourseSpec{{Code: "half", Name: "Half Marathon", DistanceKM: 21.1, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "fcfs", Label: "First come", Capacity: 50, Mode: "ordered", PrequeueMinutes: new(30)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Transition(ctx, s.org, "summer", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	client := lottery.ClientInfo{IP: "211.234.10.20", UserAgent: browsertest.PersonUA, AcceptLanguage: "ko-KR", DeviceID: "dev"}
	var ticket string
	for i := range 12 {
		res, err := s.waitroom.JoinQueue(ctx, "summer", lottery.JoinRequest{Course: "half", PaceGroup: "fcfs",
			Email: fmt.Sprintf("early%02d@example.com", i)}, client)
		if err != nil || !res.Prequeue {
			t.Fatalf("pre-queue join %d: %v %+v", i, err, res)
		}
		ticket = res.Ticket
	}
	s.store.DB().Exec(`UPDATE events SET opens_at = now() - interval '1 second' WHERE slug = 'summer'`)
	if _, err := s.waitroom.AdmitQueues(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, browserLang, link, match string }{
		{"en", "en-US", "Verify the order of places in your browser", "Matches: the published result is the one the rules produce."},
		{"ko", "ko-KR", "순번 추첨을 브라우저에서 검증하기", "일치합니다: 공개된 결과는 규칙대로 계산한 결과와 같습니다."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.Open(s.srv.URL + "/queue/" + url.PathEscape(ticket))
			b.TabTo(tc.link, 30)
			b.KeysToPage("\r")
			b.Check("prequeue-verify", tc.lang)
			if got := pressVerify(b, "verify-file-run"); !strings.HasPrefix(got, tc.match+"\n") {
				t.Errorf("pre-queue check: %q, want %q", got, tc.match)
			}
			b.Check("prequeue-verified", tc.lang)
		})
	}
}
