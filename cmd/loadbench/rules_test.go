package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one sample is every quantile", ms(7), 0.99, 7 * time.Millisecond},
		{"median of odd count", ms(1, 2, 3), 0.5, 2 * time.Millisecond},
		{"median of even count is the lower middle (nearest rank)", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of 1..100", hundred, 0.99, 99 * time.Millisecond},
		{"p50 of 1..100", hundred, 0.50, 50 * time.Millisecond},
		{"p100 is the max", hundred, 1, 100 * time.Millisecond},
		{"p99 of two is the max", ms(1, 1000), 0.99, time.Second},
		{"q near zero is the min", ms(3, 4, 5), 0.0001, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.q); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.q, got, tt.want)
			}
		})
	}
}

func TestRecorderSummary(t *testing.T) {
	r := newRecorder(4)
	for i, o := range []string{"201", "201", "409 duplicate_entry", "transport"} {
		r.add(time.Duration(i+1)*time.Millisecond, o)
	}
	s := r.summary(2 * time.Second)
	if s.Requests != 4 || s.rate() != 2 || s.P50 != 2*time.Millisecond || s.P99 != 4*time.Millisecond {
		t.Errorf("summary = %+v (rate %v)", s, s.rate())
	}
	if got := s.non2xx(); got != 2 {
		t.Errorf("non2xx = %d, want 2", got)
	}
	if got, want := codesText(s.Codes), "201: 2, 409 duplicate_entry: 1, transport: 1"; got != want {
		t.Errorf("codesText = %q, want %q", got, want)
	}
}

