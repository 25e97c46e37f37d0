package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/fairdraw"
)

// applyN applies n runners to half:sub-130, every third in a group of up to
// three, and returns their ids and receipt tokens.
func (e *env) applyN(slug string, n int) (ids, tokens []string) {
	e.t.Helper()
	// Runner i has i % 3 earlier applications on record (imported history
	// of the event's series), so the doubling rule gives 1, 2, 4 tickets.
	csv := "name,birth_date,email,previous_applications\n"
	for i := 0; i < n; i++ {
		if i%3 > 0 {
			csv += fmt.Sprintf("Runner %d,1990-04-01,r%03d@example.com,%d\n", i, i, i%3)
		}
	}
	if n > 1 {
		if r := e.do("POST", "/api/v1/admin/series/"+slug+"-series/history", csv, "Authorization", "Bearer "+e.organizer); r.Status != 201 {
			e.t.Fatalf("import history: %d %s", r.Status, r.Raw)
		}
	}
	for i := 0; i < n; i++ {
		email := fmt.Sprintf("r%03d@example.com", i)
		b := e.applyBody(email, e.otp(slug, email))
		b["name"] = fmt.Sprintf("Runner %d", i)
		if i%3 == 0 && i < n/2 {
			b["group_code"] = fmt.Sprintf("family-%d", i/9)
		}
		r := e.do("POST", "/api/v1/events/"+slug+"/entries", b)
		if r.Status != 201 {
			e.t.Fatalf("apply %d: %d %s", i, r.Status, r.Raw)
		}
		ids, tokens = append(ids, r.str("entry_id")), append(tokens, r.str("receipt_token"))
	}
	return ids, tokens
}

func (e *env) action(slug, action string, body any) resp {
	return e.do("POST", "/api/v1/admin/events/"+slug+"/"+action, body, "Authorization", "Bearer "+e.organizer)
}

