package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// The waiting room of ordered sub-queues (API.md): join with a solved
// challenge, poll the ticket at the pace the server asks until admitted,
// then apply with the admission token. Error codes botsim tells apart:
const (
	codeQueueRefused      = "queue_refused"      // 403: the join scored as automated, no place
	codeAdmissionRequired = "admission_required" // 403: apply without a valid, unspent admission
)

// Poll pacing: the server asks for 5-30 s between polls; botsim clamps what
// it is told to that range so a missing or odd value cannot spin or stall.
const (
	minPollDelay = 5 * time.Second
	maxPollDelay = 30 * time.Second
)

type joinAnswer struct {
	Ticket   string `json:"ticket"`
	Position int64  `json:"position"`
	Ahead    int64  `json:"ahead"`
}

// queuePoll is a ticket's state (GET /api/v1/queue/{ticket}); fields the
// server may add are ignored.
type queuePoll struct {
	Position         int64  `json:"position"`
	Ahead            int64  `json:"ahead"`
	ETASeconds       int    `json:"eta_seconds"`
	Admitted         bool   `json:"admitted"`
	AdmissionToken   string `json:"admission_token"`
	Used             bool   `json:"used"`
	Lapsed           bool   `json:"lapsed"`
	SoldOut          bool   `json:"sold_out"`
	PollAfterSeconds int    `json:"poll_after_seconds"`
	// Ticket, when set, replaces the one polled (a pre-queue ticket
	// re-issued with its place once the line opens).
	Ticket string `json:"ticket"`
}

// joinOutcome classifies the answer to a join. A nil *Outcome means a place
// in line; 403 queue_refused and 429 are blocked (no entry can follow).
func joinOutcome(r reply, err error) (joinAnswer, *Outcome) {
	if err != nil {
		o := errorOutcome("join", err)
		return joinAnswer{}, &o
	}
	if r.status != http.StatusCreated {
		o := refusal("join", r)
		return joinAnswer{}, &o
	}
	var j joinAnswer
	if json.Unmarshal(r.body, &j) != nil || j.Ticket == "" {
		return joinAnswer{}, &Outcome{Kind: KindError, Code: "join:bad_json"}
	}
	return j, nil
}

// joinQueue asks for a place in id's (ordered) sub-queue as agent a.
func (s *sim) joinQueue(ctx context.Context, a *agent, ip string, id Identity, altcha string) (joinAnswer, *Outcome) {
	body := map[string]string{"course": id.Course, "pace_group": id.PaceGroup, "email": id.Email, "altcha": altcha}
	return joinOutcome(s.call(ctx, a, ip, http.MethodPost, "/api/v1/events/"+url.PathEscape(s.event)+"/queue", body, nil))
}

// pollQueue reads a ticket's state as agent a (a browser refreshing its
// waiting page).
func (s *sim) pollQueue(ctx context.Context, a *agent, ip, ticket string) (queuePoll, *Outcome) {
	r, err := s.call(ctx, a, ip, http.MethodGet, "/api/v1/queue/"+url.PathEscape(ticket), nil, nil)
	if err != nil {
		o := errorOutcome("poll", err)
		return queuePoll{}, &o
	}
	if r.status != http.StatusOK {
		o := refusal("poll", r)
		return queuePoll{}, &o
	}
	var p queuePoll
	if err := json.Unmarshal(r.body, &p); err != nil {
		return queuePoll{}, &Outcome{Kind: KindError, Code: "poll:bad_json"}
	}
	return p, nil
}

// pollDelay is how long to wait before the next poll: what the server asked,
// within 5-30 s.
func pollDelay(p queuePoll) time.Duration {
	return min(max(time.Duration(p.PollAfterSeconds)*time.Second, minPollDelay), maxPollDelay)
}

// admissionOf reads a poll: done with a token once admitted; done with an
// outcome when the ticket can no longer be used (an admission that lapsed
// or was spent before botsim applied means botsim, not the server, failed);
// not done while waiting.
func admissionOf(p queuePoll) (token string, o *Outcome, done bool) {
	switch {
	case p.Used:
		return "", &Outcome{Kind: KindError, Code: "queue:used_before_apply"}, true
	case p.Lapsed:
		return "", &Outcome{Kind: KindError, Code: "queue:lapsed"}, true
	case p.Admitted && p.AdmissionToken != "":
		return p.AdmissionToken, nil, true
	case p.Admitted:
		return "", &Outcome{Kind: KindError, Code: "queue:admitted_without_token"}, true
	}
	return "", nil, false
}

// queueWaitLimit bounds the wait for admission: twice the first estimate
// plus 90 s (a few admission passes), so a line that stopped moving ends
// the attempt instead of the run.
func queueWaitLimit(etaSeconds int) time.Duration {
	return 2*time.Duration(max(etaSeconds, 0))*time.Second + 90*time.Second
}

