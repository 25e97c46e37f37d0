package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

// seedDemo runs `startline seed-demo` on a fresh database, which the
// environment then names, and returns the store and the command's output.
func seedDemo(t *testing.T) (*postgres.Store, *bytes.Buffer) {
	t.Helper()
	store, dsn := pgtest.NewStore(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("STARTLINE_ENV", "production")
	t.Setenv("STARTLINE_SECRET_KEY", "seed-test-secret-key-seed-test-secret-key")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"seed-demo"}, &out); err != nil {
		t.Fatalf("seed-demo: %v\n%s", err, out.String())
	}
	return store, &out
}

// serveApp serves the API and pages as `startline serve` builds them from
// the environment, until the test ends.
func serveApp(t *testing.T) (*app, *httptest.Server) {
	t.Helper()
	cfg, err := loadConfig(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	r, err := a.router()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return a, srv
}

// TestSeedDemoPublishesAVerifiableDraw runs `startline seed-demo` on a fresh
// database and checks the drawn demo event's artifact with `startline verify`.
func TestSeedDemoPublishesAVerifiableDraw(t *testing.T) {
	store, out := seedDemo(t)
	ctx := context.Background()
	for _, want := range []string{"organizer@demo.startline.test", "password:", "otpauth://totp/", "demo-marathon created", "demo-10k-drawn drawn",
		"demo-half-frozen frozen", "demo-10k-card created with card on file"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("seed-demo output lacks %q:\n%s", want, out.String())
		}
	}
	// The open demo is a race a runner could enter: race day, start, place,
	// a draw date, a price on every pace group, a refund policy, the
	// questions it asks and its own documents.
	open, err := store.EventBySlug(ctx, "demo-marathon")
	if err != nil {
		t.Fatal(err)
	}
	if open.RaceDate == "" || open.RaceStart == "" || open.Place == "" || open.Description == "" || open.DrawDate == "" ||
		open.Currency != "krw" || len(open.RefundPolicy.Tiers) == 0 || len(open.Form.Questions) < 4 ||
		open.Form.Privacy.Version != "2026-12" || open.Form.Waiver.Version != "2026-12" {
		t.Errorf("demo-marathon lacks details: %+v", open)
	}
	for _, sq := range open.SubQueues() {
		if sq.Price <= 0 {
			t.Errorf("demo-marathon %s has no price", sq.Key)
		}
	}
	// The frozen demo waits out its dispute window: frozen, with the
	// reveal a day away.
	frozen, err := store.EventBySlug(ctx, "demo-half-frozen")
	if err != nil {
		t.Fatal(err)
	}
	if until, ok := lottery.RevealNotBefore(frozen); frozen.Status != lottery.EventFrozen || !ok || time.Until(until) < 23*time.Hour {
		t.Errorf("demo-half-frozen: status %s, reveal not before %v", frozen.Status, until)
	}
	first := out.String()
	out.Reset()
	if err := run(ctx, []string{"seed-demo"}, out); err != nil || !strings.Contains(out.String(), "exists") {
		t.Fatalf("second seed-demo: %v\n%s", err, out.String())
	}

	// The demo series: last year's drawn edition and an imported history
	// earn tickets in demo-marathon.
	m := regexp.MustCompile(`or as (\S+@demo\.startline\.test) \(not selected last year`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("seed-demo names no runner of last year:\n%s", first)
	}
	open, err = store.EventBySlug(ctx, "demo-marathon")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		email, phone, person string
		want                 int
	}{{m[1], "", "", 1}, {"minjunkim@example.com", "", "", 0}, {"", "", identity.PersonKey("Kim Minjun", time.Date(1990, 5, 1, 0, 0, 0, 0, time.UTC)), 2},
		{"", "+821055550101", "", 1}} {
		matches, err := store.TicketHistory(ctx, open, tc.email, tc.phone, tc.person)
		if err != nil {
			t.Fatal(err)
		}
		if got := lottery.EarnedApplications(matches).Count; got != tc.want {
			t.Errorf("record of %+v in demo-marathon: %d, want %d", tc, got, tc.want)
		}
	}

	// The demo's first-come group names no pre-queue: it gets the default.
	demo, err := store.EventBySlug(ctx, "demo-marathon")
	if err != nil {
		t.Fatal(err)
	}
	if sq, ok := demo.SubQueue("5k", "walk"); !ok || sq.PrequeueMinutes != lottery.DefaultPrequeueMinutes {
		t.Errorf("demo 5k:walk pre-queue: %d minutes", sq.PrequeueMinutes)
	}

	ev, err := store.EventBySlug(ctx, "demo-10k-drawn")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != lottery.EventDrawn || ev.ResultsPublishedAt == nil {
		t.Fatalf("drawn demo event is %s", ev.Status)
	}
	for _, sq := range []string{"10k:sub-50", "10k:open"} {
		gz, err := store.DrawArtifact(ctx, ev.ID, sq)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := draws.Gunzip(gz)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "artifact.json")
		os.WriteFile(path, raw, 0o600)
		out.Reset()
		if err := run(ctx, []string{"verify", path}, out); err != nil || !strings.HasPrefix(out.String(), "OK") {
			t.Errorf("verify %s: %v %s", sq, err, out.String())
		}
		if strings.Contains(string(raw), "demo.startline.test") || strings.Contains(string(raw), "Demo Runner") {
			t.Errorf("artifact %s carries personal data", sq)
		}
	}
	// The open demo shows live odds at once; the drawn and the frozen ones
	// their final odds (two pace groups each).
	var live, final int
	store.DB().Raw(`SELECT count(*) FILTER (WHERE NOT o.final AND o.odds IS NOT NULL AND o.entries = 240),
		count(*) FILTER (WHERE o.final) FROM subqueue_odds o`).Row().Scan(&live, &final)
	if live != 14 || final != 4 {
		t.Errorf("odds snapshots: %d live (want the demo-marathon's 14 drawn pace groups), %d final (want 4)", live, final)
	}
	out.Reset()
	if err := run(ctx, []string{"staff", "token", "--email", "organizer@demo.startline.test"}, out); err != nil || !strings.HasPrefix(out.String(), "slt_") {
		t.Errorf("staff token: %v %q", err, out.String())
	}
}
