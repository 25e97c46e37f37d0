package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/startline/startline/antibot/pow"
)

// errBudget is returned once the run has sent its maximum number of requests.
var errBudget = errors.New("request budget exhausted")

// sim talks to one Startline server.
type sim struct {
	base   string // http://host:port, no trailing slash
	event  string
	tr     http.RoundTripper
	budget atomic.Int64 // requests still allowed
	sent   atomic.Int64
	plain  *http.Client // outbox reads: no cookies, no client address
	// consents and answers go with every application (the event's form).
	consents map[string]string
	answers  map[string]any
}

func newSim(base, event string, maxRequests int64) *sim {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second}
	s := &sim{base: strings.TrimRight(base, "/"), event: event, tr: tr}
	s.budget.Store(maxRequests)
	s.plain = &http.Client{Transport: tr, Timeout: 30 * time.Second, CheckRedirect: noRedirect}
	return s
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// agent is one browser (or bot) with its own cookie jar.
type agent struct {
	c   *http.Client
	dev Device
}

func (s *sim) newAgent(d Device) *agent {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &agent{c: &http.Client{Transport: s.tr, Jar: jar, Timeout: 60 * time.Second, CheckRedirect: noRedirect}, dev: d}
}

// newCookielessAgent is a client that drops every cookie, as a plain HTTP
// script does: the device cookie set with a challenge never comes back.
func (s *sim) newCookielessAgent(d Device) *agent {
	return &agent{c: &http.Client{Transport: s.tr, Timeout: 60 * time.Second, CheckRedirect: noRedirect}, dev: d}
}

// reply is a server answer.
type reply struct {
	status int
	body   []byte
	header http.Header
	code   string // error.code of an error body
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// call sends one JSON request as agent a from client address ip (sent as
// X-Forwarded-For; the server believes it only from its trusted proxies).
func (s *sim) call(ctx context.Context, a *agent, ip, method, path string, in any, hdr map[string]string) (reply, error) {
	if s.budget.Add(-1) < 0 {
		return reply{}, errBudget
	}
	s.sent.Add(1)
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return reply{}, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c := s.plain
	if a != nil {
		c = a.c
		if a.dev.UserAgent != "" {
			req.Header.Set("User-Agent", a.dev.UserAgent)
		}
		if a.dev.AcceptLang != "" {
			req.Header.Set("Accept-Language", a.dev.AcceptLang)
		}
		for k, v := range a.dev.Hints {
			req.Header.Set(k, v)
		}
		req.Header.Set("Origin", s.base)
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, body: b, header: resp.Header}
	if resp.StatusCode >= 400 {
		var e errorBody
		if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
			r.code = e.Error.Code
		}
	}
	return r, nil
}

// Kind is how one attempt ended.
type Kind int

// Kinds of outcome.
const (
	KindReceived Kind = iota // 201 received: in the draw once frozen
	KindFlagged              // 201 in_review: waits for a reviewer
	KindRejected             // 201 rejected: auto-rejected by the risk score
	KindBlocked              // refused before an entry existed (401, 409, 422, 429, a refused or lapsed place in line, or no code delivered)
	KindError                // transport failure, 5xx or an answer botsim did not expect
)

// Outcome is the end of one attempt. Code names the step and the answer for
// everything but 201s ("apply:duplicate_entry", "otp:rate_limited").
type Outcome struct {
	Kind Kind
	Code string
	// EntryID and Token identify the entry a 201 created, so its status can
	// be read again after the server's asynchronous checks (clustering).
	EntryID, Token string
}

func errorOutcome(step string, err error) Outcome {
	switch {
	case errors.Is(err, errBudget):
		return Outcome{Kind: KindError, Code: step + ":request_budget"}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return Outcome{Kind: KindError, Code: step + ":timeout"}
	}
	return Outcome{Kind: KindError, Code: step + ":transport"}
}

// refusal classifies a non-success answer of step. A 403 is a refusal only
// for the waiting room's codes: any other (registration closed) means the
// run itself is broken.
func refusal(step string, r reply) Outcome {
	code := r.code
	if code == "" {
		code = fmt.Sprintf("http_%d", r.status)
	}
	switch r.status {
	case http.StatusUnauthorized, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusTooManyRequests:
		return Outcome{Kind: KindBlocked, Code: step + ":" + code}
	case http.StatusForbidden:
		if code == codeQueueRefused || code == codeAdmissionRequired {
			return Outcome{Kind: KindBlocked, Code: step + ":" + code}
		}
	}
	return Outcome{Kind: KindError, Code: step + ":" + code}
}

