package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// report is the run: its rows, references, outcome counts per Go client
// phase and what the markdown needs (commit, date, load, commands).
type report struct {
	opts                  options
	started, ended        time.Time
	loadBefore, loadAfter string
	cpus                  int
	rows                  []row
	refs                  refs
	codes                 map[string]map[string]int
	acked                 int
	missing               []string
	profiles              []string
	profileTop            string // go tool pprof -top of the apply profile
}

func (r *report) add(x row) {
	r.rows = append(r.rows, x)
}

func (r *report) finish() {
	r.ended = time.Now()
	r.loadAfter = loadAvg()
}

// print writes the table and the per-row notes.
func (r *report) print(w io.Writer) {
	fmt.Fprintln(w)
	writeText(w, r.rows, r.refs)
	fmt.Fprintln(w)
	for _, x := range r.rows {
		if x.Note != "" {
			fmt.Fprintf(w, "- %s: %s\n", x.Path, x.Note)
		}
	}
	if len(r.missing) > 0 {
		fmt.Fprintf(w, "\nMISSING: %d of %d acknowledged entries are not in PostgreSQL\n", len(r.missing), r.acked)
	}
	fmt.Fprintf(w, "\nload average before %s, after %s; %d CPUs\n", r.loadBefore, r.loadAfter, r.cpus)
}

// markdown is the section for docs/BENCHMARKS.md.
func (r *report) markdown(w io.Writer) {
	fmt.Fprintf(w, "### `make bench` run, %s\n\n", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "Commit `%s`; %d CPUs; load average before %s, after %s; %s in all.\n\n",
		gitCommit(), r.cpus, r.loadBefore, r.loadAfter, r.ended.Sub(r.started).Round(time.Second))
	writeMarkdown(w, r.rows, r.refs)
	fmt.Fprintln(w)
	if len(r.missing) > 0 {
		fmt.Fprintf(w, "**%d of %d acknowledged entries were missing from PostgreSQL.**\n\n", len(r.missing), r.acked)
	}
	fmt.Fprintf(w, "Command: `%s`. Per row:\n\n", r.opts.command)
	for _, x := range r.rows {
		fmt.Fprintf(w, "- %s: `%s`", x.Path, x.Command)
		if x.Note != "" {
			fmt.Fprintf(w, "; %s", x.Note)
		}
		fmt.Fprintln(w)
	}
	for _, p := range r.profiles {
		fmt.Fprintf(w, "- CPU profile of the server during the applies: `%s`\n", p)
	}
	if r.profileTop != "" {
		fmt.Fprintf(w, "\n<details><summary>CPU profile of the server during the applies (<code>go tool pprof -top -cum</code>)</summary>\n\n```\n%s\n```\n</details>\n", r.profileTop)
	}
}

func (r *report) writeMarkdownFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-md: %w", err)
	}
	r.markdown(f)
	if err := f.Close(); err != nil {
		return fmt.Errorf("-md: %w", err)
	}
	return nil
}

// loadAvg is /proc/loadavg's three averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// gitCommit is the checkout's short commit, "+dirty" with local changes.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += "+dirty"
	}
	return c
}
