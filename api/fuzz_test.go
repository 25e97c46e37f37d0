package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/internal/textin"
	"github.com/startline/startline/lottery"
)

// The fuzz targets of the API's outside input. Handlers that need the
// database are fuzzed at their decode and validate layer here; every seed
// in testdata/fuzz/<FuzzName>/ also runs through the full server in
// TestFuzzSeedsThroughServer (package api_test). Run one with, e.g.,
//
//	go test ./api/ -run '^$' -fuzz '^FuzzApplyJSON$' -fuzztime 60s

// fuzzJSON decodes body as T through decodeJSON and checks what a handler
// would get: a coded 4xx error, or a value whose every string is text and
// whose free-form JSON the database takes.
func fuzzJSON[T any](t *testing.T, body []byte) (T, bool) {
	var v T
	err := decodeJSON(body, &v)
	if err != nil {
		var e *lottery.Error
		if !errors.As(err, &e) || httpkit.StatusOf(e) >= 500 || httpkit.StatusOf(e) < 400 {
			t.Fatalf("decodeJSON(%q): %v is not a coded 4xx", body, err)
		}
		return v, false
	}
	if err := checkDecoded(&v); err != nil {
		t.Fatalf("decodeJSON(%q) passed a value checkDecoded refuses: %v", body, err)
	}
	return v, true
}

// jsonbSafe is what PostgreSQL's jsonb input needs: UTF-8, no \u0000 and
// no surrogate escape (the encoder writes UTF-8 for every other character).
func jsonbSafe(b []byte) bool {
	s := string(b)
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++
		if i+4 < len(s) && s[i] == 'u' {
			if h := strings.ToLower(s[i+1 : i+5]); h == "0000" || h >= "d800" && h <= "dfff" {
				return false
			}
		}
	}
	return utf8.ValidString(s)
}