func TestDrawLifecycle(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	ids, tokens := e.applyN("spring", 30)
	// A flagged entry: the default policy blocks the freeze until it is resolved.
	flagged := e.applyBody("bot@example.com", e.otp("spring", "bot@example.com"))
	flagged["signals"] = map[string]any{"webdriver": true, "fill_ms": 40000}
	if r := e.do("POST", "/api/v1/events/spring/entries", flagged); r.str("status") != "in_review" {
		t.Fatalf("flagged apply: %s", r.Raw)
	}

	if r := e.action("spring", "freeze", nil); r.Status != http.StatusConflict {
		t.Errorf("freeze while open: got %d, want 409", r.Status)
	}
	e.clock.Set(testStart.Add(8 * 24 * time.Hour)) // the window has ended
	if r := e.action("spring", "freeze", nil); r.Status != http.StatusConflict || !strings.Contains(r.errField("message"), "await review") {
		t.Errorf("freeze with unreviewed entries: got %d %s", r.Status, r.Raw)
	}
	e.store.DB().Exec("UPDATE events SET unreviewed_policy = 'exclude' WHERE slug = 'spring'")
	if r := e.action("spring", "draw", nil); r.Status != http.StatusConflict {
		t.Errorf("draw before freeze: got %d, want 409", r.Status)
	}
	fr := e.action("spring", "freeze", map[string]any{"beacon_round": "drand:quicknet:9000000"})
	if fr.Status != 200 || fr.str("status") != "frozen" || fr.str("beacon_round") != "drand:quicknet:9000000" {
		t.Fatalf("freeze: %d %s", fr.Status, fr.Raw)
	}
	if r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("late@example.com", "123456")); r.Status != 403 {
		t.Errorf("apply after freeze: %d", r.Status)
	}

	d := e.do("GET", "/api/v1/events/spring/draws", nil)
	draws := d.Body["draws"].([]any)
	sub := draws[0].(map[string]any)
	// Three lottery sub-queues; the ordered half:fcfs sells first come and is never drawn.
	if d.Status != 200 || len(draws) != 3 || sub["subqueue"] != "half:sub-130" || sub["entries"] != float64(30) ||
		sub["status"] != "frozen" || sub["seed_secret"] != nil || len(sub["entries_root"].(string)) != 64 {
		t.Fatalf("draws after freeze: %s", d.Raw)
	}
	if r := e.action("spring", "draw", nil); r.Status != http.StatusConflict || !strings.Contains(r.errField("message"), "reveal") {
		t.Errorf("draw before reveal: got %d %s", r.Status, r.Raw)
	}
	rv := e.action("spring", "reveal", map[string]any{"beacon": "83f1a9"})
	secret := rv.str("seed_secret")
	sum := sha256.Sum256(mustHex(t, secret))
	if rv.Status != 200 || hex.EncodeToString(sum[:]) != rv.str("commitment") || rv.str("beacon") != "83f1a9" {
		t.Fatalf("reveal: %d %s", rv.Status, rv.Raw)
	}
	if r := e.action("spring", "reveal", nil); r.Status != http.StatusConflict {
		t.Errorf("reveal twice: %d", r.Status)
	}
	if r := e.action("spring", "draw", nil); r.Status != http.StatusAccepted {
		t.Fatalf("draw: %d %s", r.Status, r.Raw)
	}
	e.drawAll("spring")

	d = e.do("GET", "/api/v1/events/spring/draws", nil)
	sub = d.Body["draws"].([]any)[0].(map[string]any)
	if d.Body["status"] != "drawn" || sub["status"] != "drawn" || sub["selected"] != float64(30) && sub["capacity"] == float64(100) {
		t.Fatalf("draws after drawing: %s", d.Raw)
	}
	art := e.do("GET", "/api/v1/events/spring/draws/half:sub-130/artifact.json", nil, "Accept-Encoding", "identity")
	if art.Status != 200 {
		t.Fatalf("artifact: %d %s", art.Status, art.Raw)
	}
	a, err := fairdraw.ParseArtifact(art.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := fairdraw.Verify(a); err != nil {
		t.Fatalf("published artifact does not verify: %v", err)
	}
	if a.SeedSecret != secret || a.Beacon != "83f1a9" || a.EntriesRoot != sub["entries_root"] || len(a.Entries) != 30 {
		t.Errorf("artifact fields: %+v", a)
	}
	for _, pii := range []string{"@example.com", "Runner", "family-", "+8210"} {
		if strings.Contains(string(art.Raw), pii) {
			t.Errorf("artifact carries personal data %q", pii)
		}
	}
	// Every runner sees the result, and can prove their leaf is in the root.
	for i := range ids {
		s := e.do("GET", "/api/v1/entries/"+ids[i]+"?token="+tokens[i], nil)
		if s.str("status") != "selected" {
			t.Errorf("entry %d: status %s, want selected (capacity exceeds applicants)", i, s.str("status"))
		}
		p := e.do("GET", "/api/v1/entries/"+ids[i]+"/proof?token="+tokens[i], nil)
		var path []string
		for _, h := range p.Body["audit_path"].([]any) {
			path = append(path, h.(string))
		}
		if err := fairdraw.VerifyInclusion(p.str("leaf_data"), int(p.Body["leaf_index"].(float64)),
			int(p.Body["tree_size"].(float64)), path, a.EntriesRoot); err != nil || p.Status != 200 {
			t.Errorf("proof %d: %d %v %s", i, p.Status, err, p.Raw)
		}
	}
	if p := e.do("GET", "/api/v1/entries/"+ids[0]+"/proof?token=wrong", nil); p.Status != 404 {
		t.Errorf("proof with a wrong token: %d", p.Status)
	}
	if r := e.action("spring", "publish-results", nil); r.Status != 200 || r.Body["results_published_at"] == nil {
		t.Errorf("publish results: %d %s", r.Status, r.Raw)
	}
	if r := e.action("spring", "publish-results", nil); r.Status != http.StatusConflict {
		t.Errorf("publish results twice: %d", r.Status)
	}
	if err := e.store.DB().Exec("UPDATE draws SET capacity = 1").Error; err == nil {
		t.Error("a drawn result was changed")
	}
}

