package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/antibot/pow"
)

var testLine = SubQueue{Key: "5k:walk", Course: "5k", PaceGroup: "walk", Capacity: 200, AdmitPerMinute: 60}

func TestJoinOutcome(t *testing.T) {
	errBody := func(code string) []byte { return []byte(`{"error":{"code":"` + code + `","message":"m","field":""}}`) }
	tests := []struct {
		name     string
		r        reply
		err      error
		want     joinAnswer
		wantKind Kind // when an outcome is expected
		wantCode string
	}{
		{"a place", reply{status: 201, body: []byte(`{"ticket":"abc","position":7,"ahead":6,"new_field":1}`)}, nil,
			joinAnswer{Ticket: "abc", Position: 7, Ahead: 6}, 0, ""},
		{"refused as automated", reply{status: 403, body: errBody("queue_refused"), code: "queue_refused"}, nil,
			joinAnswer{}, KindBlocked, "join:queue_refused"},
		{"rate limited", reply{status: 429, code: "rate_limited"}, nil, joinAnswer{}, KindBlocked, "join:rate_limited"},
		{"stale proof of work", reply{status: 422, code: "invalid_proof_of_work"}, nil, joinAnswer{}, KindBlocked, "join:invalid_proof_of_work"},
		{"registration closed is the run's problem", reply{status: 403, code: "registration_closed"}, nil,
			joinAnswer{}, KindError, "join:registration_closed"},
		{"server error", reply{status: 500}, nil, joinAnswer{}, KindError, "join:http_500"},
		{"201 without a ticket", reply{status: 201, body: []byte(`{"position":1}`)}, nil, joinAnswer{}, KindError, "join:bad_json"},
		{"transport", reply{}, errors.New("connection reset"), joinAnswer{}, KindError, "join:transport"},
		{"budget", reply{}, errBudget, joinAnswer{}, KindError, "join:request_budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, o := joinOutcome(tt.r, tt.err)
			if got != tt.want {
				t.Errorf("answer = %+v, want %+v", got, tt.want)
			}
			switch {
			case tt.wantCode == "" && o != nil:
				t.Errorf("outcome %+v, want a place", *o)
			case tt.wantCode != "" && (o == nil || o.Kind != tt.wantKind || o.Code != tt.wantCode):
				t.Errorf("outcome %+v, want kind %s code %s", o, kindName(tt.wantKind), tt.wantCode)
			}
		})
	}
}

func TestApplyWithoutAdmissionIsBlocked(t *testing.T) {
	// A spent or foreign admission is the server refusing before an entry
	// exists, not a broken run.
	o := applyOutcome(reply{status: 403, code: "admission_required"}, nil)
	if o.Kind != KindBlocked || o.Code != "apply:admission_required" {
		t.Errorf("got %+v", o)
	}
	if o := applyOutcome(reply{status: 403, code: "registration_not_open"}, nil); o.Kind != KindError {
		t.Errorf("registration_not_open: got %+v, want an error", o)
	}
}

func TestOrderedStatusesReachTheDraw(t *testing.T) {
	for st, want := range map[string]Kind{"offered": KindReceived, "waitlisted": KindReceived, "in_review": KindFlagged,
		"rejected": KindRejected} {
		if got, ok := statusKind(st); !ok || got != want {
			t.Errorf("statusKind(%q) = %s, %v; want %s", st, kindName(got), ok, kindName(want))
		}
	}
}

func TestPollDelay(t *testing.T) {
	tests := []struct {
		after int
		want  time.Duration
	}{
		{-3, 5 * time.Second},
		{0, 5 * time.Second},
		{5, 5 * time.Second},
		{12, 12 * time.Second},
		{30, 30 * time.Second},
		{600, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := pollDelay(queuePoll{PollAfterSeconds: tt.after}); got != tt.want {
			t.Errorf("poll_after_seconds %d: wait %s, want %s", tt.after, got, tt.want)
		}
	}
}

func TestAdmissionOf(t *testing.T) {
	tests := []struct {
		name      string
		p         queuePoll
		wantToken string
		wantCode  string // outcome code; empty: none
		wantDone  bool
	}{
		{"waiting", queuePoll{Position: 9, Ahead: 3, ETASeconds: 4, PollAfterSeconds: 5}, "", "", false},
		{"waiting while sold out", queuePoll{Ahead: 0, SoldOut: true, PollAfterSeconds: 5}, "", "", false},
		{"admitted", queuePoll{Admitted: true, AdmissionToken: "tok"}, "tok", "", true},
		{"admitted, no token", queuePoll{Admitted: true}, "", "queue:admitted_without_token", true},
		{"lapsed", queuePoll{Lapsed: true}, "", "queue:lapsed", true},
		{"spent by someone", queuePoll{Admitted: true, Used: true}, "", "queue:used_before_apply", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, o, done := admissionOf(tt.p)
			code := ""
			if o != nil {
				code = o.Code
				if o.Kind != KindError {
					t.Errorf("kind %s: botsim's own failures are errors", kindName(o.Kind))
				}
			}
			if token != tt.wantToken || code != tt.wantCode || done != tt.wantDone {
				t.Errorf("got %q, %q, %v; want %q, %q, %v", token, code, done, tt.wantToken, tt.wantCode, tt.wantDone)
			}
		})
	}
}