func FuzzApplyJSON(f *testing.F) {
	f.Add([]byte(`{"course":"half","pace_group":"sub-130","name":"Kim Minjun","email":"a@example.com","phone":"+82 10-1234-5678","birth_date":"1990-04-01","otp":"123456","altcha":"x","signals":{"webdriver":false,"fill_ms":42000}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, ok := fuzzJSON[applyBody](t, body)
		if ok && len(b.Signals) > 0 && !jsonbSafe(b.Signals) {
			t.Fatalf("signals %q would be refused by jsonb", b.Signals)
		}
	})
}

func FuzzOTPJSON(f *testing.F) {
	f.Add([]byte(`{"email":"a@example.com"}`))
	f.Fuzz(func(t *testing.T, body []byte) { fuzzJSON[otpBody](t, body) })
}

func FuzzJoinJSON(f *testing.F) {
	f.Add([]byte(`{"course":"half","pace_group":"fcfs","email":"a@example.com","altcha":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) { fuzzJSON[joinBody](t, body) })
}

func FuzzLoginJSON(f *testing.F) {
	f.Add([]byte(`{"email":"org@example.com","password":"correct horse battery staple","otp":"123456"}`))
	f.Fuzz(func(t *testing.T, body []byte) { fuzzJSON[loginBody](t, body) })
}

func FuzzDecisionJSON(f *testing.F) {
	f.Add([]byte(`{"decision":"reject","note":"webdriver, shared fingerprint"}`))
	f.Fuzz(func(t *testing.T, body []byte) { fuzzJSON[decisionBody](t, body) })
}

// FuzzEventSpecJSON goes on through the event spec's own validation
// (lottery.EventSpec.Build, no database): what it builds has visible names
// and dates in the sane years.
func FuzzEventSpecJSON(f *testing.F) {
	f.Add([]byte(`{"slug":"spring","name":"Spring","time_zone":"UTC","opens_at":"2027-03-01T09:00:00Z","closes_at":"2027-03-08T09:00:00Z","courses":[{"code":"half","name":"Half","distance_km":21.1,"pace_groups":[{"code":"open","label":"Open","capacity":10}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, ok := fuzzJSON[eventSpecJSON](t, body)
		if !ok {
			return
		}
		spec, err := b.spec()
		if err == nil {
			var ev lottery.Event
			if ev, err = spec.Build(); err == nil {
				checkBuilt(t, ev)
				return
			}
		}
		if lottery.CodeOf(err) != lottery.CodeInvalidField {
			t.Fatalf("spec of %q: %v is not invalid_field", body, err)
		}
	})
}

func checkBuilt(t *testing.T, ev lottery.Event) {
	t.Helper()
	names := []string{ev.Name}
	for _, c := range ev.Courses {
		names = append(names, c.Name)
		for _, p := range c.PaceGroups {
			names = append(names, p.Label)
		}
	}
	for _, n := range names {
		if textin.Check(n) != nil || !textin.Visible(n) {
			t.Fatalf("built an event with the name %q", n)
		}
	}
	for _, at := range []int{ev.OpensAt.Year(), ev.ClosesAt.Year()} {
		if at < lottery.MinEventYear || at > lottery.MaxEventYear {
			t.Fatalf("built an event in the year %d", at)
		}
	}
}

// probeEngine is the API's real route table behind the real edge check,
// with a probe instead of each handler: it answers 200, with an X-Bad
// header quoting anything the handlers would read that is not text.
func probeEngine(tb testing.TB) (*gin.Engine, []gin.RouteInfo) {
	real, err := httpkit.NewEngine(nil)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	Register(real, Deps{Log: log, Dev: true})
	probe, err := httpkit.NewEngine(nil)
	if err != nil {
		tb.Fatal(err)
	}
	h := &handler{Deps: Deps{Log: log}}
	routes := real.Routes()
	for _, rt := range routes {
		probe.Handle(rt.Method, rt.Path, httpkit.CheckInput(h.refuse, false), probeHandler)
	}
	return probe, routes
}

func probeHandler(c *gin.Context) {
	var seen []string
	for _, p := range c.Params {
		seen = append(seen, p.Value)
	}
	for k, v := range c.Request.URL.Query() {
		seen = append(append(seen, k), v...)
	}
	for _, k := range []string{"Idempotency-Key", "User-Agent", "Accept-Language", "Sec-CH-UA-Platform"} {
		seen = append(seen, c.GetHeader(k))
	}
	for _, s := range seen {
		if textin.Check(s) != nil {
			c.Header("X-Bad", strconv.Quote(s))
		}
	}
	if ua := c.Request.UserAgent(); len(ua) > httpkit.MaxUserAgent {
		c.Header("X-Bad", "user agent of "+strconv.Itoa(len(ua))+" bytes")
	}
	c.Status(http.StatusOK)
}

// edgeRequest builds a request for route with every path parameter set to
// param (unescaped, as the router sees it), the raw query and headers.
func edgeRequest(rt gin.RouteInfo, param, rawQuery, idem, ua, lang string) *http.Request {
	segs := strings.Split(rt.Path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = param
		}
	}
	req := httptest.NewRequest(rt.Method, "/", nil)
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery = strings.Join(segs, "/"), "", rawQuery
	for k, v := range map[string]string{"Idempotency-Key": idem, "User-Agent": ua, "Accept-Language": lang} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return req
}

// FuzzEdge sends path parameters, queries and headers through the real
// route table and the edge check: never a 5xx or a panic, and a handler
// never sees anything but text.
func FuzzEdge(f *testing.F) {
	probe, routes := probeEngine(f)
	f.Add(0, "spring", "event=spring&cluster=abc", "key-1", "Mozilla/5.0", "ko-KR")
	f.Fuzz(func(t *testing.T, route int, param, rawQuery, idem, ua, lang string) {
		rt := routes[uint(route)%uint(len(routes))]
		w := httptest.NewRecorder()
		probe.ServeHTTP(w, edgeRequest(rt, param, rawQuery, idem, ua, lang))
		if w.Code >= 500 || w.Header().Get("X-Bad") != "" {
			t.Fatalf("%s %s with %q: %d %s, the handler got %s", rt.Method, rt.Path, param, w.Code, w.Body, w.Header().Get("X-Bad"))
		}
	})
}
