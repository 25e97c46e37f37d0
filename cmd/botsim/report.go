package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets the report checks (issue text).
const (
	targetKeptOutPct     = 99.0 // attack entries kept out of the draw
	targetLegitFlaggedPc = 0.5  // legitimate runners flagged, at most
)

// Row is one scenario's tally. For staff_password_spraying, Received counts
// successful logins.
type Row struct {
	Scenario    string         `json:"scenario"`
	Description string         `json:"description"`
	Available   bool           `json:"available"`
	Note        string         `json:"note,omitempty"`
	Attempts    int            `json:"attempts"`
	Received    int            `json:"reached_draw"`
	Flagged     int            `json:"flagged"`
	Rejected    int            `json:"rejected"`
	Blocked     int            `json:"blocked"`
	Errors      int            `json:"errors"`
	Breaches    int            `json:"breaches"` // defence-specific failures (see Note); 0 is the goal
	Codes       map[string]int `json:"codes"`
	KeptOutPct  float64        `json:"kept_out_pct"`
	MeetsTarget bool           `json:"meets_target"`
	DurationMS  int64          `json:"duration_ms"`
	// Changed counts entries whose status changed between the apply answer
	// and the settled re-read ("received->in_review": flagged by clustering).
	Changed map[string]int `json:"changed_after_apply,omitempty"`
	QueueTally
	Created []*CreatedEntry `json:"-"`
}

// QueueTally is what a waiting-room tally adds: the line joined, how long
// admission took, and the entries' settled statuses (offered and waitlisted
// both count as reaching the draw, but only an offer holds a slot).
type QueueTally struct {
	Line          string         `json:"waiting_room,omitempty"` // the ordered sub-queue joined; empty for lottery rows
	AdmissionWait *WaitStats     `json:"admission_wait,omitempty"`
	Statuses      map[string]int `json:"settled_statuses,omitempty"`
}

// settled counts one entry's status as re-read after the settle wait.
func (q *QueueTally) settled(status string) {
	if q.Statuses == nil {
		q.Statuses = map[string]int{}
	}
	q.Statuses[status]++
}

// tally is a row or crowd whose created entries settle re-reads.
type tally interface {
	recount(e *CreatedEntry, k Kind)
	settled(status string)
}

// WaitStats summarizes how long admitted attempts waited in line, from the
// join's answer to the poll that carried the admission token.
type WaitStats struct {
	Admitted int   `json:"admitted"`
	P50MS    int64 `json:"p50_ms"`
	P90MS    int64 `json:"p90_ms"`
	MaxMS    int64 `json:"max_ms"`
}

// waitStats summarizes waits (nearest-rank percentiles); nil for none.
func waitStats(waits []time.Duration) *WaitStats {
	if len(waits) == 0 {
		return nil
	}
	w := slices.Clone(waits)
	slices.Sort(w)
	rank := func(p int) int64 { return w[(p*len(w)+99)/100-1].Milliseconds() }
	return &WaitStats{Admitted: len(w), P50MS: rank(50), P90MS: rank(90), MaxMS: w[len(w)-1].Milliseconds()}
}

func (w *WaitStats) String() string {
	sec := func(ms int64) string {
		return (time.Duration(ms) * time.Millisecond).Round(100 * time.Millisecond).String()
	}
	return fmt.Sprintf("%d admitted after p50 %s, p90 %s, max %s", w.Admitted, sec(w.P50MS), sec(w.P90MS), sec(w.MaxMS))
}

// CreatedEntry is an entry a 201 created and the kind it is counted as.
type CreatedEntry struct {
	ID, Token string
	Kind      Kind
	Situation string // legitimate runners: alone, shared_ip, shared_ip+shared_device
}

func kindName(k Kind) string {
	switch k {
	case KindReceived:
		return "received"
	case KindFlagged:
		return "in_review"
	case KindRejected:
		return "rejected"
	case KindBlocked:
		return "blocked"
	}
	return "error"
}

func newRow(name, desc string) *Row {
	return &Row{Scenario: name, Description: desc, Available: true, Codes: map[string]int{}}
}

// add counts one outcome.
func (r *Row) add(o Outcome) {
	r.Attempts++
	r.bump(o.Kind, 1)
	if o.Code != "" {
		r.Codes[o.Code]++
	}
	if o.EntryID != "" {
		r.Created = append(r.Created, &CreatedEntry{ID: o.EntryID, Token: o.Token, Kind: o.Kind})
	}
}

func (r *Row) bump(k Kind, d int) {
	*kindCount(k, &r.Received, &r.Flagged, &r.Rejected, &r.Blocked, &r.Errors) += d
}

