package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// captureProfile fetches a CPU profile of the server under test from its
// metrics listener (STARTLINE_PPROF=1 mounts net/http/pprof there, loopback
// only) over the next d, and writes it to dir/name.pprof. It runs beside a
// timed phase; an error is reported, never fatal to the run.
func captureProfile(ctx context.Context, debugAddr, dir, name string, d time.Duration) (string, error) {
	// The metrics listener's WriteTimeout is 30 s.
	secs := min(25, max(1, int(d.Round(time.Second)/time.Second)))
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	res, err := (&http.Client{Timeout: d + 30*time.Second}).Do(req)
	if err != nil {
		return "", fmt.Errorf("profile %s: %w", name, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return "", fmt.Errorf("profile %s: %d %s (is the server built with the pprof listener?)", name, res.StatusCode, b)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+".pprof")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(f, res.Body); err != nil {
		return "", fmt.Errorf("profile %s: %w", name, err)
	}
	return path, nil
}

// profileTop is `go tool pprof -top -cum` of a profile (where the time goes,
// callers included), its first lines, for the
// report; empty when the go command is not at hand.
func profileTop(ctx context.Context, bin, path string, lines int) string {
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount="+strconv.Itoa(lines), bin, path).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
