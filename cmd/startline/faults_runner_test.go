//go:build faults

package main

// A runner's side of the fault tests: the whole apply flow over HTTP
// (challenge and proof of work, a code by mail read from the dev outbox, the
// application with an Idempotency-Key), each runner from its own address
// (X-Forwarded-For; the server trusts loopback) with its own cookie jar, and
// a recorder of every answer by the phase of the fault it was sent in.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/startline/startline/antibot/pow"
)

// Phases of a fault, in order.
const (
	phaseBefore = "before"
	phaseDuring = "during"
	phaseAfter  = "after"
	phaseRetry  = "retry" // the unfinished runners, after the stream
)

// answer is one HTTP exchange of a runner.
type answer struct {
	Phase  string
	Step   string // challenge, otp, outbox, apply
	Status int    // 0 for a transport error
	Code   string // error.code of an error body
	Retry  string // Retry-After
	Err    string
}

func (a answer) String() string {
	if a.Status == 0 {
		return fmt.Sprintf("%s %s: transport error", a.Phase, a.Step)
	}
	return fmt.Sprintf("%s %s: %d %s", a.Phase, a.Step, a.Status, a.Code)
}

// recorder keeps every answer and the current phase.
type recorder struct {
	phase   atomic.Value // string
	mu      sync.Mutex
	answers []answer
}

func newRecorder() *recorder {
	r := &recorder{}
	r.phase.Store(phaseBefore)
	return r
}

func (r *recorder) Phase() string     { return r.phase.Load().(string) }
func (r *recorder) SetPhase(p string) { r.phase.Store(p) }

func (r *recorder) add(a answer) {
	r.mu.Lock()
	r.answers = append(r.answers, a)
	r.mu.Unlock()
}

// Answers returns a copy of what was recorded.
func (r *recorder) Answers() []answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]answer(nil), r.answers...)
}