// drawAll runs every pending draw as the worker would.
func (e *env) drawAll(slug string) {
	e.t.Helper()
	var ids []int64
	e.store.DB().Raw(`SELECT d.subqueue_id FROM draws d JOIN events ev ON ev.id = d.event_id WHERE ev.slug = ?`, slug).Scan(&ids)
	for _, id := range ids {
		if _, err := e.draws.RunDraw(context.Background(), id); err != nil {
			e.t.Fatalf("draw %d: %v", id, err)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDrawCrashAndRetry kills a draw inside its result transaction and runs
// it again: the result is byte-identical to a recomputation from the
// published inputs, and nothing of the crashed run survives.
func TestDrawCrashAndRetry(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	e.applyN("spring", 40)
	e.store.DB().Exec("UPDATE subqueues SET capacity = 7 WHERE key = 'half:sub-130'")
	e.clock.Set(testStart.Add(8 * 24 * time.Hour))
	for _, a := range []string{"freeze", "reveal"} {
		if r := e.action("spring", a, nil); r.Status != 200 {
			t.Fatalf("%s: %d %s", a, r.Status, r.Raw)
		}
	}
	var sq int64
	e.store.DB().Raw("SELECT id FROM subqueues WHERE key = 'half:sub-130'").Scan(&sq)

	var crash atomic.Bool
	crash.Store(true)
	errCrash := errors.New("worker killed")
	if err := e.store.DB().Callback().Raw().Before("gorm:raw").Register("test:crash", func(db *gorm.DB) {
		if crash.Load() && strings.Contains(db.Statement.SQL.String(), "UPDATE draws SET status = 'drawn'") {
			db.AddError(errCrash)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.draws.RunDraw(context.Background(), sq); !errors.Is(err, errCrash) {
		t.Fatalf("crashed draw: %v", err)
	}
	var n int64
	e.store.DB().Raw("SELECT count(*) FROM draw_results").Scan(&n)
	if n != 0 {
		t.Fatalf("crashed draw left %d result rows", n)
	}

	crash.Store(false)
	got, err := e.draws.RunDraw(context.Background(), sq)
	if err != nil {
		t.Fatal(err)
	}
	// Recompute from the published inputs alone.
	d := e.do("GET", "/api/v1/events/spring/draws", nil).Body
	var in fairdraw.Input
	for _, x := range d["draws"].([]any) {
		if m := x.(map[string]any); m["subqueue"] == "half:sub-130" {
			in = fairdraw.Input{EventID: "spring", SubQueue: "half:sub-130", Capacity: int(m["capacity"].(float64)),
				SeedSecret: mustHex(t, m["seed_secret"].(string))}
		}
	}
	entries, err := e.store.DrawEntries(context.Background(), sq)
	if err != nil {
		t.Fatal(err)
	}
	in.Entries = entries
	want, err := fairdraw.Draw(in)
	if err != nil {
		t.Fatal(err)
	}
	wantBytes, _ := draws.MarshalArtifact(want)
	if string(got) != string(wantBytes) {
		t.Fatalf("retried artifact differs from the recomputation")
	}
	again, err := e.draws.RunDraw(context.Background(), sq)
	if err != nil || string(again) != string(got) {
		t.Fatalf("third run changed the artifact: %v", err)
	}
	var sel, results, logRows int64
	e.store.DB().Raw("SELECT count(*) FROM draw_results WHERE selected").Scan(&sel)
	e.store.DB().Raw("SELECT count(*) FROM draw_results").Scan(&results)
	e.store.DB().Raw("SELECT count(*) FROM event_log WHERE kind = 'draw.drawn'").Scan(&logRows)
	if sel != 7 || results != 40 || logRows != 1 {
		t.Errorf("selected %d (want 7), result rows %d (want 40), draw log rows %d (want 1)", sel, results, logRows)
	}
}
