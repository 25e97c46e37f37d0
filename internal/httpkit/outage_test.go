package httpkit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogOutageOncePerInterval: failures within OutageLogEvery of the last
// line are counted, not logged; the next line after the interval says how
// many were left out.
func TestLogOutageOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	err := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	for _, at := range []time.Duration{0, time.Second, 9 * time.Second, OutageLogEvery + time.Second, OutageLogEvery + 2*time.Second} {
		logOutage(context.Background(), log, "/api/v1/events/:slug", err, t0.Add(at))
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{"suppressed_since_last=0", "suppressed_since_last=2"} {
		if !strings.Contains(lines[i], "level=ERROR") || !strings.Contains(lines[i], want) {
			t.Errorf("line %d: %s, want ERROR with %s", i, lines[i], want)
		}
	}
	// Another logger (another server, another test) has its own interval.
	var other bytes.Buffer
	logOutage(context.Background(), slog.New(slog.NewTextHandler(&other, nil)), "/", err, t0.Add(OutageLogEvery+3*time.Second))
	if other.Len() == 0 {
		t.Error("a second logger's first outage was not logged")
	}
}