// recount moves a created entry to its settled kind.
func (r *Row) recount(e *CreatedEntry, k Kind) { recount(e, k, r.bump, &r.Changed) }

// kindCount picks the counter of kind k among a tally's five (Row and Legit
// name them alike but serialize "received" differently).
func kindCount(k Kind, received, flagged, rejected, blocked, errors *int) *int {
	switch k {
	case KindReceived:
		return received
	case KindFlagged:
		return flagged
	case KindRejected:
		return rejected
	case KindBlocked:
		return blocked
	}
	return errors
}

// recount moves a created entry to its settled kind in a tally and notes
// the change ("received->in_review": flagged after the apply answered).
func recount(e *CreatedEntry, k Kind, bump func(Kind, int), changed *map[string]int) {
	if k == e.Kind {
		return
	}
	bump(e.Kind, -1)
	bump(k, 1)
	if *changed == nil {
		*changed = map[string]int{}
	}
	(*changed)[kindName(e.Kind)+"->"+kindName(k)]++
	e.Kind = k
}

// keptOut is the share of decided attempts (those that did not end in an
// error) that did not reach the draw. Flagged entries count as kept out:
// reviewers are assumed to reject them.
func keptOut(attempts, received, errors int) float64 {
	decided := attempts - errors
	if decided <= 0 {
		return 0
	}
	return 100 * float64(decided-received) / float64(decided)
}

// finish computes the derived fields.
func (r *Row) finish() {
	r.KeptOutPct = keptOut(r.Attempts, r.Received, r.Errors)
	r.MeetsTarget = r.Available && r.Attempts > r.Errors && r.KeptOutPct >= targetKeptOutPct && r.Breaches == 0
}

// Legit is the legitimate crowd's tally.
type Legit struct {
	Total              int            `json:"total"`
	Received           int            `json:"received"`
	Flagged            int            `json:"flagged"`
	Rejected           int            `json:"rejected"`
	Blocked            int            `json:"blocked"`
	Errors             int            `json:"errors"`
	Codes              map[string]int `json:"codes"`
	FlaggedPct         float64        `json:"flagged_pct"`
	BlockedPct         float64        `json:"blocked_pct"`
	SharedIPPeople     int            `json:"shared_ip_people"`
	SharedDevicePeople int            `json:"shared_device_people"`
	SharedPhonePeople  int            `json:"parent_phone_children"`
	AbroadPeople       int            `json:"abroad"`
	Households         int            `json:"households"`
	FlaggedTargetMet   bool           `json:"flagged_target_met"`
	NoRejectsMet       bool           `json:"no_rejects_met"`
	DurationMS         int64          `json:"duration_ms"`
	// Harmed lists the flagged, rejected and blocked runners' situations
	// (shared IP, shared device, outcome), never their personal data.
	Harmed  map[string]int `json:"harmed,omitempty"`
	Changed map[string]int `json:"changed_after_apply,omitempty"`
	QueueTally
	Created []*CreatedEntry `json:"-"`
}

// add counts one runner's outcome; situation says whether they share an IP
// or a device.
func (l *Legit) add(o Outcome, situation string) {
	l.Total++
	l.bump(o.Kind, 1)
	if o.Code != "" {
		l.Codes[o.Code]++
	}
	if o.EntryID != "" {
		l.Created = append(l.Created, &CreatedEntry{ID: o.EntryID, Token: o.Token, Kind: o.Kind, Situation: situation})
	} else if o.Kind != KindReceived {
		if l.Harmed == nil {
			l.Harmed = map[string]int{}
		}
		l.Harmed[situation+"/"+o.Code]++
	}
}

func (l *Legit) bump(k Kind, d int) {
	*kindCount(k, &l.Received, &l.Flagged, &l.Rejected, &l.Blocked, &l.Errors) += d
}

func (l *Legit) recount(e *CreatedEntry, k Kind) { recount(e, k, l.bump, &l.Changed) }

func (l *Legit) finish() {
	for _, e := range l.Created {
		if e.Kind != KindReceived {
			if l.Harmed == nil {
				l.Harmed = map[string]int{}
			}
			l.Harmed[e.Situation+"/"+kindName(e.Kind)]++
		}
	}
	l.rates()
}

// rates computes the shares and the target checks from the counts.
func (l *Legit) rates() {
	if l.Total > 0 {
		l.FlaggedPct = 100 * float64(l.Flagged) / float64(l.Total)
		l.BlockedPct = 100 * float64(l.Blocked) / float64(l.Total)
	}
	l.FlaggedTargetMet = l.Total > 0 && l.FlaggedPct <= targetLegitFlaggedPc
	l.NoRejectsMet = l.Total > 0 && l.Rejected == 0
}