// gaveUp is the outcome of a wait that hit its limit: sold out is the
// server's answer (every slot held by an offer: blocked); a line that just
// did not move is not a decision (an error, out of the kept-out share).
func gaveUp(last queuePoll) Outcome {
	if last.SoldOut {
		return Outcome{Kind: KindBlocked, Code: "queue:sold_out"}
	}
	return Outcome{Kind: KindError, Code: "queue:wait_timeout"}
}

// gate bounds the requests in flight across goroutines that mostly sleep:
// a runner waiting in line holds no slot, only its polls and its apply do.
type gate chan struct{}

// do runs f holding a slot; false if ctx ended first.
func (g gate) do(ctx context.Context, f func()) bool {
	select {
	case g <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-g }()
	f()
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// queuer is one attempt through the waiting room: who joins, from where,
// and what the apply that follows admission sends. id's course and pace
// group are the ordered sub-queue's.
type queuer struct {
	a       *agent
	ip      string
	id      Identity
	sig     *Signals
	idemKey string
}

// queueResult is one attempt's end and, when admitted, how long it waited.
type queueResult struct {
	o        Outcome
	admitted bool
	wait     time.Duration
}

// waitingRoom runs attempts through a line like a crowd at a release: all
// join at once (conc at a time), each polls at the pace the server asks and
// applies as soon as it is admitted. Results are in the order of qs.
func waitingRoom(ctx context.Context, s *sim, conc int, qs []queuer) []queueResult {
	g := make(gate, max(conc, 1))
	out := make([]queueResult, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Go(func() { out[i] = s.queueAttempt(ctx, g, q) })
	}
	wg.Wait()
	return out
}

// queueAttempt is one runner's (or bot's) way through the waiting room.
func (s *sim) queueAttempt(ctx context.Context, g gate, q queuer) queueResult {
	var ticket joinAnswer
	var o *Outcome
	if !g.do(ctx, func() {
		var altcha string
		if altcha, o = s.solveChallenge(ctx, q.a, q.ip); o == nil {
			ticket, o = s.joinQueue(ctx, q.a, q.ip, q.id, altcha)
		}
	}) {
		return queueResult{o: Outcome{Kind: KindError, Code: "not_run:timeout"}}
	}
	if o != nil {
		return queueResult{o: *o}
	}
	start := time.Now()
	token, o := s.awaitAdmission(ctx, g, q, ticket.Ticket)
	if o != nil {
		return queueResult{o: *o}
	}
	res := queueResult{admitted: true, wait: time.Since(start)}
	if !g.do(ctx, func() { res.o = s.fullApplyAdmitted(ctx, q.a, q.ip, q.id, q.sig, q.idemKey, token) }) {
		res.o = errorOutcome("apply", ctx.Err())
	}
	return res
}

// awaitAdmission polls a ticket until it is admitted (its token), unusable,
// or the wait limit passes.
func (s *sim) awaitAdmission(ctx context.Context, g gate, q queuer, ticket string) (string, *Outcome) {
	var deadline time.Time
	for {
		var p queuePoll
		var o *Outcome
		if !g.do(ctx, func() { p, o = s.pollQueue(ctx, q.a, q.ip, ticket) }) {
			o := errorOutcome("poll", ctx.Err())
			return "", &o
		}
		if o != nil {
			return "", o
		}
		if p.Ticket != "" {
			ticket = p.Ticket
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(queueWaitLimit(p.ETASeconds))
		}
		if token, o, done := admissionOf(p); done {
			return token, o
		}
		d := pollDelay(p)
		if time.Now().Add(d).After(deadline) {
			o := gaveUp(p)
			return "", &o
		}
		if !sleepCtx(ctx, d) {
			o := errorOutcome("poll", ctx.Err())
			return "", &o
		}
	}
}

// admissionWaits collects the waits of the admitted attempts.
func admissionWaits(rs []queueResult) []time.Duration {
	var w []time.Duration
	for _, r := range rs {
		if r.admitted {
			w = append(w, r.wait)
		}
	}
	return w
}

// runLegitQueue runs n legitimate runners through line's waiting room: real
// browsers that keep their cookies and send Accept-Language, each from their
// own connection, who apply like the crowd once admitted.
func runLegitQueue(ctx context.Context, s *sim, g *generator, line SubQueue, n, conc int) *Legit {
	t0 := time.Now()
	pop := g.queueRunners(n, line)
	qs := make([]queuer, len(pop.People))
	for i, p := range pop.People {
		d := pop.Devices[p.Device]
		qs[i] = queuer{a: s.newAgent(d), ip: p.IP, id: p.Identity, sig: signalsOf(d, p.FillMS), idemKey: p.IdemKey}
	}
	rs := waitingRoom(ctx, s, conc, qs)
	l := &Legit{Codes: map[string]int{}, Households: len(pop.Households), AbroadPeople: pop.AbroadPeople,
		QueueTally: QueueTally{Line: line.Key}}
	for i, r := range rs {
		situation := "waiting_room"
		if pop.People[i].Abroad {
			situation = "waiting_room+abroad"
		}
		l.add(r.o, situation)
	}
	l.AdmissionWait = waitStats(admissionWaits(rs))
	l.DurationMS = time.Since(t0).Milliseconds()
	return l
}
