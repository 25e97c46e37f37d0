package web

import (
	"encoding/json"
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

// The fuzz targets of the pages' outside input. The pages need the
// database, so the form edge (httpkit.CheckInput with forms, as Register
// mounts it) is fuzzed on the real route table with a probe for a handler;
// every seed in testdata/fuzz/FuzzForm also runs through the full site in
// TestFormSeedsThroughSite (package web_test).

// PostRoutes is the site's form routes, in the order FuzzForm's route
// number picks them, with path parameters filled in plausibly.
func PostRoutes(tb testing.TB) []gin.RouteInfo {
	real, err := httpkit.NewEngine(nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := Register(real, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Dev: true}); err != nil {
		tb.Fatal(err)
	}
	var out []gin.RouteInfo
	for _, rt := range real.Routes() {
		if rt.Method == http.MethodPost {
			out = append(out, rt)
		}
	}
	return out
}

// FillPath puts plausible values in a route's parameters.
func FillPath(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		switch s {
		case ":slug":
			segs[i] = "spring"
		case ":id":
			segs[i] = "7d3c7a4e-8b4f-4d7e-9a55-0c1d2e3f4a5b"
		case ":action":
			segs[i] = "accept"
		case ":outcome":
			segs[i] = "succeed"
		}
	}
	return strings.Join(segs, "/")
}

func formProbe(tb testing.TB) (*gin.Engine, []gin.RouteInfo) {
	routes := PostRoutes(tb)
	probe, err := httpkit.NewEngine(nil)
	if err != nil {
		tb.Fatal(err)
	}
	fail := func(c *gin.Context, err error) { c.String(httpkit.StatusOf(err), lottery.CodeOf(err)) }
	for _, rt := range routes {
		probe.Handle(rt.Method, rt.Path, httpkit.CheckInput(fail, true), func(c *gin.Context) {
			_ = c.PostForm("") // parse as the handlers do
			for k, vs := range c.Request.PostForm {
				for _, v := range append(vs, k) {
					if textin.Check(v) != nil {
						c.Header("X-Bad", strconv.Quote(v))
					}
				}
			}
			if ua := c.Request.UserAgent(); textin.Check(ua) != nil || len(ua) > httpkit.MaxUserAgent {
				c.Header("X-Bad", "user agent "+strconv.Quote(ua))
			}
			c.Status(http.StatusOK)
		})
	}
	return probe, routes
}

// FuzzForm posts arbitrary form bodies and user agents to every form
// route: never a 5xx or a panic, and a handler never reads anything but
// text.
func FuzzForm(f *testing.F) {
	probe, routes := formProbe(f)
	f.Add(0, "email=rev%40example.com&password=x&otp=123456", "Mozilla/5.0")
	f.Fuzz(func(t *testing.T, route int, body, ua string) {
		rt := routes[uint(route)%uint(len(routes))]
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.URL.Path = FillPath(rt.Path)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", ua)
		w := httptest.NewRecorder()
		probe.ServeHTTP(w, req)
		if w.Code >= 500 || w.Header().Get("X-Bad") != "" {
			t.Fatalf("POST %s %q: %d, the handler got %s", rt.Path, body, w.Code, w.Header().Get("X-Bad"))
		}
	})
}

// FuzzSignalsJSON: whatever the page script (or a forger) posts as
// signals, what the pages pass on is absent or a document jsonb takes.
func FuzzSignalsJSON(f *testing.F) {
	f.Add(`{"webdriver":false,"fill_ms":42000,"timezone":"Asia/Seoul"}`, "1700000000000")
	f.Fuzz(func(t *testing.T, raw, started string) {
		out := signalsJSON(raw, started)
		if out == nil {
			return
		}
		if !json.Valid(out) || !utf8.Valid(out) { // and CleanJSON below leaves it as is: no NUL, no control
			t.Fatalf("signalsJSON(%q) = %q", raw, out)
		}
		if again, err := textin.CleanJSON(out); err != nil || string(again) != string(out) {
			t.Fatalf("signalsJSON(%q) = %q is not clean: %q %v", raw, out, again, err)
		}
	})
}
