//go:build faults

package main

// Fault tests: the real binary, crashed and cut off on loopback. Run them
// with `make faults` (go test -tags faults -run '^TestFault' ./cmd/startline).
// Each test starts its own redis-server on a spare port, its own database on
// the shared PostgreSQL (and, for the PostgreSQL outage, a proxy in front of
// it that the test cuts), and `startline serve` / `startline worker` as child
// processes that it kills with SIGKILL. The shared servers are never stopped,
// restarted or flushed.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	lotterydraws "github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/fairdraw"
)

// TestFaultWorkerKilledDuringDraw kills the worker (kill -9 of its process
// group) while it draws an event of two sub-queues (90,000 and 10,000
// synthetic entries), at the moment a draw is writing its result: the COPY
// into draw_results inside SaveDraw's transaction, after the draw was marked
// drawing. After a restart each draw completes once, and both published
// artifacts (the one drawn again after the crash, and the one that had
// committed before it) are byte for byte what an independent recomputation
// from the frozen entry list and the revealed seed gives, and pass
// `startline verify`.
func TestFaultWorkerKilledDuringDraw(t *testing.T) {
	t.Parallel()
	began := time.Now()
	defer func() { t.Logf("runtime %s", time.Since(began).Round(time.Second)) }()
	const (
		slug    = "faults-draw"
		total   = 50_000 // synthetic entries per sub-queue before the move below
		inSmall = 10_000 // what the small sub-queue keeps
	)
	ctx := context.Background()
	e := newFaultEnv(t)
	srv := e.startServer("serve", e.dsn)
	worker := e.startWorker(e.dsn)
	now := time.Now()
	e.createEvent(srv, slug, now.Add(-3*time.Hour), now.Add(-time.Hour), "48h",
		paceGroup{"big", 20_000}, paceGroup{"small", 3_000})
	ids := subqueueIDs(t, e, slug)
	big, small := ids["10k:big"], ids["10k:small"]
	t0 := time.Now()
	if _, err := e.store.InsertSyntheticEntries(ctx, slug, total); err != nil {
		t.Fatal(err)
	}
	// Different sizes, so one draw is saving while the other computes.
	if err := e.store.DB().Exec(`UPDATE entries SET subqueue_id = ? WHERE id IN (
			SELECT id FROM entries WHERE subqueue_id = ? ORDER BY id OFFSET ?)`, big, small, inSmall).Error; err != nil {
		t.Fatal(err)
	}
	t.Logf("inserted %d entries in %s", 2*total, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	e.mustAdmin(srv, http.StatusOK, "POST", "/api/v1/admin/events/"+slug+"/freeze", map[string]any{"beacon_round": "none"})
	e.mustAdmin(srv, http.StatusOK, "POST", "/api/v1/admin/events/"+slug+"/reveal", map[string]any{})
	t.Logf("froze %d entries in %s", 2*total, time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	e.mustAdmin(srv, http.StatusAccepted, "POST", "/api/v1/admin/events/"+slug+"/draw", nil)
	// Kill inside a draw's write: its COPY into draw_results is running in
	// SaveDraw's transaction (the big draw's takes a second or two; the small
	// one has usually committed by then).
	waitFor(t, 2*time.Minute, 5*time.Millisecond, "a draw's COPY into draw_results", func() (bool, error) {
		var copying int64
		err := e.store.DB().Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND state = 'active' AND query ILIKE 'copy%draw_results%'`).Scan(&copying).Error
		return copying > 0, err
	})
	worker.Kill()
	t.Logf("worker killed %s after the draw request", time.Since(t0).Round(time.Millisecond))
	// The kill landed mid-draw: a draw is left undone, with no row of its
	// result; one that committed before keeps its whole result.
	st := drawStatuses(t, e, slug)
	undone := 0
	for key, id := range ids {
		rows := countRows(t, e, `SELECT count(*) FROM draw_results WHERE subqueue_id = ?`, id)
		frozen := countRows(t, e, `SELECT count(*) FROM draw_entries WHERE subqueue_id = ?`, id)
		switch {
		case st[key] != lottery.DrawDrawn && rows != 0:
			t.Errorf("%s (%s): %d draw_results rows survived the killed transaction", key, st[key], rows)
		case st[key] == lottery.DrawDrawn && rows != frozen:
			t.Errorf("%s drawn with %d of %d rows", key, rows, frozen)
		}
		if st[key] != lottery.DrawDrawn {
			undone++
		}
		t.Logf("at the kill %s is %s (%d entries)", key, st[key], frozen)
	}
	if undone == 0 {
		t.Fatal("the kill came after every draw committed")
	}

	t0 = time.Now()
	worker.Start()
	waitFor(t, 5*time.Minute, 250*time.Millisecond, "both draws drawn after the restart", func() (bool, error) {
		st := drawStatuses(t, e, slug)
		if worker.Exited() {
			return false, fmt.Errorf("worker exited:\n%s", tailFile(worker.logPath, 20))
		}
		return st["10k:big"] == lottery.DrawDrawn && st["10k:small"] == lottery.DrawDrawn, nil
	})
	t.Logf("drawn %s after the restart", time.Since(t0).Round(time.Second))
	t0 = time.Now()
	defer func() { t.Logf("checked the artifacts in %s", time.Since(t0).Round(time.Millisecond)) }()

	var draws struct {
		Draws []struct {
			SubQueue   string `json:"subqueue"`
			Status     string `json:"status"`
			SeedSecret string `json:"seed_secret"`
			Beacon     string `json:"beacon"`
		} `json:"draws"`
	}
	getJSON(t, srv.Base+"/api/v1/events/"+slug+"/draws", &draws)
	for _, d := range draws.Draws {
		sqID := ids[d.SubQueue]
		art := getBytes(t, srv.Base+"/api/v1/events/"+slug+"/draws/"+d.SubQueue+"/artifact.json")

		// An independent recomputation from the frozen entry list and the
		// revealed seed: the artifact a draw that never crashed writes.
		entries, err := e.store.DrawEntries(ctx, sqID)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := hex.DecodeString(d.SeedSecret)
		if err != nil || len(secret) == 0 {
			t.Fatalf("%s: seed secret %q not revealed: %v", d.SubQueue, d.SeedSecret, err)
		}
		want, err := fairdraw.Draw(fairdraw.Input{EventID: slug, SubQueue: d.SubQueue, Capacity: capacityOf(t, e, sqID),
			SeedSecret: secret, Beacon: d.Beacon, Entries: entries})
		if err != nil {
			t.Fatal(err)
		}
		wantRaw, err := lotterydraws.MarshalArtifact(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(art, wantRaw) {
			t.Errorf("%s: artifact after the crash (%d bytes, sha256 %s) differs from the recomputation (%d bytes, sha256 %s)",
				d.SubQueue, len(art), sha(art), len(wantRaw), sha(wantRaw))
		}
		var stored string
		e.store.DB().Raw(`SELECT artifact_sha256 FROM draws WHERE subqueue_id = ?`, sqID).Scan(&stored)
		if stored != sha(art) {
			t.Errorf("%s: stored sha256 %s, served artifact's %s", d.SubQueue, stored, sha(art))
		}

		// Anyone's check: `startline verify` on the served file.
		path := filepath.Join(t.TempDir(), "artifact.json")
		if err := os.WriteFile(path, art, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(e.bin, "verify", path).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "OK") {
			t.Errorf("startline verify %s: %v\n%s", d.SubQueue, err, out)
		}

		// The stored order is the artifact's, one row per entry, written once.
		checkDrawResults(t, e, sqID, want)
		if n := countRows(t, e, `SELECT count(*) FROM event_log WHERE kind = 'draw.drawn' AND details->>'subqueue' = ?`, d.SubQueue); n != 1 {
			t.Errorf("%s: %d draw.drawn records, want 1", d.SubQueue, n)
		}
	}
	if len(draws.Draws) != 2 {
		t.Fatalf("draws: %+v", draws)
	}
	// The last sub-queue drawn moved the event, though a worker died between.
	var ev struct {
		Status string `json:"status"`
	}
	getJSON(t, srv.Base+"/api/v1/events/"+slug, &ev)
	if ev.Status != "drawn" {
		t.Errorf("event status %q after both draws, want drawn", ev.Status)
	}
}

// checkDrawResults compares draw_results with the artifact's order.
func checkDrawResults(t *testing.T, e *faultEnv, sqID int64, a fairdraw.Artifact) {
	t.Helper()
	rows, err := e.store.DB().Raw(`SELECT entry_id::text, position, selected FROM draw_results WHERE subqueue_id = ?`, sqID).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type place struct {
		pos      int
		selected bool
	}
	got := map[string]place{}
	for rows.Next() {
		var id string
		var p place
		if err := rows.Scan(&id, &p.pos, &p.selected); err != nil {
			t.Fatal(err)
		}
		if _, dup := got[id]; dup {
			t.Errorf("entry %s has two draw_results rows", id)
		}
		got[id] = p
	}
	n := 0
	for _, it := range a.Order {
		for _, id := range it.EntryIDs {
			n++
			if p, ok := got[id]; !ok || p.pos != it.Position || p.selected != it.Selected {
				t.Errorf("entry %s: stored %+v (present %v), artifact position %d selected %v", id, p, ok, it.Position, it.Selected)
				return
			}
		}
	}
	if n != len(got) {
		t.Errorf("draw_results has %d rows, the artifact orders %d entries", len(got), n)
	}
}

func subqueueIDs(t *testing.T, e *faultEnv, slug string) map[string]int64 {
	t.Helper()
	var rows []struct {
		ID  int64
		Key string
	}
	if err := e.store.DB().Raw(`SELECT q.id, q.key FROM subqueues q JOIN events ev ON ev.id = q.event_id WHERE ev.slug = ?`,
		slug).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Key] = r.ID
	}
	return out
}

func drawStatuses(t *testing.T, e *faultEnv, slug string) map[string]string {
	t.Helper()
	var rows []struct{ Key, Status string }
	if err := e.store.DB().Raw(`SELECT q.key, d.status FROM draws d JOIN subqueues q ON q.id = d.subqueue_id
		JOIN events ev ON ev.id = d.event_id WHERE ev.slug = ?`, slug).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Key] = r.Status
	}
	return out
}

func capacityOf(t *testing.T, e *faultEnv, sqID int64) int {
	t.Helper()
	var c int
	if err := e.store.DB().Raw(`SELECT capacity FROM draws WHERE subqueue_id = ?`, sqID).Scan(&c).Error; err != nil {
		t.Fatal(err)
	}
	return c
}

func countRows(t *testing.T, e *faultEnv, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.store.DB().Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func getBytes(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %.200s", url, res.StatusCode, err, b)
	}
	return b
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal(getBytes(t, url), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// cascadeSnapshot is one consistent read (one statement) of a sub-queue's
// offers.
type cascadeSnapshot struct {
	Capacity  int64
	Live      int64 // pending, accepted or paid: holding a slot
	Due       int64 // live offers whose hold has ended: expiries still to run
	FirstLive int64 // live offers of the draw's own round (0), whose holds all ended a minute in
	Expired   int64
	Offers    int64
	Unoffered int64 // draw_results entries never offered
	Skipped   int64 // waitlisted entries never offered while a later one was
}

func snapshotCascade(e *faultEnv, sqID int64) (cascadeSnapshot, error) {
	var s cascadeSnapshot
	err := e.store.DB().Raw(`SELECT q.capacity,
			(SELECT count(*) FROM offers o WHERE o.subqueue_id = q.id AND o.status IN ('pending', 'accepted', 'paid')) AS live,
			(SELECT count(*) FROM offers o WHERE o.subqueue_id = q.id AND o.status IN ('pending', 'accepted')
				AND o.expires_at <= now()) AS due,
			(SELECT count(*) FROM offers o WHERE o.subqueue_id = q.id AND o.round = 0
				AND o.status IN ('pending', 'accepted')) AS first_live,
			(SELECT count(*) FROM offers o WHERE o.subqueue_id = q.id AND o.status = 'expired') AS expired,
			(SELECT count(*) FROM offers o WHERE o.subqueue_id = q.id) AS offers,
			(SELECT count(*) FROM draw_results dr WHERE dr.subqueue_id = q.id
				AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = dr.entry_id)) AS unoffered,
			(SELECT count(*) FROM draw_results a WHERE a.subqueue_id = q.id AND NOT a.selected
				AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = a.entry_id)
				AND a.position < (SELECT coalesce(max(b.position), 0) FROM draw_results b JOIN offers o ON o.entry_id = b.entry_id
					WHERE b.subqueue_id = q.id AND NOT b.selected)) AS skipped
		FROM subqueues q WHERE q.id = ?`, sqID).Scan(&s).Error
	return s, err
}

// check returns what is wrong with a snapshot. Expiring an offer and
// offering its slot to the next in line are one transaction, so whatever
// moment is read: never more live offers than slots, no slot left free while
// someone waits, nobody passed over in waitlist order.
func (s cascadeSnapshot) check() []string {
	var bad []string
	if s.Live > s.Capacity {
		bad = append(bad, fmt.Sprintf("over capacity: %d live offers for %d slots", s.Live, s.Capacity))
	}
	if s.Unoffered > 0 && s.Live < s.Capacity {
		bad = append(bad, fmt.Sprintf("a released slot was lost: %d live of %d while %d wait", s.Live, s.Capacity, s.Unoffered))
	}
	if s.Skipped > 0 {
		bad = append(bad, fmt.Sprintf("%d waitlisted entries passed over", s.Skipped))
	}
	if s.Offers != s.Live+s.Expired {
		bad = append(bad, fmt.Sprintf("%d offers are neither live nor expired", s.Offers-s.Live-s.Expired))
	}
	return bad
}

// TestFaultWorkerKilledDuringOfferCascade publishes the results of a
// sub-queue of 1,000 slots and 2,400 entries with a one-minute offer hold. When
// the 1,000 offers expire, the worker's expiry tasks each expire one and offer
// its slot to the next waitlisted entry; the test kills the worker (kill -9)
// in the middle of that cascade and restarts it. A sampler reads the offers
// every 50 ms throughout: never over capacity, no released slot lost, nobody
// passed over. At the end every entry has had exactly one offer, and each
// offer and expiry is logged once.
func TestFaultWorkerKilledDuringOfferCascade(t *testing.T) {
	t.Parallel()
	began := time.Now()
	defer func() { t.Logf("runtime %s", time.Since(began).Round(time.Second)) }()
	const (
		slug     = "faults-cascade"
		capacity = 1000
		entries  = 2400
	)
	ctx := context.Background()
	e := newFaultEnv(t)
	srv := e.startServer("serve", e.dsn)
	worker := e.startWorker(e.dsn)
	now := time.Now()
	e.createEvent(srv, slug, now.Add(-3*time.Hour), now.Add(-time.Hour), "1m", paceGroup{"open", capacity})
	sqID := subqueueIDs(t, e, slug)["10k:open"]
	if _, err := e.store.InsertSyntheticEntries(ctx, slug, entries); err != nil {
		t.Fatal(err)
	}
	// Solo entries: each freed slot goes to exactly the next in line.
	if err := e.store.DB().Exec(`UPDATE entries SET group_code = '' WHERE subqueue_id = ?`, sqID).Error; err != nil {
		t.Fatal(err)
	}
	e.mustAdmin(srv, http.StatusOK, "POST", "/api/v1/admin/events/"+slug+"/freeze", map[string]any{"beacon_round": "none"})
	e.mustAdmin(srv, http.StatusOK, "POST", "/api/v1/admin/events/"+slug+"/reveal", map[string]any{})
	e.mustAdmin(srv, http.StatusAccepted, "POST", "/api/v1/admin/events/"+slug+"/draw", nil)
	waitFor(t, 2*time.Minute, 100*time.Millisecond, "the draw", func() (bool, error) {
		return drawStatuses(t, e, slug)["10k:open"] == lottery.DrawDrawn, nil
	})
	// A fresh worker five seconds before publishing: its reconciler (every
	// minute from its start) then runs seconds before the holds end, not
	// just after, so the first round is expired by the per-offer tasks one
	// by one, not in one reconciler transaction no kill could land inside.
	worker.Kill()
	worker.Start()
	time.Sleep(5 * time.Second)
	e.mustAdmin(srv, http.StatusOK, "POST", "/api/v1/admin/events/"+slug+"/publish-results", nil)
	published := time.Now()
	if s, err := snapshotCascade(e, sqID); err != nil || s.Live != capacity || s.Unoffered != entries-capacity {
		t.Fatalf("after publish-results: %+v %v", s, err)
	}

	// The sampler: every snapshot must pass check.
	stop, sampled := make(chan struct{}), make(chan []string, 1)
	go func() {
		var bad []string
		n := 0
		for {
			select {
			case <-stop:
				sampled <- append(bad, fmt.Sprintf("(%d snapshots)", n))
				return
			case <-time.After(50 * time.Millisecond):
			}
			s, err := snapshotCascade(e, sqID)
			if err != nil {
				bad = append(bad, err.Error())
				continue
			}
			n++
			for _, b := range s.check() {
				bad = append(bad, fmt.Sprintf("%s: %s (%+v)", time.Now().Format("15:04:05.000"), b, s))
			}
		}
	}()
	samplerDone := false
	stopSampler := func() []string {
		if samplerDone {
			return nil
		}
		samplerDone = true
		close(stop)
		return <-sampled
	}
	defer stopSampler()

	// The holds end a minute after publishing; kill once a twentieth of the
	// offers have expired and been passed on (a cheap count, polled often:
	// the worker gets through a thousand expiries in a second or two).
	var seen []string // the counts the poll saw, for a failure message
	waitFor(t, 3*time.Minute, time.Millisecond, "the expiry cascade under way", func() (bool, error) {
		n := countRows(t, e, `SELECT count(*) FROM offers WHERE subqueue_id = ? AND status = 'expired'`, sqID)
		if n > 0 {
			seen = append(seen, fmt.Sprintf("%d at %s", n, time.Since(published).Round(time.Millisecond)))
		}
		return n >= capacity/20, nil
	})
	worker.Kill()
	at, err := snapshotCascade(e, sqID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("worker killed %s after publish-results: %d of %d offers expired, %d due, %d waiting",
		time.Since(published).Round(time.Millisecond), at.Expired, capacity, at.Due, at.Unoffered)
	if at.Due == 0 || at.Expired >= capacity {
		var actors []struct {
			Actor string
			N     int
			First time.Time
			Last  time.Time
		}
		e.store.DB().Raw(`SELECT actor, count(*) AS n, min(created_at) AS first, max(created_at) AS last FROM event_log WHERE kind = 'offer.expired' GROUP BY actor`).Scan(&actors)
		t.Fatalf("the kill came after the cascade: %+v (expired by %+v; published %s; polled %v)", at, actors,
			published.Format(time.RFC3339Nano), seen)
	}

	// The restarted worker runs the expiry tasks still queued; the ones the
	// killed worker held are expired by the reconciler (every minute, from
	// PostgreSQL) or retried by Asynq once their lease is over.
	worker.Start()
	restarted := time.Now()
	var end cascadeSnapshot
	// Done when the waitlist is served and no offer of the first round is
	// left live (the ones the killed worker held have been expired too).
	waitFor(t, 4*time.Minute, 100*time.Millisecond, "every entry offered and the first round expired", func() (bool, error) {
		if worker.Exited() {
			return false, fmt.Errorf("worker exited:\n%s", tailFile(worker.logPath, 20))
		}
		var err error
		end, err = snapshotCascade(e, sqID)
		return end.Unoffered == 0 && end.FirstLive == 0, err
	})
	t.Logf("cascade finished %s after the restart: %+v", time.Since(restarted).Round(time.Second), end)
	worker.Kill() // nothing moves while the end state is checked
	bad := stopSampler()
	if len(bad) > 1 {
		t.Errorf("%d bad snapshots:\n%s", len(bad)-1, strings.Join(bad, "\n"))
	}
	t.Logf("sampler: %s", bad[len(bad)-1])

	if end.Offers != entries {
		t.Errorf("%d offers for %d entries", end.Offers, entries)
	}
	for _, q := range []struct{ what, sql string }{
		{"entries with more than one offer", `SELECT count(*) FROM (SELECT entry_id FROM offers WHERE subqueue_id = ? GROUP BY entry_id HAVING count(*) > 1) x`},
		{"offers whose entry status disagrees", `SELECT count(*) FROM offers o JOIN entries en ON en.id = o.entry_id WHERE o.subqueue_id = ?
			AND NOT ((o.status = 'pending' AND en.status = 'offered') OR (o.status = 'expired' AND en.status = 'expired'))`},
		{"offers not logged exactly once as issued", `SELECT count(*) FROM offers o WHERE o.subqueue_id = ? AND (SELECT count(*) FROM event_log l
			WHERE l.kind = 'offer.issued' AND l.details->>'offer_id' = o.id::text) <> 1`},
		{"expired offers not logged exactly once as expired", `SELECT count(*) FROM offers o WHERE o.subqueue_id = ? AND o.status = 'expired'
			AND (SELECT count(*) FROM event_log l WHERE l.kind = 'offer.expired' AND l.details->>'offer_id' = o.id::text) <> 1`},
		{"released slots offered twice (more round ≥ 1 offers than expiries before them)", `SELECT greatest(0,
			(SELECT count(*) FROM offers WHERE subqueue_id = ? AND round > 0) - (SELECT count(*) FROM offers WHERE subqueue_id = ? AND status = 'expired'))`},
	} {
		args := []any{sqID}
		if strings.Count(q.sql, "?") == 2 {
			args = append(args, sqID)
		}
		if n := countRows(t, e, q.sql, args...); n != 0 {
			t.Errorf("%d %s", n, q.what)
		}
	}
	var byReconciler int64
	e.store.DB().Raw(`SELECT count(*) FROM event_log WHERE kind = 'offer.expired' AND actor = 'system:reconciler'`).Scan(&byReconciler)
	t.Logf("%d offers expired by the reconciler, the rest by their tasks", byReconciler)
}

// acknowledged counts the 201 answers to applications in phase ("" for all).
func acknowledged(rec *recorder, phase string) int {
	n := 0
	for _, a := range rec.Answers() {
		if a.Step == "apply" && a.Status == http.StatusCreated && (phase == "" || a.Phase == phase) {
			n++
		}
	}
	return n
}

// refusedWith counts the answers with status in phase.
func refusedWith(rec *recorder, phase string, status int) int {
	n := 0
	for _, a := range rec.Answers() {
		if a.Phase == phase && a.Status == status {
			n++
		}
	}
	return n
}

// checkNothingLost asserts that every runner's acknowledged application is
// in PostgreSQL as acknowledged, that every runner got through in the end,
// and that the event holds one entry per runner and nothing else.
func checkNothingLost(t *testing.T, e *faultEnv, slug string, runners []*runner) {
	t.Helper()
	var rows []struct {
		ID    string
		Email string
	}
	if err := e.store.DB().Raw(`SELECT en.id::text AS id, en.email FROM entries en JOIN events ev ON ev.id = en.event_id
		WHERE ev.slug = ?`, slug).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for _, r := range rows {
		byID[r.ID] = r.Email
	}
	missing, unfinished := 0, 0
	for _, r := range runners {
		switch {
		case r.failed != "":
			t.Errorf("runner %d refused: %s", r.i, r.failed)
		case !r.Done():
			unfinished++
		case byID[r.EntryID] != r.email:
			missing++
			t.Errorf("runner %d: acknowledged entry %s is not in PostgreSQL (found %q)", r.i, r.EntryID, byID[r.EntryID])
		}
	}
	if unfinished > 0 {
		t.Errorf("%d of %d runners never got an application acknowledged", unfinished, len(runners))
	}
	if len(rows) != len(runners) {
		t.Errorf("%d entries for %d runners", len(rows), len(runners))
	}
	t.Logf("%d runners, %d entries, %d acknowledged entries missing", len(runners), len(rows), missing)
}

// TestFaultRedisStoppedDuringIntake runs a stream of runners through the
// whole apply flow against a server with its own Redis, kills that Redis
// (kill -9, no persistence) in the middle for three seconds or more, and
// starts it again. Every application acknowledged with a 201 must be in PostgreSQL, no
// answer may be a 500, and every runner gets through once Redis is back.
// With STARTLINE_RATELIMIT_ON_REDIS_ERROR=open intake goes on during the
// outage (limits and the replay check fail open); with closed the runner
// requests answer 503 unavailable until Redis is back.
func TestFaultRedisStoppedDuringIntake(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"open", "closed"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			defer func() { t.Logf("runtime %s", time.Since(began).Round(time.Second)) }()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			slug := "faults-redis-" + mode
			e := newFaultEnv(t)
			srv := e.startServer("serve", e.dsn, "STARTLINE_RATELIMIT_ON_REDIS_ERROR="+mode)
			now := time.Now()
			e.createEvent(srv, slug, now.Add(-time.Hour), now.Add(24*time.Hour), "48h", paceGroup{"open", 1000})

			rec := newRecorder()
			stop, streamed := make(chan struct{}), make(chan []*runner, 1)
			go func() { streamed <- runStream(ctx, srv.Base, slug, rec, 0, 4, 60*time.Millisecond, stop) }()
			stopStream := sync.OnceValue(func() []*runner { close(stop); return <-streamed })
			defer stopStream()

			waitFor(t, 2*time.Minute, 20*time.Millisecond, "applications before the outage", func() (bool, error) {
				return acknowledged(rec, phaseBefore) >= 15, nil
			})
			e.redis.Kill()
			rec.SetPhase(phaseDuring)
			// Down for at least three seconds, and until the outage has
			// shown its effect: applications acknowledged (open) or
			// requests refused (closed).
			time.Sleep(3 * time.Second)
			waitFor(t, 30*time.Second, 20*time.Millisecond, "the outage felt by the stream", func() (bool, error) {
				if mode == "open" {
					return acknowledged(rec, phaseDuring) >= 3, nil
				}
				return refusedWith(rec, phaseDuring, http.StatusServiceUnavailable) >= 5, nil
			})
			e.redis.Start(t)
			rec.SetPhase(phaseAfter)
			waitFor(t, 2*time.Minute, 20*time.Millisecond, "applications after the outage", func() (bool, error) {
				return acknowledged(rec, phaseAfter) >= 15, nil
			})
			runners := stopStream()
			rec.SetPhase(phaseRetry)
			finish(ctx, t, runners)
			t.Logf("answers by phase:\n%s", rec.Summary())

			during := 0
			for _, a := range rec.Answers() {
				if a.Phase == phaseDuring && a.Step != "outbox" {
					during++
				}
				switch {
				case a.Status == 0:
					t.Errorf("transport error: %s %s", a, a.Err)
				case a.Status >= 500 && (mode == "open" || a.Status != http.StatusServiceUnavailable || a.Code != "unavailable"):
					t.Errorf("%s", a)
				}
			}
			if during == 0 {
				t.Fatal("no runner request was sent while Redis was down")
			}
			switch mode {
			case "open":
				if acknowledged(rec, phaseDuring) == 0 {
					t.Error("failing open, no application was acknowledged while Redis was down")
				}
			case "closed":
				if refusedWith(rec, phaseDuring, http.StatusServiceUnavailable) == 0 {
					t.Error("failing closed, no request was refused with 503 while Redis was down")
				}
			}
			checkNothingLost(t, e, slug, runners)
		})
	}
}

// TestFaultPostgresStoppedDuringIntake puts a proxy between the server and
// the shared PostgreSQL, prepares runners (proof of work solved, code read),
// and sends their applications in a stream during which the proxy drops
// every connection and refuses new ones for three seconds. Every application
// acknowledged with a 201 must be in PostgreSQL; none sent during the outage
// may be acknowledged without being stored; once the proxy is back every
// runner's same request (same Idempotency-Key and body) gets through, with
// exactly one entry per runner.
func TestFaultPostgresStoppedDuringIntake(t *testing.T) {
	t.Parallel()
	began := time.Now()
	defer func() { t.Logf("runtime %s", time.Since(began).Round(time.Second)) }()
	const (
		slug    = "faults-postgres"
		runners = 80
	)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := newFaultEnv(t)
	proxy := startPGProxy(t, dsnHostPort(t, e.dsn))
	srv := e.startServer("serve", viaProxy(t, e.dsn, proxy.Addr))
	now := time.Now()
	e.createEvent(srv, slug, now.Add(-time.Hour), now.Add(24*time.Hour), "48h", paceGroup{"open", 1000})

	// Prepare: a solved challenge and a code for every runner.
	rec := newRecorder()
	rs := make([]*runner, runners)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range rs {
		rs[i] = newRunner(srv.Base, slug, i, rec)
		wg.Add(1)
		sem <- struct{}{}
		go func(r *runner) {
			defer wg.Done()
			defer func() { <-sem }()
			for tries := 0; tries < 4 && r.code == "" && r.failed == ""; tries++ {
				r.Step(ctx)
			}
		}(rs[i])
	}
	wg.Wait()
	for _, r := range rs {
		if r.code == "" {
			t.Fatalf("runner %d not prepared (%s):\n%s", r.i, r.failed, rec.Summary())
		}
	}

	// The stream: one application per runner, four at a time, about ten a
	// second; the proxy is cut once fifteen are acknowledged.
	queue := make(chan *runner, runners)
	for _, r := range rs {
		queue <- r
	}
	close(queue)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range queue {
				time.Sleep(350 * time.Millisecond)
				r.Step(ctx)
			}
		}()
	}
	waitFor(t, 2*time.Minute, 10*time.Millisecond, "applications before the outage", func() (bool, error) {
		return acknowledged(rec, phaseBefore) >= 15, nil
	})
	proxy.Cut()
	rec.SetPhase(phaseDuring)
	time.Sleep(3 * time.Second)
	proxy.Restore(t)
	rec.SetPhase(phaseAfter)
	wg.Wait()
	srv.waitReady(t, 30*time.Second)
	rec.SetPhase(phaseRetry)
	finish(ctx, t, rs)
	t.Logf("answers by phase:\n%s", rec.Summary())

	refused := 0
	for _, a := range rec.Answers() {
		if a.Step != "apply" {
			continue
		}
		if a.Phase == phaseDuring && a.Status != http.StatusCreated {
			refused++
		}
		if a.Status == 0 {
			t.Errorf("transport error: %s %s", a, a.Err)
		}
		// A request during the outage is answered 503 unavailable with
		// Retry-After, never a 500.
		if a.Status >= 500 && !(a.Status == http.StatusServiceUnavailable && a.Code == "unavailable" && a.Retry != "") {
			t.Errorf("%s (Retry-After %q), want 503 unavailable with Retry-After", a, a.Retry)
		}
	}
	if refused == 0 {
		t.Error("no application was refused while PostgreSQL was cut off: the outage missed the stream")
	}
	checkNothingLost(t, e, slug, rs)
}
