package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The server's own count of its answers (GET /metrics,
// startline_http_requests_total by status class), read before and after a
// wrk phase: wrk says how many answers were not 2xx/3xx, the server says
// whether they were 4xx or 5xx.

var reRequests = regexp.MustCompile(`^startline_http_requests_total\{([^}]*)\}\s+([0-9.e+]+)`)
var reClass = regexp.MustCompile(`class="([^"]*)"`)

// parseClasses sums startline_http_requests_total by status class.
func parseClasses(r io.Reader) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := reRequests.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		c := reClass.FindStringSubmatch(m[1])
		if c == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		out[c[1]] += int64(v)
	}
	return out, sc.Err()
}

// classDelta is after minus before, zero classes left out.
func classDelta(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// errorClasses renders the non-2xx/3xx classes of a delta: "4xx 3, 5xx 1";
// empty when there are none.
func errorClasses(d map[string]int64) string {
	var parts []string
	for k, v := range d {
		if strings.HasPrefix(k, "2") || strings.HasPrefix(k, "3") || v == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// scrape reads the app's answer counts; a failure is reported as nil (the
// note then says nothing about classes).
func (e *benchEnv) scrape(ctx context.Context) map[string]int64 {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/metrics", nil)
	if err != nil {
		return nil
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil
	}
	m, err := parseClasses(res.Body)
	if err != nil {
		return nil
	}
	return m
}

// logMark is a place in the app's log, to read what a phase added.
func logMark(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logCounts is what the app's log says about a phase's 5xx answers. Its
// request log writes a line for every 5xx but 503 (a dependency outage or
// overload, logged once per interval instead), and api and web log each
// internal error with its cause.
type logCounts struct {
	Logged5xx int64 // "http" lines with a 5xx status: 500s (503s are not logged per request)
	Gone      int64 // internal or page errors that are a client gone mid-request
}

// logSince reads the app log after offset.
func logSince(path string, offset int64) logCounts {
	f, err := os.Open(path)
	if err != nil {
		return logCounts{}
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return logCounts{}
	}
	return countLog(f)
}

// countLog counts, in the app's JSON log, the request lines with a 5xx
// status and the internal (api) and page (web) errors whose cause is
// "context canceled": wrk closes its connections when its time is up, with
// requests in flight, and the server answers those 500 into a closed
// connection. They are reported, not counted as the server's failures.
func countLog(r io.Reader) logCounts {
	var c logCounts
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, `"msg":"http"`) && strings.Contains(line, `"status":5`):
			c.Logged5xx++
		case (strings.Contains(line, `"msg":"internal error"`) || strings.Contains(line, `"msg":"page error"`)) &&
			strings.Contains(line, `context canceled"`):
			c.Gone++
		}
	}
	return c
}
