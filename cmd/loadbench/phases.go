package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The timed phases of the Go client. Each runs every prepared person once
// on conns workers and returns what it recorded.

// otpPhase asks for one code per person (POST /otp), timed. People who were
// not answered 202 are asked again afterwards, untimed, so the applies start
// with everyone's code; the retries are counted apart.
func otpPhase(ctx context.Context, c *client, people []applicant, conns int) (summary, int, error) {
	rec := newRecorder(len(people))
	ok := make([]bool, len(people))
	path := "/api/v1/events/" + benchSlug + "/otp"
	t0 := time.Now()
	pool(ctx, len(people), conns, func(ctx context.Context, i int) {
		p := &people[i]
		a, err := c.timed(ctx, rec, p, http.MethodPost, path, map[string]string{"email": p.Email})
		ok[i] = err == nil && a.status == http.StatusAccepted
	})
	s := rec.summary(time.Since(t0))
	if err := ctx.Err(); err != nil {
		return s, 0, err
	}
	retried := 0
	for i := range people {
		if ok[i] {
			continue
		}
		retried++
		var last string
		for try := range prepTries {
			time.Sleep(time.Duration(try+1) * 250 * time.Millisecond)
			a, err := c.do(ctx, &people[i], http.MethodPost, path, map[string]string{"email": people[i].Email})
			if err == nil && a.status == http.StatusAccepted {
				ok[i] = true
				break
			}
			last = fmt.Sprint(a.outcome(), err)
		}
		if !ok[i] {
			return s, retried, fmt.Errorf("code request for person %d failed %d times (last: %s)", i, prepTries, last)
		}
	}
	return s, retried, nil
}

// applyBody is the form's JSON (API.md).
type applyBody struct {
	Course    string   `json:"course"`
	PaceGroup string   `json:"pace_group"`
	Name      string   `json:"name"`
	Email     string   `json:"email"`
	Phone     string   `json:"phone"`
	BirthDate string   `json:"birth_date"`
	OTP       string   `json:"otp"`
	Altcha    string   `json:"altcha"`
	Signals   *signals `json:"signals,omitempty"`
	Website   string   `json:"website"`
}

// ack is an acknowledged application: the server answered 201 with it.
type ack struct {
	EntryID string `json:"entry_id"`
	Token   string `json:"receipt_token"`
	Status  string `json:"status"`
}

// applyPhase sends every person's application once, timed, and returns the
// acknowledgements (201s) in person order (empty where refused).
func applyPhase(ctx context.Context, c *client, people []applicant, conns int) (summary, []ack) {
	rec := newRecorder(len(people))
	acks := make([]ack, len(people))
	path := "/api/v1/events/" + benchSlug + "/entries"
	t0 := time.Now()
	pool(ctx, len(people), conns, func(ctx context.Context, i int) {
		p := &people[i]
		sig := p.Sig
		body := applyBody{Course: "full", PaceGroup: p.PaceGroup, Name: p.Name, Email: p.Email, Phone: p.Phone,
			BirthDate: p.Birth, OTP: p.Code, Altcha: p.Altcha, Signals: &sig}
		// The Idempotency-Key a careful client sends, so a retry cannot
		// apply twice: the server records it in the apply's transaction.
		a, err := c.timed(ctx, rec, p, http.MethodPost, path, body, "Idempotency-Key", p.IdemKey)
		if err == nil && a.status == http.StatusCreated {
			_ = json.Unmarshal(a.body, &acks[i])
		}
	})
	return rec.summary(time.Since(t0)), acks
}

// readBack looks up every acknowledged entry in PostgreSQL and returns the
// ids that are not there: an acknowledged application must survive.
func readBack(ctx context.Context, dsn string, acks []ack) (acked int, missing []string, err error) {
	var ids []string
	for _, a := range acks {
		if a.EntryID != "" {
			ids = append(ids, a.EntryID)
		}
	}
	conn, err := connect(ctx, dsn)
	if err != nil {
		return len(ids), nil, fmt.Errorf("read back: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id::text FROM entries WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return len(ids), nil, fmt.Errorf("read back: %w", err)
	}
	found := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return len(ids), nil, fmt.Errorf("read back: %w", err)
		}
		found[id] = true
	}
	if err := rows.Err(); err != nil {
		return len(ids), nil, fmt.Errorf("read back: %w", err)
	}
	return len(ids), missingIDs(ids, found), nil
}

// missingIDs lists the ids not in found, in order.
func missingIDs(ids []string, found map[string]bool) []string {
	var out []string
	for _, id := range ids {
		if !found[id] {
			out = append(out, id)
		}
	}
	return out
}

// joinPhase puts every person in the ordered sub-queue's waiting room
// (POST /queue with a solved challenge), timed; it returns the tickets.
func joinPhase(ctx context.Context, c *client, people []applicant, conns int) (summary, []string) {
	rec := newRecorder(len(people))
	tickets := make([]string, len(people))
	path := "/api/v1/events/" + benchSlug + "/queue"
	t0 := time.Now()
	pool(ctx, len(people), conns, func(ctx context.Context, i int) {
		p := &people[i]
		body := map[string]string{"course": orderedCours, "pace_group": orderedCode, "email": p.Email, "altcha": p.Altcha}
		a, err := c.timed(ctx, rec, p, http.MethodPost, path, body)
		if err == nil && a.status == http.StatusCreated {
			var j struct {
				Ticket string `json:"ticket"`
			}
			if json.Unmarshal(a.body, &j) == nil {
				tickets[i] = j.Ticket
			}
		}
	})
	return rec.summary(time.Since(t0)), tickets
}

// pgTx is the bench database's committed plus rolled-back transactions as
// the statistics collector last saw them.
func pgTx(ctx context.Context, dsn, db string) (int64, error) {
	conn, err := connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1`, db).Scan(&n)
	return n, err
}