type applyAnswer struct {
	EntryID      string `json:"entry_id"`
	ReceiptToken string `json:"receipt_token"`
	Status       string `json:"status"`
	SubQueue     string `json:"subqueue"`
}

// applyOutcome classifies the answer to an apply.
func applyOutcome(r reply, err error) Outcome {
	if err != nil {
		return errorOutcome("apply", err)
	}
	if r.status != http.StatusCreated {
		return refusal("apply", r)
	}
	var a applyAnswer
	if json.Unmarshal(r.body, &a) != nil {
		return Outcome{Kind: KindError, Code: "apply:bad_json"}
	}
	k, ok := statusKind(a.Status)
	if !ok {
		return Outcome{Kind: KindError, Code: "apply:status_" + a.Status}
	}
	return Outcome{Kind: k, EntryID: a.EntryID, Token: a.ReceiptToken}
}

// statusKind maps an entry status (API.md) to an outcome: anything past
// review that is still in or through the draw counts as received. On an
// ordered sub-queue, offered (holding a slot) and waitlisted (waiting in
// line order for one) are its "draw".
func statusKind(status string) (Kind, bool) {
	switch status {
	case "received", "eligible", "selected", "waitlisted", "offered", "confirmed", "declined", "expired":
		return KindReceived, true
	case "in_review":
		return KindFlagged, true
	case "rejected":
		return KindRejected, true
	}
	return KindError, false
}

// entryStatus reads an entry's current status with its receipt token.
func (s *sim) entryStatus(ctx context.Context, id, token string) (string, error) {
	r, err := s.call(ctx, nil, "", http.MethodGet, "/api/v1/entries/"+url.PathEscape(id)+"?token="+url.QueryEscape(token), nil, nil)
	if err != nil {
		return "", err
	}
	if r.status != http.StatusOK {
		return "", fmt.Errorf("GET entry: %d %s", r.status, r.code)
	}
	var e struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		return "", err
	}
	return e.Status, nil
}

// solveChallenge fetches a challenge as agent a (which also receives the
// device cookie) and solves it. A nil *Outcome means success.
func (s *sim) solveChallenge(ctx context.Context, a *agent, ip string) (string, *Outcome) {
	r, err := s.call(ctx, a, ip, http.MethodPost, "/api/v1/events/"+url.PathEscape(s.event)+"/challenge", nil, nil)
	if err != nil {
		o := errorOutcome("challenge", err)
		return "", &o
	}
	if r.status != http.StatusOK {
		o := refusal("challenge", r)
		return "", &o
	}
	var ch pow.Challenge
	if err := json.Unmarshal(r.body, &ch); err != nil {
		return "", &Outcome{Kind: KindError, Code: "challenge:bad_json"}
	}
	n, err := pow.Solve(ctx, ch)
	if err != nil {
		o := errorOutcome("pow", err)
		return "", &o
	}
	return pow.EncodePayload(ch, n), nil
}

// requestOTP asks for a code for email. A nil *Outcome means 202.
func (s *sim) requestOTP(ctx context.Context, a *agent, ip, email string) *Outcome {
	r, err := s.call(ctx, a, ip, http.MethodPost, "/api/v1/events/"+url.PathEscape(s.event)+"/otp",
		map[string]string{"email": email}, nil)
	if err != nil {
		o := errorOutcome("otp", err)
		return &o
	}
	if r.status != http.StatusAccepted {
		o := refusal("otp", r)
		return &o
	}
	return nil
}

// codeRe finds the code in the code mail, which is written in the
// language of the request (Accept-Language): "... is 123456." or
// "... 코드는 123456 입니다.".
var codeRe = regexp.MustCompile(`(?:is|코드는) (\d{6})`)

// otpFromBody finds the code in a mail body.
func otpFromBody(body string) (string, bool) {
	m := codeRe.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	return m[1], true
}