// combineLegit adds two finished tallies (the lottery crowd and the
// waiting room) into one, which the targets are checked on as a whole.
func combineLegit(crowd, queue *Legit) *Legit {
	all := *crowd
	all.Codes, all.Harmed, all.Changed, all.Created, all.QueueTally = map[string]int{}, nil, nil, nil, QueueTally{}
	all.Total += queue.Total
	all.Received += queue.Received
	all.Flagged += queue.Flagged
	all.Rejected += queue.Rejected
	all.Blocked += queue.Blocked
	all.Errors += queue.Errors
	all.DurationMS += queue.DurationMS
	for _, l := range []*Legit{crowd, queue} {
		all.Codes = addCounts(all.Codes, l.Codes)
		all.Harmed = addCounts(all.Harmed, l.Harmed)
		all.Changed = addCounts(all.Changed, l.Changed)
	}
	all.rates()
	return &all
}

// addCounts adds src into dst, allocating dst only when there is something to add.
func addCounts(dst, src map[string]int) map[string]int {
	for k, v := range src {
		if dst == nil {
			dst = map[string]int{}
		}
		dst[k] += v
	}
	return dst
}

// Report is the whole run.
type Report struct {
	Base     string   `json:"base"`
	Event    string   `json:"event"`
	Seed     uint64   `json:"seed"`
	Run      string   `json:"run"`
	Command  string   `json:"command"`
	Warnings []string `json:"warnings,omitempty"`
	// SettleMS is how long botsim waited after the last apply before
	// re-reading every created entry's status (0: statuses as answered).
	SettleMS    int64     `json:"settle_ms"`
	StartedAt   time.Time `json:"started_at"`
	DurationMS  int64     `json:"duration_ms"`
	Requests    int64     `json:"requests"`
	Legit       *Legit    `json:"legit,omitempty"`
	LegitQueue  *Legit    `json:"legit_queue,omitempty"` // runners through the waiting room
	LegitAll    *Legit    `json:"legit_all,omitempty"`   // both, when both ran
	Attacks     []*Row    `json:"attacks"`
	AttackTotal *Row      `json:"attack_total,omitempty"`
	// Farms are the farm scenarios (scenarios_farms.go), reported apart.
	Farms     []*Row `json:"farms,omitempty"`
	FarmTotal *Row   `json:"farm_total,omitempty"`
}