// Summary counts answers as "phase step status[ code]" lines.
func (r *recorder) Summary() string {
	n := map[string]int{}
	for _, a := range r.Answers() {
		k := fmt.Sprintf("%-6s %-9s %d", a.Phase, a.Step, a.Status)
		if a.Code != "" {
			k += " " + a.Code
		}
		n[k]++
	}
	var lines []string
	for k, v := range n {
		lines = append(lines, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// runner is one person applying.
type runner struct {
	i      int
	base   string
	slug   string
	ip     string
	email  string
	c      *http.Client
	rec    *recorder
	altcha string
	code   string
	idem   string
	body   []byte // the application, fixed once built so retries are identical
	// EntryID is set by the 201 that acknowledged the application.
	EntryID string
	failed  string // a refusal the test did not expect
}

var sharedTransport = &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}

func newRunner(base, slug string, i int, rec *recorder) *runner {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &runner{i: i, base: base, slug: slug, rec: rec,
		ip:    fmt.Sprintf("175.223.%d.%d", 1+i/250, 1+i%250), // Korean mobile addresses
		email: fmt.Sprintf("runner%04d@faults.startline.test", i), idem: fmt.Sprintf("faults-apply-%04d", i),
		c: &http.Client{Transport: sharedTransport, Jar: jar, Timeout: 30 * time.Second}}
}

// Done reports whether the runner's application was acknowledged.
func (r *runner) Done() bool { return r.EntryID != "" }

func (r *runner) call(ctx context.Context, step, method, path string, body []byte, hdr map[string]string) (answer, []byte) {
	a := answer{Phase: r.rec.Phase(), Step: step}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
	req.Header.Set("Accept-Language", "ko-KR,ko;q=0.9,en;q=0.5")
	req.Header.Set("Origin", r.base)
	req.Header.Set("X-Forwarded-For", r.ip)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := r.c.Do(req)
	if err != nil {
		a.Err = err.Error()
		r.rec.add(a)
		return a, nil
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	a.Status, a.Retry = res.StatusCode, res.Header.Get("Retry-After")
	if res.StatusCode >= 400 {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil {
			a.Code = e.Error.Code
		}
	}
	r.rec.add(a)
	return a, raw
}

// Step does the runner's next step: a solved challenge, then a code, then
// the application (the same request each time, so a retry after an outage
// is answered from the idempotency record if the first attempt committed).
func (r *runner) Step(ctx context.Context) answer {
	switch {
	case r.altcha == "":
		a, raw := r.call(ctx, "challenge", "POST", "/api/v1/events/"+r.slug+"/challenge", nil, nil)
		if a.Status != http.StatusOK {
			return a
		}
		var ch pow.Challenge
		if err := json.Unmarshal(raw, &ch); err != nil {
			r.failed = "challenge: " + err.Error()
			return a
		}
		n, err := pow.Solve(ctx, ch)
		if err != nil {
			r.failed = "solve: " + err.Error()
			return a
		}
		r.altcha = pow.EncodePayload(ch, n)
		return a
	case r.code == "":
		asked := time.Now().Add(-time.Second)
		b, _ := json.Marshal(map[string]string{"email": r.email})
		a, _ := r.call(ctx, "otp", "POST", "/api/v1/events/"+r.slug+"/otp", b, nil)
		if a.Status != http.StatusAccepted {
			return a
		}
		code, oa := r.readCode(ctx, asked)
		if code == "" {
			return oa
		}
		r.code = code
		return a
	}
	if r.body == nil {
		h := 0
		for _, c := range r.email {
			h = h*31 + int(c)
		}
		r.body, _ = json.Marshal(map[string]any{"course": "10k", "pace_group": "open",
			"name": fmt.Sprintf("Kim Minjun %d", r.i), "email": r.email,
			"phone": fmt.Sprintf("+82 10-%04d-%04d", 5000+r.i/10000, r.i%10000), "birth_date": "1990-04-01",
			"otp": r.code, "altcha": r.altcha, "consents": map[string]any{"privacy": "default-2", "waiver": "default-2"},
			"signals": map[string]any{"webdriver": false, "fill_ms": 41000 + h%9000, "timezone": "Asia/Seoul",
				"languages": []string{"ko-KR", "ko", "en"}, "platform": "iPhone", "screen": "390x844", "touch": true,
				"fingerprint": fmt.Sprintf("fp-%08x", uint32(h))}})
	}
	a, raw := r.call(ctx, "apply", "POST", "/api/v1/events/"+r.slug+"/entries", r.body, map[string]string{"Idempotency-Key": r.idem})
	switch {
	case a.Status == http.StatusCreated:
		var res struct {
			EntryID string `json:"entry_id"`
		}
		if err := json.Unmarshal(raw, &res); err != nil || res.EntryID == "" {
			r.failed = fmt.Sprintf("apply 201 without an entry id: %s", raw)
			return a
		}
		r.EntryID = res.EntryID
	case a.Code == "invalid_proof_of_work": // spent or expired: solve a new one
		r.altcha, r.body, r.idem = "", nil, r.idem+"+"
	case a.Code == "invalid_otp":
		r.code, r.body, r.idem = "", nil, r.idem+"+"
	case a.Status >= 400 && a.Status < 500 && a.Status != http.StatusTooManyRequests:
		r.failed = a.String()
	}
	return a
}

var codeRe = regexp.MustCompile(`(?:is|코드는) ([0-9]{6})`) // English or Korean code mail

// readCode reads the runner's newest code from the dev outbox.
func (r *runner) readCode(ctx context.Context, notBefore time.Time) (string, answer) {
	var a answer
	for try := range 5 {
		var raw []byte
		a, raw = r.call(ctx, "outbox", "GET", "/dev/outbox.json?to="+url.QueryEscape(r.email), nil, nil)
		if a.Status == http.StatusOK {
			var box struct {
				Messages []struct {
					Body      string    `json:"body"`
					CreatedAt time.Time `json:"created_at"`
				} `json:"messages"`
			}
			if json.Unmarshal(raw, &box) == nil {
				for _, m := range box.Messages { // newest first
					if m.CreatedAt.Before(notBefore) {
						break
					}
					if c := codeRe.FindStringSubmatch(m.Body); c != nil {
						return c[1], a
					}
				}
			}
		}
		time.Sleep(time.Duration(50*(try+1)) * time.Millisecond)
	}
	return "", a
}

// runStream sends runners through the flow from workers goroutines, one
// step every pace per goroutine, until stop closes; runners that have not
// finished are returned. New runners are numbered from first.
func runStream(ctx context.Context, base, slug string, rec *recorder, first, workers int, pace time.Duration,
	stop <-chan struct{}) []*runner {
	var mu sync.Mutex
	var all []*runner
	next := first
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r *runner
			for {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				case <-time.After(pace):
				}
				if r == nil || r.Done() || r.failed != "" {
					mu.Lock()
					r = newRunner(base, slug, next, rec)
					next++
					all = append(all, r)
					mu.Unlock()
				}
				// A step that failed is tried again on the next turn, as a
				// person would.
				r.Step(ctx)
			}
		}()
	}
	wg.Wait()
	return all
}

// finish takes every unfinished runner through the rest of its flow once
// the fault is over: an acknowledged application may not be lost, and a
// refused one must get through now.
func finish(ctx context.Context, t *testing.T, runners []*runner) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, r := range runners {
		if r.Done() || r.failed != "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			for tries := 0; tries < 8 && !r.Done() && r.failed == ""; tries++ {
				if a := r.Step(ctx); a.Status == 0 || a.Status >= 500 || a.Status == http.StatusTooManyRequests {
					time.Sleep(500 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
}