type outboxJSON struct {
	Messages []struct {
		To        string    `json:"to"`
		Subject   string    `json:"subject"`
		Body      string    `json:"body"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"messages"`
}

// readOTP reads the newest code mailed to email from the dev outbox, newer
// than notBefore. The code is written in the same transaction as the 202, so
// it is normally there at once; a few short retries cover clock skew.
func (s *sim) readOTP(ctx context.Context, email string, notBefore time.Time) (string, *Outcome) {
	for try := range 4 {
		r, err := s.call(ctx, nil, "", http.MethodGet, "/dev/outbox.json?to="+url.QueryEscape(email), nil, nil)
		if err != nil {
			o := errorOutcome("outbox", err)
			return "", &o
		}
		if r.status != http.StatusOK {
			return "", &Outcome{Kind: KindError, Code: fmt.Sprintf("outbox:http_%d", r.status)}
		}
		var box outboxJSON
		if err := json.Unmarshal(r.body, &box); err != nil {
			return "", &Outcome{Kind: KindError, Code: "outbox:bad_json"}
		}
		for _, m := range box.Messages { // newest first
			if m.CreatedAt.Before(notBefore) {
				break
			}
			if code, ok := otpFromBody(m.Body); ok {
				return code, nil
			}
		}
		select {
		case <-ctx.Done():
			o := errorOutcome("outbox", ctx.Err())
			return "", &o
		case <-time.After(time.Duration(50*(try+1)) * time.Millisecond):
		}
	}
	// 202 but no mail: the server stays silent for addresses it will not
	// serve, so this counts as blocked, not as an error.
	return "", &Outcome{Kind: KindBlocked, Code: "otp:no_code_delivered"}
}

// Signals is the form script's report (API.md).
type Signals struct {
	Webdriver   bool     `json:"webdriver"`
	FillMS      int      `json:"fill_ms"`
	TimeZone    string   `json:"timezone"`
	Languages   []string `json:"languages"`
	Screen      string   `json:"screen"`
	Platform    string   `json:"platform"`
	Fingerprint string   `json:"fingerprint"`
	Touch       bool     `json:"touch"`
}

func signalsOf(d Device, fillMS int) *Signals {
	return &Signals{Webdriver: d.Webdriver, FillMS: fillMS, TimeZone: d.TimeZone, Languages: d.Languages,
		Screen: d.Screen, Platform: d.Platform, Fingerprint: d.Fingerprint, Touch: d.Touch}
}

// ApplyBody is the apply request (API.md).
type ApplyBody struct {
	Course    string   `json:"course"`
	PaceGroup string   `json:"pace_group"`
	Name      string   `json:"name"`
	Email     string   `json:"email"`
	Phone     string   `json:"phone"`
	BirthDate string   `json:"birth_date"`
	OTP       string   `json:"otp"`
	Altcha    string   `json:"altcha"`
	Signals   *Signals `json:"signals,omitempty"`
	Website   string   `json:"website"`
	// AdmissionToken is the waiting room's pass (ordered sub-queues only).
	AdmissionToken string `json:"admission_token,omitempty"`
	// Consents and Answers are the event's form (sim.apply fills them).
	Consents map[string]string `json:"consents,omitempty"`
	Answers  map[string]any    `json:"answers,omitempty"`
}

func applyBodyFor(id Identity, otp, altcha string, sig *Signals) ApplyBody {
	return ApplyBody{Course: id.Course, PaceGroup: id.PaceGroup, Name: id.Name, Email: id.Email, Phone: id.Phone,
		BirthDate: id.BirthDate, OTP: otp, Altcha: altcha, Signals: sig}
}

func (s *sim) apply(ctx context.Context, a *agent, ip string, body ApplyBody, idemKey string) (reply, error) {
	var hdr map[string]string
	if idemKey != "" {
		hdr = map[string]string{"Idempotency-Key": idemKey}
	}
	if body.Consents == nil {
		body.Consents, body.Answers = s.consents, s.answers
	}
	return s.call(ctx, a, ip, http.MethodPost, "/api/v1/events/"+url.PathEscape(s.event)+"/entries", body, hdr)
}

// fullApply is the whole runner flow as agent a from ip: challenge and proof
// of work, a code by mail (read from the dev outbox, as the owner of the
// mailbox would), then the application.
func (s *sim) fullApply(ctx context.Context, a *agent, ip string, id Identity, sig *Signals, idemKey string) Outcome {
	return s.fullApplyAdmitted(ctx, a, ip, id, sig, idemKey, "")
}

// fullApplyAdmitted is fullApply carrying a waiting-room admission token
// (empty for lottery sub-queues).
func (s *sim) fullApplyAdmitted(ctx context.Context, a *agent, ip string, id Identity, sig *Signals, idemKey, admission string) Outcome {
	altcha, o := s.solveChallenge(ctx, a, ip)
	if o != nil {
		return *o
	}
	asked := time.Now().Add(-2 * time.Second)
	if o := s.requestOTP(ctx, a, ip, id.Email); o != nil {
		return *o
	}
	code, o := s.readOTP(ctx, id.Email, asked)
	if o != nil {
		return *o
	}
	body := applyBodyFor(id, code, altcha, sig)
	body.AdmissionToken = admission
	return applyOutcome(s.apply(ctx, a, ip, body, idemKey))
}