// total sums the available attack rows.
func total(rows []*Row) *Row {
	t := newRow("all attacks", "")
	for _, r := range rows {
		if !r.Available {
			continue
		}
		t.Attempts += r.Attempts
		t.Received += r.Received
		t.Flagged += r.Flagged
		t.Rejected += r.Rejected
		t.Blocked += r.Blocked
		t.Errors += r.Errors
		t.Breaches += r.Breaches
		t.DurationMS += r.DurationMS
		t.Changed = addCounts(t.Changed, r.Changed)
	}
	t.KeptOutPct = keptOut(t.Attempts, t.Received, t.Errors)
	t.MeetsTarget = t.Attempts > t.Errors && t.KeptOutPct >= targetKeptOutPct && t.Breaches == 0
	return t
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// codes formats a histogram, largest first.
func codes(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// writeText prints the tables.
func (rep *Report) writeText(w io.Writer) {
	fmt.Fprintf(w, "botsim %s  event=%s  seed=%d  run=%s  requests=%d  took %s\n\n", rep.Base, rep.Event, rep.Seed, rep.Run,
		rep.Requests, (time.Duration(rep.DurationMS) * time.Millisecond).Round(100*time.Millisecond))
	if rep.SettleMS > 0 {
		fmt.Fprintf(w, "statuses re-read %s after the last apply (clustering and other checks run after the answer)\n",
			time.Duration(rep.SettleMS)*time.Millisecond)
	} else {
		fmt.Fprintln(w, "statuses as answered by apply (-settle 0): checks that run later are not reflected")
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", warn)
	}
	if len(rep.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	writeAttackRows(w, fmt.Sprintf("Attack scenarios (kept out = not received; flagged entries are assumed rejected by reviewers; target >= %.0f%%)", targetKeptOutPct),
		rep.Attacks, rep.AttackTotal)
	writeAttackRows(w, "Farm scenarios, reported apart: every per-entry signal varied, caught (if at all) by what the entries share", rep.Farms, rep.FarmTotal)
	rep.writeLegit(w)
}

// writeAttackRows prints one table of attack rows with its total and the
// codes each scenario got.
func writeAttackRows(w io.Writer, title string, rows []*Row, tot *Row) {
	if len(rows) > 0 {
		fmt.Fprintln(w, title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		width := len("all attacks")
		for _, r := range rows {
			width = max(width, len(r.Scenario))
		}
		fmt.Fprintf(tw, "%-*s\tattempts\treached draw\tflagged\trejected\tblocked\terrors\tbreaches\tkept out %%\ttarget\t\n", width, "scenario")
		line := func(r *Row) {
			if !r.Available {
				fmt.Fprintf(tw, "%-*s\t-\t-\t-\t-\t-\t-\t-\tn/a\tnot available\t\n", width, r.Scenario)
				return
			}
			fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%s\t\n", width, r.Scenario, r.Attempts, r.Received, r.Flagged,
				r.Rejected, r.Blocked, r.Errors, r.Breaches, r.KeptOutPct, yesNo(r.MeetsTarget))
		}
		for _, r := range rows {
			line(r)
		}
		if tot != nil {
			line(tot)
		}
		tw.Flush()
		fmt.Fprintln(w)
		for _, r := range rows {
			fmt.Fprintf(w, "  %-*s  %s\n", width, r.Scenario, codes(r.Codes))
			if len(r.Changed) > 0 {
				fmt.Fprintf(w, "  %-*s  changed after apply: %s\n", width, "", codes(r.Changed))
			}
			r.QueueTally.writeText(w, fmt.Sprintf("  %-*s  ", width, ""))
			if r.Note != "" {
				fmt.Fprintf(w, "  %-*s  note: %s\n", width, "", r.Note)
			}
		}
		fmt.Fprintln(w)
	}
}

// writeText prints a waiting-room tally's extra lines, each after indent.
func (q *QueueTally) writeText(w io.Writer, indent string) {
	if q.Line == "" {
		return
	}
	if q.AdmissionWait != nil {
		fmt.Fprintf(w, "%swaiting room %s: %s\n", indent, q.Line, q.AdmissionWait)
	} else {
		fmt.Fprintf(w, "%swaiting room %s: nobody admitted\n", indent, q.Line)
	}
	if len(q.Statuses) > 0 {
		fmt.Fprintf(w, "%ssettled entry statuses: %s\n", indent, codes(q.Statuses))
	}
}

// writeLegit prints the legitimate runners' table: the lottery crowd, the
// waiting room and, when both ran, the two together.
func (rep *Report) writeLegit(w io.Writer) {
	type named struct {
		name string
		l    *Legit
	}
	var rows []named
	for _, r := range []named{{"lottery crowd", rep.Legit}, {"waiting room", rep.LegitQueue}, {"all", rep.LegitAll}} {
		if r.l != nil {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	var about []string
	if l := rep.Legit; l != nil {
		about = append(about, fmt.Sprintf("lottery crowd: %d households; %d people behind a shared household IP, %d on a shared device, %d children with a parent's phone, %d abroad",
			l.Households, l.SharedIPPeople, l.SharedDevicePeople, l.SharedPhonePeople, l.AbroadPeople))
	}
	if l := rep.LegitQueue; l != nil {
		about = append(about, fmt.Sprintf("waiting room: %d runners join %s, wait for admission, then apply; received = offered or waitlisted", l.Total, l.Line))
	}
	fmt.Fprintf(w, "Legitimate runners (%s)\n", strings.Join(about, "; "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-13s\ttotal\treceived\tflagged\trejected\tblocked\terrors\tflagged %%\tblocked %%\tflagged <= 0.5%%\tnone rejected\t\n", "runners")
	for _, r := range rows {
		l := r.l
		fmt.Fprintf(tw, "%-13s\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%s\t%s\t\n", r.name, l.Total, l.Received, l.Flagged, l.Rejected,
			l.Blocked, l.Errors, l.FlaggedPct, l.BlockedPct, yesNo(l.FlaggedTargetMet), yesNo(l.NoRejectsMet))
	}
	tw.Flush()
	for _, r := range rows {
		if r.l == rep.LegitAll {
			continue
		}
		l := r.l
		fmt.Fprintf(w, "  %s codes: %s\n", r.name, codes(l.Codes))
		if len(l.Changed) > 0 {
			fmt.Fprintf(w, "  %s changed after apply: %s\n", r.name, codes(l.Changed))
		}
		if len(l.Harmed) > 0 {
			fmt.Fprintf(w, "  %s harmed runners by situation: %s\n", r.name, codes(l.Harmed))
		}
		l.QueueTally.writeText(w, "  ")
	}
}
