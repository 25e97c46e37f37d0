package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/startline/startline/antibot/pow"
)

// Preparation happens before the timed phases, as a real crowd's browsers
// do it while the runner types: open the event page (which sets the device
// cookie), fetch a challenge, solve the proof of work. Failures are retried a few times
// and then fail the run: a harness that drops applicants measures less
// than it says.

const prepTries = 4

// solveAll gets and solves one challenge per person, on all cores.
func solveAll(ctx context.Context, c *client, people []applicant, logf func(string, ...any)) error {
	var (
		mu       sync.Mutex
		failed   int
		firstErr error
	)
	t0 := time.Now()
	pool(ctx, len(people), 2*runtime.NumCPU(), func(ctx context.Context, i int) {
		if err := solveOne(ctx, c, &people[i]); err != nil {
			mu.Lock()
			failed++
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d challenges failed; first: %w", failed, len(people), firstErr)
	}
	logf("solved %d proofs of work in %s", len(people), time.Since(t0).Round(time.Millisecond))
	return nil
}

func solveOne(ctx context.Context, c *client, p *applicant) error {
	var last error
	for try := range prepTries {
		if try > 0 {
			time.Sleep(time.Duration(try) * 200 * time.Millisecond)
		}
		if p.Cookie == "" {
			pg, err := c.page(ctx, p, "/events/"+benchSlug)
			if err != nil {
				last = err
				continue
			}
			if pg.status != http.StatusOK {
				last = pg.errorf("event page")
				continue
			}
			p.Cookie = deviceCookie(pg.header)
		}
		a, err := c.do(ctx, p, http.MethodPost, "/api/v1/events/"+benchSlug+"/challenge", nil)
		if err != nil {
			last = err
			continue
		}
		if a.status != http.StatusOK {
			last = a.errorf("challenge")
			continue
		}
		if ck := deviceCookie(a.header); ck != "" {
			p.Cookie = ck
		}
		var ch pow.Challenge
		if err := json.Unmarshal(a.body, &ch); err != nil {
			return fmt.Errorf("challenge: %w", err)
		}
		n, err := pow.Solve(ctx, ch)
		if err != nil {
			return fmt.Errorf("solve: %w", err)
		}
		p.Altcha = pow.EncodePayload(ch, n)
		return nil
	}
	return last
}

// deviceCookie returns "sl_device=..." from a response's Set-Cookie, the
// cookie a browser sends back with its next requests.
func deviceCookie(h http.Header) string {
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		if ck.Name == "sl_device" {
			return ck.Name + "=" + ck.Value
		}
	}
	return ""
}

// codeRe finds the code in the code mail, English or Korean (the mail is in
// the language of the request).
var codeRe = regexp.MustCompile(`(?:is|코드는) (\d{6})`)

func codeFromBody(body string) (string, bool) {
	m := codeRe.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// readCodes reads every code mail of the bench database's outbox at once
// (what the dev outbox shows, without rendering 20,000 JSON answers) and
// gives each person the newest code mailed to them. It fails if anyone
// who was answered 202 has none.
func readCodes(ctx context.Context, dsn string, people []applicant) error {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("read codes: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT lower(to_addr), body FROM outbox WHERE kind = 'otp' ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read codes: %w", err)
	}
	codes := map[string]string{}
	for rows.Next() {
		var to, body string
		if err := rows.Scan(&to, &body); err != nil {
			return fmt.Errorf("read codes: %w", err)
		}
		if c, ok := codeFromBody(body); ok {
			codes[to] = c // later rows win: the newest code
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read codes: %w", err)
	}
	missing := 0
	for i := range people {
		c, ok := codes[strings.ToLower(people[i].Email)]
		if !ok {
			missing++
			continue
		}
		people[i].Code = c
	}
	if missing > 0 {
		return fmt.Errorf("read codes: %d of %d people have no code mail in the outbox", missing, len(people))
	}
	return nil
}