func TestVerdict(t *testing.T) {
	rs := refs{Baseline: 40000, Insert: 7000}
	tests := []struct {
		name string
		r    row
		rs   refs
		want string
	}{
		{"no target", row{Rate: 100}, rs, "—"},
		{"read meets 0.60×", row{Rate: 24000, Ref: refBaseline, Target: targetRead}, rs, "yes"},
		{"read below", row{Rate: 6000, Ref: refBaseline, Target: targetRead}, rs, "no (0.15× < 0.60×)"},
		{"read meets but had errors", row{Rate: 30000, Ref: refBaseline, Target: targetRead, Errors: 3}, rs, "no (3 errors)"},
		{"no reference measured", row{Rate: 30000, Ref: refBaseline, Target: targetRead}, refs{}, "— (no reference)"},
		{"apply meets both", row{Rate: 6000, P99: 80 * time.Millisecond, Ref: refInsert, Target: targetApply}, rs, "yes"},
		{"apply fast but p99 too high", row{Rate: 6000, P99: 100 * time.Millisecond, Ref: refInsert, Target: targetApply}, rs, "no (p99 100 ms)"},
		{"apply misses both", row{Rate: 1080, P99: 1231 * time.Millisecond, Ref: refInsert, Target: targetApply}, rs,
			"no (0.15× < 0.80×, p99 1,231 ms)"},
		{"polls PostgreSQL-free", row{Rate: 30000, Requests: 300000, PGTx: 12, Ref: refBaseline, Target: targetPoll}, rs, "yes"},
		{"polls read PostgreSQL", row{Rate: 5000, Requests: 10000, PGTx: 8000, Ref: refBaseline, Target: targetPoll}, rs,
			"no (8000 PostgreSQL tx for 10000 polls)"},
		{"polls not measured", row{Requests: 10, PGTx: -1, Target: targetPoll}, rs, "— (not measured)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.verdict(tt.rs); got != tt.want {
				t.Errorf("verdict = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	rs := refs{Baseline: 40000, Insert: 8000}
	if got := (row{Rate: 20000, Ref: refBaseline}).ratio(rs); got != 0.5 {
		t.Errorf("ratio to baseline = %v", got)
	}
	if got := (row{Rate: 2000, Ref: refInsert}).ratio(rs); got != 0.25 {
		t.Errorf("ratio to insert = %v", got)
	}
	if got := (row{Rate: 2000}).ratio(rs); !math.IsNaN(got) {
		t.Errorf("ratio without reference = %v, want NaN", got)
	}
}

func TestFormatting(t *testing.T) {
	durs := []struct {
		d    time.Duration
		want string
	}{
		{850 * time.Microsecond, "850 µs"},
		{1234 * time.Microsecond, "1.23 ms"},
		{12340 * time.Microsecond, "12.3 ms"},
		{165 * time.Millisecond, "165 ms"},
		{1231 * time.Millisecond, "1,231 ms"},
	}
	for _, tt := range durs {
		if got := fmtDur(tt.d); got != tt.want {
			t.Errorf("fmtDur(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	rates := []struct {
		v    float64
		unit string
		want string
	}{
		{45400.4, "req/s", "45,400 req/s"},
		{999.5, "tx/s", "1,000 tx/s"},
		{0, "req/s", "—"},
		{1234567, "req/s", "1,234,567 req/s"},
	}
	for _, tt := range rates {
		if got := fmtRate(tt.v, tt.unit); got != tt.want {
			t.Errorf("fmtRate(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestTables(t *testing.T) {
	rows := []row{
		{Path: "baseline", Unit: "req/s", Rate: 40000, P50: 5 * time.Millisecond, P99: 20 * time.Millisecond},
		{Path: "event `GET /a|b`", Unit: "req/s", Rate: 30000, P50: 6 * time.Millisecond, P99: 30 * time.Millisecond, Ref: refBaseline, Target: targetRead},
	}
	rs := refs{Baseline: 40000}
	var md bytes.Buffer
	writeMarkdown(&md, rows, rs)
	want := "| path | throughput | p50 | p99 | ratio | target | met? |\n" +
		"| --- | --- | --- | --- | --- | --- | --- |\n" +
		"| baseline | 40,000 req/s | 5.00 ms | 20.0 ms | — | — | — |\n" +
		"| event `GET /a\\|b` | 30,000 req/s | 6.00 ms | 30.0 ms | 0.75× baseline | ≥ 0.60× | yes |\n"
	if diff := cmp.Diff(want, md.String()); diff != "" {
		t.Errorf("markdown (-want +got):\n%s", diff)
	}
	var txt bytes.Buffer
	writeText(&txt, rows, rs)
	lines := strings.Split(strings.TrimRight(txt.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("text table has %d lines:\n%s", len(lines), txt.String())
	}
	// Columns line up: every row has its separators at the same places.
	bar := func(s string) []int {
		var at []int
		for i, r := range []rune(s) {
			if r == '|' {
				at = append(at, i)
			}
		}
		return at
	}
	if !cmp.Equal(bar(lines[0]), bar(lines[2])) {
		t.Errorf("columns do not line up:\n%s", txt.String())
	}
}

func TestLuaScript(t *testing.T) {
	s := luaScript(wrkTarget{Name: "status", Paths: []string{`/api/v1/entries/1?token=a"b`, "/x"}, IPs: []string{"1.2.3.4"},
		Profiles: []map[string]string{{"User-Agent": "UA \\ 1", "Accept-Language": "ko-KR"}}})
	for _, want := range []string{
		`"/api/v1/entries/1?token=a\"b",`,
		`"1.2.3.4",`,
		`{["Accept-Language"]="ko-KR", ["User-Agent"]="UA \\ 1", },`,
		`h["X-Forwarded-For"] = ips[((i - 1) % #ips) + 1]`,
		`reqs[i] = wrk.format("GET", p, h)`,
		"function request()",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if got := luaQuote("a\nb\x00é"); got != `"a\010b\000\195\169"` {
		t.Errorf("luaQuote = %s", got)
	}
}

const wrkOut = `Running 10s test @ http://127.0.0.1:8080/api/v1/events/x
  2 threads and 256 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.23ms    2.10ms  40.00ms   80.00%
    Req/Sec    24.00k     2.00k   30.00k    70.00%
  Latency Distribution
     50%    4.90ms
     75%    6.10ms
     90%    7.50ms
     99%    1.23s
  480000 requests in 10.00s, 60.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 12
  Non-2xx or 3xx responses: 5
Requests/sec:  48000.12
Transfer/sec:      6.00MB
`

func TestParseWrk(t *testing.T) {
	got, err := parseWrk(wrkOut)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{Requests: 480000, Rate: 48000.12, P50: 4900 * time.Microsecond, P99: 1230 * time.Millisecond, Non2xx: 5, SocketErrors: 14}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(wrkResult{})); diff != "" {
		t.Errorf("parseWrk (-want +got):\n%s", diff)
	}
	micro := strings.Replace(strings.Replace(wrkOut, "4.90ms", "850.00us", 1), "     99%    1.23s", "     99%    2.00m", 1)
	got, err = parseWrk(micro)
	if err != nil || got.P50 != 850*time.Microsecond || got.P99 != 2*time.Minute {
		t.Errorf("units: %+v %v", got, err)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil {
		t.Error("parseWrk of a failed run: no error")
	}
	noLatency := strings.Replace(wrkOut, "     50%    4.90ms\n", "", 1)
	if _, err := parseWrk(noLatency); err == nil {
		t.Error("parseWrk without the distribution: no error")
	}
}

func TestParsePgbench(t *testing.T) {
	out := "transaction type: /tmp/x.sql\nnumber of clients: 64\nlatency average = 8.660 ms\ninitial connection time = 40.1 ms\n" +
		"tps = 7388.421 (without initial connection time)\n"
	tps, avg, err := parsePgbench(out)
	if err != nil || tps != 7388.421 || avg != 8660*time.Microsecond {
		t.Errorf("parsePgbench = %v %v %v", tps, avg, err)
	}
	if _, _, err := parsePgbench("pgbench: error: connection refused"); err == nil {
		t.Error("no error without tps")
	}
}

func TestParseOnly(t *testing.T) {
	tests := []struct {
		spec    string
		want    []string
		wantErr bool
	}{
		{"all", allPhases, false},
		{"", allPhases, false},
		{"baseline", []string{"baseline"}, false},
		{"status", []string{"otp", "apply", "status"}, false},
		{"results,pgbench", []string{"pgbench", "otp", "apply", "results"}, false},
		{"poll", []string{"join", "poll"}, false},
		{"baseline,nope", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parseOnly(tt.spec)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr {
				return
			}
			var on []string
			for _, p := range allPhases {
				if got[p] {
					on = append(on, p)
				}
			}
			if diff := cmp.Diff(tt.want, on); diff != "" {
				t.Errorf("phases (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAttributedTx(t *testing.T) {
	tests := []struct {
		name         string
		idle, during int64
		idleW, busyW time.Duration
		want         int64
	}{
		{"background only", 10, 21, 10 * time.Second, 21 * time.Second, 0},
		{"polls read PostgreSQL", 2, 8407, 2 * time.Second, 13 * time.Second, 8394},
		{"never negative", 50, 10, 10 * time.Second, 10 * time.Second, 0},
		{"no idle window", 0, 7, 0, time.Second, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := attributedTx(tt.idle, tt.during, tt.idleW, tt.busyW); got != tt.want {
				t.Errorf("attributedTx = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCodeFromBody(t *testing.T) {
	tests := []struct {
		body, want string
		ok         bool
	}{
		{"Your Startline code is 123456. It expires in 10 minutes.", "123456", true},
		{"Startline 인증 코드는 654321 입니다.", "654321", true},
		{"no code here 12345", "", false},
	}
	for _, tt := range tests {
		got, ok := codeFromBody(tt.body)
		if got != tt.want || ok != tt.ok {
			t.Errorf("codeFromBody(%q) = %q, %v", tt.body, got, ok)
		}
	}
}

func TestMissingIDs(t *testing.T) {
	got := missingIDs([]string{"a", "b", "c"}, map[string]bool{"a": true, "c": true})
	if diff := cmp.Diff([]string{"b"}, got); diff != "" {
		t.Errorf("missingIDs (-want +got):\n%s", diff)
	}
	if got := missingIDs([]string{"a"}, map[string]bool{"a": true}); got != nil {
		t.Errorf("none missing: %v", got)
	}
}

func TestCrowdIsDistinctAndValid(t *testing.T) {
	notOneNine := func(ip string) bool { return !strings.HasSuffix(ip, ".9") }
	people := crowd(300, 1, lotteryGroups, notOneNine)
	seen := map[string]bool{}
	for _, p := range people {
		for _, v := range []string{p.Email, p.Phone, p.IP} {
			if seen[v] {
				t.Fatalf("reused %q", v)
			}
			seen[v] = true
		}
		if !notOneNine(p.IP) {
			t.Fatalf("%s is not residential by the classifier", p.IP)
		}
		if p.Sig.Fingerprint == "" || p.Sig.TimeZone != "Asia/Seoul" || p.IdemKey == "" {
			t.Fatalf("incomplete person %+v", p)
		}
	}
	again := crowd(300, 1, lotteryGroups, notOneNine)
	if diff := cmp.Diff(people, again); diff != "" {
		t.Errorf("the same seed gave another crowd:\n%s", diff)
	}
}

func TestMixedPaths(t *testing.T) {
	got := mixedPaths([]string{"/s1", "/s2", "/s3", "/s4", "/s5", "/s6"})
	want := []string{"/s1", "/s2", "/events/bench-rush/results", "/s3", "/s4", "/api/v1/events/bench-rush/draws",
		"/s5", "/s6", "/api/v1/events/bench-rush"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mixedPaths (-want +got):\n%s", diff)
	}
}

func TestStaleBenchDBs(t *testing.T) {
	alive := func(pid int) bool { return pid == 42 }
	got := staleBenchDBs([]string{"startline_bench_42", "startline_bench_7", "startline_bench_7_pgbench", "startline_bench_42_pgbench",
		"startline", "startline_bench_x", "startline_bench_9_other"}, alive)
	if diff := cmp.Diff([]string{"startline_bench_7", "startline_bench_7_pgbench"}, got); diff != "" {
		t.Errorf("staleBenchDBs (-want +got):\n%s", diff)
	}
}

func TestServerClasses(t *testing.T) {
	before, err := parseClasses(strings.NewReader(`# HELP startline_http_requests_total HTTP requests
startline_http_requests_total{class="2xx",method="GET",route="/api/v1/events/:slug"} 10
startline_http_requests_total{class="4xx",method="GET",route="/api/v1/events/:slug/draws"} 1
startline_http_requests_total{class="2xx",method="POST",route="/api/v1/events/:slug/entries"} 5
startline_http_request_duration_seconds_bucket{class="2xx",le="0.005"} 3
`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"2xx": 15, "4xx": 1}, before); diff != "" {
		t.Errorf("parseClasses (-want +got):\n%s", diff)
	}
	after := map[string]int64{"2xx": 40015, "4xx": 3, "5xx": 2}
	d := classDelta(before, after)
	if diff := cmp.Diff(map[string]int64{"2xx": 40000, "4xx": 2, "5xx": 2}, d); diff != "" {
		t.Errorf("classDelta (-want +got):\n%s", diff)
	}
	if got := errorClasses(d); got != "4xx 2, 5xx 2" {
		t.Errorf("errorClasses = %q", got)
	}
	if got := errorClasses(map[string]int64{"2xx": 9}); got != "" {
		t.Errorf("errorClasses of only 2xx = %q", got)
	}
}

func TestLogAndFives(t *testing.T) {
	log := `{"level":"ERROR","msg":"internal error","route":"/api/v1/entries/:id","err":"entry status: context canceled"}
{"level":"WARN","msg":"http","route":"/api/v1/entries/:id","status":500}
{"level":"ERROR","msg":"internal error","route":"/api/v1/events/:slug/draws","err":"draws x: list draws: context canceled"}
{"level":"WARN","msg":"http","route":"/api/v1/events/:slug/draws","status":500}
{"level":"ERROR","msg":"internal error","route":"/api/v1/entries/:id","err":"entry status: deadlock detected"}
{"level":"WARN","msg":"http","route":"/api/v1/entries/:id","status":500}
{"level":"WARN","msg":"card charge state not answered","err":"card charge of x: context canceled"}
{"level":"ERROR","msg":"page error","route":"/events/:slug/results","err":"results: context canceled"}
{"level":"WARN","msg":"http","route":"/events/:slug/results","status":500}
{"level":"ERROR","msg":"dependency unavailable, answering 503","route":"/api/v1/entries/:id","err":"i/o timeout"}
`
	got := countLog(strings.NewReader(log))
	if diff := cmp.Diff(logCounts{Logged5xx: 4, Gone: 3}, got); diff != "" {
		t.Errorf("countLog (-want +got):\n%s", diff)
	}
	tests := []struct {
		name  string
		total int64
		l     logCounts
		want  fives
	}{
		{"all abandoned by wrk", 193, logCounts{Logged5xx: 193, Gone: 193}, fives{Gone: 193}},
		{"one 503 besides", 194, logCounts{Logged5xx: 193, Gone: 193}, fives{Gone: 193, Unavailable: 1}},
		{"a real 500", 5, logCounts{Logged5xx: 5, Gone: 4}, fives{Gone: 4, Internal: 1}},
		{"log ahead of the scrape", 3, logCounts{Logged5xx: 4, Gone: 4}, fives{Gone: 4}},
		{"none", 0, logCounts{}, fives{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify5xx(tt.total, tt.l); got != tt.want {
				t.Errorf("classify5xx = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestShownCommand(t *testing.T) {
	args := []string{"/usr/bin/wrk", "-t2", "-c256", "-d10s", "--timeout", "10s", "--latency", "-s", "/tmp/x/status.lua",
		"http://127.0.0.1:4242/api/v1/entries/1?token=secret"}
	got := shownCommand(args, wrkTarget{Paths: []string{"/api/v1/entries/1?token=secret", "/api/v1/entries/2?token=x"}})
	want := "wrk -t2 -c256 -d10s --timeout 10s --latency -s status.lua http://127.0.0.1:PORT (the script spreads the requests over 2 URLs)"
	if got != want {
		t.Errorf("shownCommand =\n%s\nwant\n%s", got, want)
	}
	got = shownCommand([]string{"wrk", "-s", "/tmp/event.lua", "http://127.0.0.1:1/api/v1/events/bench-rush"}, wrkTarget{Paths: []string{"/api/v1/events/bench-rush"}})
	if want := "wrk -s event.lua http://127.0.0.1:PORT/api/v1/events/bench-rush"; got != want {
		t.Errorf("shownCommand = %s, want %s", got, want)
	}
}