func TestQueueWaitLimitAndGivingUp(t *testing.T) {
	if got := queueWaitLimit(0); got != 90*time.Second {
		t.Errorf("limit at the front: %s", got)
	}
	if got := queueWaitLimit(50); got != 190*time.Second {
		t.Errorf("limit 50 s back: %s", got)
	}
	if got := queueWaitLimit(-1); got != 90*time.Second {
		t.Errorf("limit for a negative estimate: %s", got)
	}
	if o := gaveUp(queuePoll{SoldOut: true}); o.Kind != KindBlocked || o.Code != "queue:sold_out" {
		t.Errorf("sold out: %+v", o)
	}
	if o := gaveUp(queuePoll{}); o.Kind != KindError || o.Code != "queue:wait_timeout" {
		t.Errorf("a line that stopped: %+v", o)
	}
}

func TestWaitStats(t *testing.T) {
	s := func(n int) time.Duration { return time.Duration(n) * time.Second }
	tests := []struct {
		name  string
		waits []time.Duration
		want  *WaitStats
	}{
		{"none", nil, nil},
		{"one", []time.Duration{s(7)}, &WaitStats{Admitted: 1, P50MS: 7000, P90MS: 7000, MaxMS: 7000}},
		{"ten, unsorted", []time.Duration{s(10), s(1), s(9), s(2), s(8), s(3), s(7), s(4), s(6), s(5)},
			&WaitStats{Admitted: 10, P50MS: 5000, P90MS: 9000, MaxMS: 10000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, waitStats(tt.waits)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if got := (&WaitStats{Admitted: 3, P50MS: 4960, P90MS: 12049, MaxMS: 61000}).String(); got != "3 admitted after p50 5s, p90 12s, max 1m1s" {
		t.Errorf("String() = %q", got)
	}
}

func TestCombineLegit(t *testing.T) {
	crowd := &Legit{Codes: map[string]int{}, Households: 3, SharedIPPeople: 2}
	for _, o := range []Outcome{{Kind: KindReceived}, {Kind: KindReceived}, {Kind: KindBlocked, Code: "apply:duplicate_entry"},
		{Kind: KindReceived, EntryID: "c1", Token: "t"}} {
		crowd.add(o, "alone")
	}
	queue := &Legit{Codes: map[string]int{}, QueueTally: QueueTally{Line: "5k:walk"}}
	queue.add(Outcome{Kind: KindReceived, EntryID: "q1", Token: "t"}, "waiting_room")
	queue.add(Outcome{Kind: KindBlocked, Code: "join:rate_limited"}, "waiting_room")
	queue.recount(queue.Created[0], KindFlagged)
	crowd.finish()
	queue.finish()

	all := combineLegit(crowd, queue)
	if all.Total != 6 || all.Received != 3 || all.Flagged != 1 || all.Blocked != 2 || all.Households != 3 {
		t.Errorf("combined counts %+v", all)
	}
	if want := 100.0 / 6; all.FlaggedPct != want || all.FlaggedTargetMet || !all.NoRejectsMet {
		t.Errorf("flagged %.2f%% (target met %v), no rejects %v", all.FlaggedPct, all.FlaggedTargetMet, all.NoRejectsMet)
	}
	wantHarmed := map[string]int{"alone/apply:duplicate_entry": 1, "waiting_room/join:rate_limited": 1, "waiting_room/in_review": 1}
	if diff := cmp.Diff(wantHarmed, all.Harmed); diff != "" {
		t.Errorf("harmed (-want +got):\n%s", diff)
	}
	if all.Line != "" || all.Created != nil {
		t.Errorf("the combined row carries the parts' entries or line: %+v", all)
	}
	if crowd.Total != 4 || len(crowd.Codes) != 1 {
		t.Errorf("combining changed the crowd: %+v", crowd)
	}
}

func TestQueueRunners(t *testing.T) {
	const n = 100
	g := newGenerator(rand.New(rand.NewPCG(4, 4)), testSubQueues, testNow, false)
	pop := g.queueRunners(n, testLine)
	if len(pop.People) != n || len(pop.Devices) != n || len(pop.Households) != n {
		t.Fatalf("got %d people, %d devices, %d households; want %d each", len(pop.People), len(pop.Devices), len(pop.Households), n)
	}
	mailboxes, ips := map[string]bool{}, map[string]bool{}
	abroad := 0
	for i, p := range pop.People {
		if p.Course != "5k" || p.PaceGroup != "walk" {
			t.Errorf("runner %d entered for %s:%s, want the waiting room's 5k:walk", i, p.Course, p.PaceGroup)
		}
		e, err := identity.NormalizeEmail(p.Email)
		if err != nil || mailboxes[e.Key] {
			t.Errorf("mailbox %q: err %v, repeated %v", p.Email, err, mailboxes[e.Key])
		}
		mailboxes[e.Key] = true
		if ips[p.IP] {
			t.Errorf("address %s used twice", p.IP)
		}
		ips[p.IP] = true
		d := pop.Devices[p.Device]
		if d.AcceptLang == "" || d.UserAgent == "" || d.Webdriver || strings.Contains(strings.ToLower(d.UserAgent), "headless") {
			t.Errorf("runner %d's browser %+v does not look like a person's", i, d)
		}
		if p.Abroad {
			abroad++
		} else if d.TimeZone != "Asia/Seoul" {
			t.Errorf("runner %d at home on %s", i, d.TimeZone)
		}
	}
	if abroad != 2 {
		t.Errorf("%d runners abroad, want 2%% of %d", abroad, n)
	}
	again := newGenerator(rand.New(rand.NewPCG(4, 4)), testSubQueues, testNow, false).queueRunners(n, testLine)
	if diff := cmp.Diff(pop, again); diff != "" {
		t.Errorf("runners are not reproducible from the seed:\n%s", diff)
	}
}

func TestGateBoundsWork(t *testing.T) {
	g := make(gate, 3)
	var now, peak atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			g.do(context.Background(), func() {
				n := now.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(2 * time.Millisecond)
				now.Add(-1)
			})
		})
	}
	wg.Wait()
	if p := peak.Load(); p < 1 || p > 3 {
		t.Errorf("peak %d at once through a gate of 3", p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	full := make(gate, 1)
	full <- struct{}{}
	if full.do(ctx, func() { t.Error("ran after cancel") }) {
		t.Error("do reported success after cancel")
	}
}

// fakeWaitingRoom is just enough of the server for one pass through the
// waiting room: challenge (with a device cookie), join (refusing python
// scripts), a ticket re-issued at its first poll and admitted at the
// second, code mail and apply.
type fakeWaitingRoom struct {
	mu        sync.Mutex
	issuer    pow.Issuer
	joins     []http.Header // headers of every join
	applied   map[string]string
	codeFor   map[string]string
	polls     atomic.Int32
	emailOf   map[string]string // ticket -> e-mail
	admission map[string]string // admission token -> e-mail
}

func newFakeWaitingRoom() *fakeWaitingRoom {
	return &fakeWaitingRoom{issuer: pow.Issuer{Key: []byte("test key")}, applied: map[string]string{}, codeFor: map[string]string{},
		emailOf: map[string]string{}, admission: map[string]string{}}
}

func (f *fakeWaitingRoom) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	str := func(k string) string { s, _ := body[k].(string); return s }
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch p := r.URL.Path; {
	case p == "/api/v1/events/ev/challenge":
		ch, _ := f.issuer.New(time.Now(), 50)
		http.SetCookie(w, &http.Cookie{Name: "sl_device", Value: "dev", Path: "/"})
		answer(200, ch)
	case p == "/api/v1/events/ev/queue":
		f.joins = append(f.joins, r.Header.Clone())
		if _, err := f.issuer.Verify(str("altcha"), time.Now()); err != nil || str("pace_group") != "walk" {
			answer(422, map[string]any{"error": map[string]string{"code": "invalid_field"}})
			return
		}
		if strings.HasPrefix(r.UserAgent(), "python") {
			answer(403, map[string]any{"error": map[string]string{"code": "queue_refused"}})
			return
		}
		ticket := fmt.Sprint("t", len(f.emailOf))
		f.emailOf[ticket] = str("email")
		answer(201, map[string]any{"ticket": ticket, "position": len(f.emailOf), "ahead": len(f.emailOf) - 1})
	case strings.HasPrefix(p, "/api/v1/queue/"):
		f.polls.Add(1)
		ticket := strings.TrimPrefix(p, "/api/v1/queue/")
		if placed, ok := strings.CutSuffix(ticket, "-placed"); ok { // the re-issued ticket: admitted
			token := "adm-" + placed
			f.admission[token] = f.emailOf[placed]
			answer(200, map[string]any{"position": 1, "ahead": 0, "eta_seconds": 0, "admitted": true, "admission_token": token,
				"poll_after_seconds": 0})
			return
		}
		// The original ticket is re-issued at once; a client that keeps
		// polling it never gets in.
		answer(200, map[string]any{"position": 1, "ahead": 0, "eta_seconds": 0, "admitted": false, "ticket": ticket + "-placed",
			"poll_after_seconds": 0})
	case p == "/api/v1/events/ev/otp":
		f.codeFor[str("email")] = "123456"
		answer(202, map[string]bool{"sent": true})
	case p == "/dev/outbox.json":
		to := r.URL.Query().Get("to")
		answer(200, map[string]any{"messages": []map[string]any{{"to": to, "body": "Your code is " + f.codeFor[to] + ".",
			"created_at": time.Now()}}})
	case p == "/api/v1/events/ev/entries":
		if f.admission[str("admission_token")] != str("email") || str("email") == "" {
			answer(403, map[string]any{"error": map[string]string{"code": "admission_required"}})
			return
		}
		f.applied[str("email")] = str("admission_token")
		answer(201, map[string]string{"entry_id": "e-" + str("email"), "receipt_token": "r", "status": "offered", "subqueue": "5k:walk"})
	default:
		http.NotFound(w, r)
	}
}

func TestWaitingRoomFlow(t *testing.T) {
	f := newFakeWaitingRoom()
	srv := httptest.NewServer(f)
	defer srv.Close()
	s := newSim(srv.URL, "ev", 1000)
	g := newGenerator(rand.New(rand.NewPCG(9, 9)), testSubQueues, testNow, false)
	pop := g.queueRunners(3, testLine)
	var qs []queuer
	for _, p := range pop.People {
		d := pop.Devices[p.Device]
		qs = append(qs, queuer{a: s.newAgent(d), ip: p.IP, id: p.Identity, sig: signalsOf(d, p.FillMS), idemKey: p.IdemKey})
	}
	script := g.person("", 20, 50, "")
	script.Course, script.PaceGroup = testLine.Course, testLine.PaceGroup
	qs = append(qs, queuer{a: s.newCookielessAgent(Device{UserAgent: "python-requests/2.32.3"}), ip: "45.8.0.9", id: script})

	rs := waitingRoom(context.Background(), s, 2, qs)
	if len(rs) != 4 {
		t.Fatalf("%d results for 4 attempts", len(rs))
	}
	for i, r := range rs[:3] {
		if r.o.Kind != KindReceived || r.o.EntryID == "" || !r.admitted {
			t.Errorf("runner %d: %+v", i, r)
		}
		if tok := f.applied[qs[i].id.Email]; tok == "" {
			t.Errorf("runner %d applied without their admission token", i)
		}
	}
	if r := rs[3]; r.o.Kind != KindBlocked || r.o.Code != "join:queue_refused" || r.admitted {
		t.Errorf("the script: %+v", r)
	}
	if n := f.polls.Load(); n != 6 {
		t.Errorf("%d polls, want two per admitted runner (the ticket, then its re-issue)", n)
	}
	// Browsers send the device cookie and their language with the join;
	// the script neither.
	var withCookie, withLang int
	for _, h := range f.joins {
		if strings.Contains(h.Get("Cookie"), "sl_device=") {
			withCookie++
		}
		if h.Get("Accept-Language") != "" {
			withLang++
		}
	}
	if withCookie != 3 || withLang != 3 {
		t.Errorf("%d of %d joins kept the cookie, %d sent Accept-Language; want 3 each", withCookie, len(f.joins), withLang)
	}
}

func TestLegitTableRows(t *testing.T) {
	crowd := &Legit{Codes: map[string]int{}, Households: 2}
	crowd.add(Outcome{Kind: KindReceived}, "alone")
	queue := &Legit{Codes: map[string]int{}, QueueTally: QueueTally{Line: "5k:walk",
		AdmissionWait: &WaitStats{Admitted: 1, P50MS: 1000, P90MS: 1000, MaxMS: 1000}}}
	queue.add(Outcome{Kind: KindReceived}, "waiting_room")
	queue.settled("offered")
	crowd.finish()
	queue.finish()
	rep := &Report{Legit: crowd, LegitQueue: queue, LegitAll: combineLegit(crowd, queue)}
	var b bytes.Buffer
	rep.writeLegit(&b)
	out := b.String()
	for _, want := range []string{"lottery crowd  ", "waiting room  ", "all  ", "waiting room 5k:walk: 1 admitted after p50 1s",
		"settled entry statuses: offered=1", "waiting room: 1 runners join 5k:walk"} {
		if !strings.Contains(out, want) {
			t.Errorf("legit table lacks %q:\n%s", want, out)
		}
	}
}
