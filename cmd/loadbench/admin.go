package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// The bench event: four lottery pace groups on the full course (the crowd
// applies there) and one ordered pace group on the 10K, whose waiting room
// the joins and polls use. It admits one a minute, so during the polls
// every ticket but one or two is waiting, as in a rush where the line is
// far longer than the admissions (an admitted ticket's poll reads its
// admission from PostgreSQL, each time). Capacities are large so nobody is refused for
// room; the draw still selects and waitlists.
const (
	benchSlug    = "bench-rush"
	orderedKey   = "10k:fcfs"
	orderedCode  = "fcfs"
	orderedCours = "10k"
)

var lotteryGroups = []string{"sub-3", "sub-330", "sub-4", "open"}

// admin sends an organizer request with the run's bearer token.
func (e *benchEnv) admin(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

func (e *benchEnv) mustAdmin(ctx context.Context, want int, method, path string, body any) ([]byte, error) {
	st, raw, err := e.admin(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	if st != want {
		return nil, fmt.Errorf("%s %s: %d, want %d: %s", method, path, st, want, raw)
	}
	return raw, nil
}

// createEvent creates and publishes the bench event through the organizer
// API, open since an hour ago for capacity places per lottery pace group.
func (e *benchEnv) createEvent(ctx context.Context, capacity int) error {
	now := time.Now()
	var lottery []any
	for _, g := range lotteryGroups {
		lottery = append(lottery, map[string]any{"code": g, "label": "Pace " + g, "capacity": capacity, "mode": "lottery"})
	}
	spec := map[string]any{
		"slug": benchSlug, "name": "Loadbench Marathon", "time_zone": "Asia/Seoul",
		"opens_at": now.Add(-time.Hour).UTC().Format(time.RFC3339), "closes_at": now.Add(3 * time.Hour).UTC().Format(time.RFC3339),
		"offer_hold": "48h", "dispute_window": "0s", "max_group_size": 4, "ticket_rule": "none",
		"race_date": now.AddDate(0, 3, 0).Format("2006-01-02"), "place": "Seoul",
		"courses": []any{
			map[string]any{"code": "full", "name": "Marathon", "distance_km": 42.195, "pace_groups": lottery},
			map[string]any{"code": orderedCours, "name": "10K", "distance_km": 10, "pace_groups": []any{
				map[string]any{"code": orderedCode, "label": "First come", "capacity": 1_000_000, "mode": "ordered", "admit_per_minute": 1},
			}},
		},
	}
	if _, err := e.mustAdmin(ctx, http.StatusCreated, "POST", "/api/v1/admin/events", spec); err != nil {
		return fmt.Errorf("create event: %w", err)
	}
	if _, err := e.mustAdmin(ctx, http.StatusOK, "POST", "/api/v1/admin/events/"+benchSlug+"/publish", nil); err != nil {
		return fmt.Errorf("publish event: %w", err)
	}
	return nil
}

// runDraw drives the lifecycle after the rush: close, freeze (no beacon),
// reveal, draw (the worker draws each lottery sub-queue), then
// publish-results, as an organizer's script would.
func (e *benchEnv) runDraw(ctx context.Context, logf func(string, ...any)) error {
	p := "/api/v1/admin/events/" + benchSlug + "/"
	steps := []struct {
		action string
		want   int
		body   any
	}{
		{"close", http.StatusOK, nil},
		{"freeze", http.StatusOK, map[string]any{"beacon_round": "none"}},
		{"reveal", http.StatusOK, map[string]any{}},
		{"draw", http.StatusAccepted, nil},
	}
	for _, s := range steps {
		t0 := time.Now()
		if _, err := e.mustAdmin(ctx, s.want, "POST", p+s.action, s.body); err != nil {
			return fmt.Errorf("draw lifecycle: %w", err)
		}
		logf("%s: %s", s.action, time.Since(t0).Round(time.Millisecond))
	}
	t0 := time.Now()
	for {
		done, err := e.lotteriesDrawn(ctx)
		if err != nil {
			return err
		}
		if done {
			break
		}
		if time.Since(t0) > 5*time.Minute {
			return fmt.Errorf("the draws did not finish within 5 minutes (worker log: %s)", e.app.log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	logf("draw: every lottery sub-queue drawn after %s", time.Since(t0).Round(time.Millisecond))
	if _, err := e.mustAdmin(ctx, http.StatusOK, "POST", p+"publish-results", nil); err != nil {
		return fmt.Errorf("draw lifecycle: %w", err)
	}
	return nil
}

// lotteriesDrawn reads the public draws list: true once every lottery
// sub-queue is drawn.
func (e *benchEnv) lotteriesDrawn(ctx context.Context) (bool, error) {
	st, raw, err := e.admin(ctx, "GET", "/api/v1/events/"+url.PathEscape(benchSlug)+"/draws", nil)
	if err != nil {
		return false, err
	}
	if st != http.StatusOK {
		return false, fmt.Errorf("GET draws: %d %s", st, raw)
	}
	var d struct {
		Draws []struct {
			SubQueue string `json:"subqueue"`
			Status   string `json:"status"`
		} `json:"draws"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return false, fmt.Errorf("GET draws: %w", err)
	}
	want := map[string]bool{}
	for _, g := range lotteryGroups {
		want["full:"+g] = true
	}
	for _, x := range d.Draws {
		if want[x.SubQueue] && x.Status == "drawn" {
			delete(want, x.SubQueue)
		}
	}
	return len(want) == 0, nil
}
