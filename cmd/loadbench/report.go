package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// ref names what a row's throughput is compared with.
type ref int

const (
	refNone     ref = iota
	refBaseline     // the bare Gin handler measured by wrk in the same run
	refInsert       // pgbench's one-row insert transaction in the same run
)

// target is what a row must reach (issue 16). The zero target is none.
type target struct {
	MinRatio float64       // throughput ≥ MinRatio × the reference
	MaxP99   time.Duration // p99 below this
	// PGFree: the phase may cost PostgreSQL at most one transaction per
	// 100 requests (the worker's own periodic tasks run meanwhile).
	PGFree bool
}

var (
	targetRead  = target{MinRatio: 0.60}
	targetApply = target{MinRatio: 0.80, MaxP99: 100 * time.Millisecond}
	targetPoll  = target{PGFree: true}
)

// row is one line of the report.
type row struct {
	Path     string  // what was measured, with its route
	Unit     string  // "req/s" or "tx/s"
	Rate     float64 // throughput
	P50, P99 time.Duration
	Ref      ref
	Target   target
	// Requests and Errors: answers counted, and those that were not 2xx or
	// failed on the socket (a read phase with errors measured errors).
	Requests, Errors int
	// PGTx is the PostgreSQL transactions the bench database committed or
	// rolled back during the phase (-1: not measured).
	PGTx int64
	// Command reproduces the measurement (wrk, pgbench) or names the Go
	// client phase; Note has the counts.
	Command, Note string
}

// refs are the reference rates of the run (0 when not measured).
type refs struct{ Baseline, Insert float64 }

func (r refs) of(k ref) float64 {
	switch k {
	case refBaseline:
		return r.Baseline
	case refInsert:
		return r.Insert
	}
	return 0
}

// ratio is the row's throughput over its reference; NaN without one.
func (r row) ratio(rs refs) float64 {
	base := rs.of(r.Ref)
	if r.Ref == refNone || base <= 0 {
		return math.NaN()
	}
	return r.Rate / base
}

// verdict says whether the row meets its target: "yes", "no (...)" with
// the reasons, or "—" when it has none (or its reference was not
// measured).
func (r row) verdict(rs refs) string {
	t := r.Target
	if t == (target{}) {
		return "—"
	}
	var why []string
	if t.MinRatio > 0 {
		q := r.ratio(rs)
		if math.IsNaN(q) {
			return "— (no reference)"
		}
		if q < t.MinRatio {
			why = append(why, fmt.Sprintf("%.2f× < %.2f×", q, t.MinRatio))
		}
	}
	if t.MaxP99 > 0 && r.P99 >= t.MaxP99 {
		why = append(why, "p99 "+fmtDur(r.P99))
	}
	if t.PGFree {
		switch {
		case r.PGTx < 0:
			return "— (not measured)"
		case r.Requests == 0 || r.PGTx*100 > int64(r.Requests):
			why = append(why, fmt.Sprintf("%d PostgreSQL tx for %d polls", r.PGTx, r.Requests))
		}
	}
	if r.Errors > 0 {
		why = append(why, fmt.Sprintf("%d errors", r.Errors))
	}
	if len(why) > 0 {
		return "no (" + strings.Join(why, ", ") + ")"
	}
	return "yes"
}

// targetText describes a target for the table.
func (t target) text() string {
	var parts []string
	if t.MinRatio > 0 {
		parts = append(parts, fmt.Sprintf("≥ %.2f×", t.MinRatio))
	}
	if t.MaxP99 > 0 {
		parts = append(parts, "p99 < "+fmtDur(t.MaxP99))
	}
	if t.PGFree {
		parts = append(parts, "PostgreSQL-free")
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

func (k ref) text() string {
	switch k {
	case refBaseline:
		return "baseline"
	case refInsert:
		return "pgbench insert"
	}
	return ""
}

// cells are the table's columns of a row, formatted.
func (r row) cells(rs refs) []string {
	p50, p99 := "—", "—"
	if r.P50 > 0 {
		p50 = fmtDur(r.P50)
	}
	if r.P99 > 0 {
		p99 = fmtDur(r.P99)
	}
	ratio := "—"
	if q := r.ratio(rs); !math.IsNaN(q) {
		ratio = fmt.Sprintf("%.2f× %s", q, r.Ref.text())
	}
	return []string{r.Path, fmtRate(r.Rate, r.Unit), p50, p99, ratio, r.Target.text(), r.verdict(rs)}
}

var header = []string{"path", "throughput", "p50", "p99", "ratio", "target", "met?"}

// writeText prints the rows as an aligned plain-text table.
func writeText(w io.Writer, rows []row, rs refs) {
	all := [][]string{header}
	for _, r := range rows {
		all = append(all, r.cells(rs))
	}
	width := make([]int, len(header))
	for _, c := range all {
		for i, s := range c {
			width[i] = max(width[i], len([]rune(s)))
		}
	}
	for n, c := range all {
		var b strings.Builder
		for i, s := range c {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(s)
			if i < len(c)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(s))))
			}
		}
		fmt.Fprintln(w, b.String())
		if n == 0 {
			var sep []string
			for _, wd := range width {
				sep = append(sep, strings.Repeat("-", wd))
			}
			fmt.Fprintln(w, strings.Join(sep, "-|-"))
		}
	}
}

// writeMarkdown prints the rows as a GitHub table; pipes in cells are
// escaped.
func writeMarkdown(w io.Writer, rows []row, rs refs) {
	line := func(c []string) {
		esc := make([]string, len(c))
		for i, s := range c {
			esc[i] = strings.ReplaceAll(s, "|", `\|`)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(esc, " | "))
	}
	line(header)
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
	}
	line(seps)
	for _, r := range rows {
		line(r.cells(rs))
	}
}

// fmtRate renders a throughput with thousands separators: "20,200 req/s".
func fmtRate(v float64, unit string) string {
	if v <= 0 {
		return "—"
	}
	return thousands(int64(math.Round(v))) + " " + unit
}

// fmtDur renders a latency as wrk does, in the unit that keeps it readable:
// "850 µs", "1.23 ms", "165 ms", "1,231 ms".
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return thousands(int64(math.Round(float64(d)/float64(time.Millisecond)))) + " ms"
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
