package main

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/startline/startline/lottery/postgres/pgtest"
)

// TestQueueMonitorMounted: the app's router mounts the Asynq monitor at
// /admin/queues behind the staff session (web's TestQueueMonitor covers a
// signed-in member and cross-site changes).
func TestQueueMonitorMounted(t *testing.T) {
	_, dsn := pgtest.NewStore(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("STARTLINE_ENV", "production")
	t.Setenv("STARTLINE_SECRET_KEY", "queue-monitor-test-secret-key-queue-monitor")
	t.Setenv("STARTLINE_PUBLIC_URL", "https://run.example")
	if err := migrateCmd(context.Background(), mustConfig(t), io.Discard); err != nil {
		t.Fatal(err)
	}
	a, srv := serveApp(t)
	if a.queues == nil || a.queues.RootPath() != "/admin/queues" {
		t.Fatalf("monitor not opened at /admin/queues: %v", a.queues)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]int{"/admin/queues": http.StatusFound, "/admin/queues/api/queues": http.StatusUnauthorized} {
		res, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want || want == http.StatusFound && res.Header.Get("Location") != "/staff/login?next=%2Fadmin%2Fqueues" {
			t.Errorf("anonymous GET %s: %d %v, want %d", path, res.StatusCode, res.Header, want)
		}
	}
}
