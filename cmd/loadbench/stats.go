package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// percentile returns the q-th quantile (0 < q <= 1) of sorted durations by
// the nearest-rank rule: the smallest value with at least q of the samples
// at or below it, as HDR histograms and wrk report. Empty input is 0.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// recorder collects what one timed phase of the Go client saw: each
// request's duration and how it ended (HTTP status, or the error code of an
// error body, or a transport failure). Safe for concurrent use.
type recorder struct {
	mu    sync.Mutex
	durs  []time.Duration
	codes map[string]int
}

func newRecorder(capacity int) *recorder {
	return &recorder{durs: make([]time.Duration, 0, capacity), codes: map[string]int{}}
}

// add records one request: outcome is "201", "409 duplicate_entry",
// "transport" and so on.
func (r *recorder) add(d time.Duration, outcome string) {
	r.mu.Lock()
	r.durs = append(r.durs, d)
	r.codes[outcome]++
	r.mu.Unlock()
}

// summary is a finished phase: throughput over the wall time of the phase,
// quantiles of the request durations and the outcome counts.
type summary struct {
	Requests int
	Elapsed  time.Duration
	P50, P99 time.Duration
	Codes    map[string]int
}

func (r *recorder) summary(elapsed time.Duration) summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := slices.Clone(r.durs)
	slices.Sort(d)
	codes := make(map[string]int, len(r.codes))
	for k, v := range r.codes {
		codes[k] = v
	}
	return summary{Requests: len(d), Elapsed: elapsed, P50: percentile(d, 0.50), P99: percentile(d, 0.99), Codes: codes}
}

// rate is requests per second over the phase's wall time.
func (s summary) rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

// non2xx counts the requests that did not end in a 2xx answer.
func (s summary) non2xx() int {
	n := 0
	for k, v := range s.Codes {
		if !strings.HasPrefix(k, "2") {
			n += v
		}
	}
	return n
}

// codesText renders outcome counts in a stable order: "201: 24000, 409
// duplicate_entry: 3".
func codesText(codes map[string]int) string {
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, codes[k])
	}
	return strings.Join(parts, ", ")
}
