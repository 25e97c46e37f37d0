package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/api"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/selfservice"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/lottery/waitroom"
	"github.com/startline/startline/web"
)

// tcpProxy forwards loopback connections to the shared PostgreSQL; closing
// it is this test's database outage (the shared server is never touched).
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			u.Close()
			return
		}
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(u, c)
		go pipe(c, u)
	}
}

// Close stops accepting (new connections are refused) and cuts every open
// one, as a database that went down does.
func (p *tcpProxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDatabaseDownAnswers503: with PostgreSQL unreachable, API and page
// requests (an event read, a code request, staff routes, pages) answer 503
// unavailable with Retry-After, and the outage is one log line, not one
// per request.
func TestDatabaseDownAnswers503(t *testing.T) {
	s := newSite(t, true)
	ctx := context.Background()
	tok, err := s.staff.IssueToken(ctx, "org@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// A second store on the same database, through the proxy.
	var dsn string
	s.store.DB().Raw("SELECT current_database()").Scan(&dsn)
	u, _ := url.Parse(pgtest.BaseURL())
	proxy := startProxy(t, u.Host)
	u.Host, u.Path = proxy.ln.Addr().String(), "/"+dsn
	store, err := postgres.Open(ctx, u.String(), postgres.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })

	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	keys, _ := lottery.NewKeys([]byte("web-test-secret-key-web-test-secret-key"))
	svc := lottery.NewService(store, keys, lottery.SystemClock{}, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	reg := registration.NewService(store, svc, keys, lottery.SystemClock{}, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	dr := draws.NewService(store, svc, reg, keys, nil, log)
	svc.UseDraws(dr)
	off := offers.NewService(store, svc, keys, lottery.SystemClock{}, nil, log)
	stf := staff.NewService(store, store, keys, lottery.SystemClock{}, nil, log, staff.Config{})
	rev := review.NewService(store, lottery.SystemClock{}, nil, log, nil)
	svc.UseClusters(rev)
	rev.UseEntries(reg)
	wr := waitroom.NewService(store, svc, keys, lottery.SystemClock{}, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	self := selfservice.NewService(store, reg, svc, keys, lottery.SystemClock{}, nil, log, selfservice.Config{})
	r, err := httpkit.NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := guardtest.New(t, log, guardtest.Options{})
	api.Register(r, api.Deps{Svc: svc, Registration: reg, Draws: dr, Offers: off, Staff: stf, Review: rev, Waitroom: wr, Guard: g, Outbox: store, Log: log, Readyz: store.Ping, Self: self})
	if err := web.Register(r, web.Deps{Svc: svc, Registration: reg, Draws: dr, Offers: off, Staff: stf, Review: rev, Waitroom: wr, Guard: g, Outbox: store, Log: log, Self: self}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	do := func(method, path, body string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := do("GET", "/api/v1/events/spring", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("before the outage: %d", res.StatusCode)
	}

	proxy.Close()
	jsonCT := []string{"Content-Type", "application/json"}
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	for _, tc := range []struct {
		name, method, path, body string
		header                   []string
		api                      bool
		want                     string // in the page
	}{
		{"event read", "GET", "/api/v1/events/spring", "", nil, true, ""},
		{"event list", "GET", "/api/v1/events", "", nil, true, ""},
		{"code request", "POST", "/api/v1/events/spring/otp", `{"email":"runner@example.com"}`, jsonCT, true, ""},
		{"staff route", "GET", "/api/v1/admin/events/spring/offers", "", []string{"Authorization", "Bearer " + tok}, true, ""},
		{"review queue", "GET", "/api/v1/review/queue?event=spring", "", []string{"Authorization", "Bearer " + tok}, true, ""},
		{"event page", "GET", "/events/spring", "", nil, false, "briefly unavailable"},
		{"event page in Korean", "GET", "/events/spring", "", []string{"Accept-Language", "ko-KR"}, false, "서비스를 잠시 이용할 수 없습니다"},
		{"code form", "POST", "/events/spring/apply/code", "subqueue=half:open&email=runner%40example.com", form, false, "briefly unavailable"},
		{"staff page", "GET", "/review", "", []string{"Cookie", httpkit.StaffCookie + "=" + tok}, false, "briefly unavailable"},
		{"my-entries code", "POST", "/api/v1/me/otp", `{"email":"runner@example.com"}`, jsonCT, true, ""},
		{"my entries", "POST", "/api/v1/me/entries", `{"email":"runner@example.com","otp":"123456"}`, jsonCT, true, ""},
		{"my-entries page", "POST", "/me/code", "email=runner%40example.com", form, false, "briefly unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := do(tc.method, tc.path, tc.body, tc.header...)
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503: %.300s", res.StatusCode, b)
			}
			if ra := res.Header.Get("Retry-After"); ra != httpkit.RetryAfterUnavailable {
				t.Errorf("Retry-After %q, want %q", ra, httpkit.RetryAfterUnavailable)
			}
			if tc.api {
				var body struct {
					Error struct{ Code string } `json:"error"`
				}
				if err := json.Unmarshal(b, &body); err != nil || body.Error.Code != lottery.CodeUnavailable {
					t.Errorf("body %s, want error code unavailable", b)
				}
				return
			}
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("page does not say %q: %.500s", tc.want, b)
			}
		})
	}

	var outage, other []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		switch {
		case strings.Contains(line, "dependency unavailable"):
			outage = append(outage, line)
		case line != "":
			other = append(other, line)
		}
	}
	if len(outage) != 1 {
		t.Errorf("%d outage lines, want 1 for the whole outage:\n%s", len(outage), strings.Join(outage, "\n"))
	}
	if len(other) > 0 {
		t.Errorf("other warnings or errors logged during the outage:\n%s", strings.Join(other, "\n"))
	}
}
