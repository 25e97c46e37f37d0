package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/web"
)

// TestQueueMonitor: the Asynq monitor at /admin/queues is for signed-in
// staff; anonymous pages redirect to the login and its JSON API answers
// 401; a change posted from another site is refused before the monitor.
func TestQueueMonitor(t *testing.T) {
	rurl := os.Getenv("REDIS_URL")
	if rurl == "" {
		rurl = "redis://127.0.0.1:6379/0"
	}
	o, err := redis.ParseURL(rurl)
	if err != nil {
		t.Fatal(err)
	}
	mon := asynqmon.New(asynqmon.Options{RootPath: web.QueuesPath,
		RedisConnOpt: asynq.RedisClientOpt{Addr: o.Addr, Password: o.Password, DB: o.DB}})
	t.Cleanup(func() { mon.Close() })
	s := newSiteGuard(t, false, guardtest.Options{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func(d *web.Deps) { d.Queues = mon })

	for _, p := range []string{"/admin/queues", "/admin/queues/scheduled"} {
		code, _, hdr := s.get(p)
		if code != http.StatusFound || hdr.Get("Location") != "/staff/login?next="+url.QueryEscape(p) {
			t.Errorf("anonymous %s: %d %v", p, code, hdr)
		}
	}
	if code, body, _ := s.get("/admin/queues/api/queues", "X-Requested-With", "XMLHttpRequest"); code != http.StatusUnauthorized ||
		!strings.Contains(body, `"code":"unauthorized"`) {
		t.Errorf("anonymous API: %d %s", code, body)
	}

	enr, err := s.staff.Add(context.Background(), "ops@example.com", lottery.RoleReviewer, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	totpCode, _ := totp.GenerateCode(key.Secret(), time.Now())
	code, _, hdr := s.post("/staff/login", url.Values{"email": {"ops@example.com"}, "password": {"correct horse battery staple"},
		"otp": {totpCode}, "next": {"/admin/queues"}})
	if code != http.StatusSeeOther || hdr.Get("Location") != "/admin/queues" {
		t.Fatalf("login: %d %v", code, hdr)
	}
	cookie := strings.Split(hdr.Get("Set-Cookie"), ";")[0]
	code, body, hdr := s.get("/admin/queues", "Cookie", cookie)
	if code != http.StatusOK || !strings.Contains(body, "Asynq") || !strings.Contains(body, "/admin/queues") {
		t.Fatalf("monitor page: %d %s", code, body)
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("monitor page Cache-Control %q", hdr.Get("Cache-Control"))
	}
	if code, body, _ := s.get("/admin/queues/api/queues", "Cookie", cookie); code != http.StatusOK || !strings.Contains(body, "queues") {
		t.Errorf("monitor API: %d %s", code, body)
	}

	// A change from another site's page, or with no word from the browser
	// on where it comes from, never reaches the monitor.
	for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {}} {
		req, _ := http.NewRequest("POST", s.srv.URL+"/admin/queues/api/queues/default:pause", nil)
		req.Header.Set("Cookie", cookie)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(b), lottery.CodeCSRFFailed) {
			t.Errorf("POST with %v: %d %s", h, res.StatusCode, b)
		}
	}
	// A change from the monitor's own page reaches it (here: deleting a
	// queue that does not exist, so the shared Redis is left as it was).
	req, _ := http.NewRequest("DELETE", s.srv.URL+"/admin/queues/api/queues/startline-test-none", nil)
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("same-origin DELETE of an unknown queue: %d", res.StatusCode)
	}

	// A race organizer's own staff see their events only; the monitor shows
	// every organization's tasks, so it is refused to them.
	other, err := s.staff.AddTo(context.Background(), "harbour-club", "queues-club@example.com", lottery.RoleOrganizer, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	key, _ = otp.NewKeyFromURL(other.TOTPURL)
	totpCode, _ = totp.GenerateCode(key.Secret(), time.Now())
	code, _, hdr = s.post("/staff/login", url.Values{"email": {"queues-club@example.com"}, "password": {"correct horse battery staple"},
		"otp": {totpCode}, "next": {"/admin"}})
	if code != http.StatusSeeOther {
		t.Fatalf("other organization's login: %d %v", code, hdr)
	}
	otherCookie := strings.Split(hdr.Get("Set-Cookie"), ";")[0]
	if code, _, _ := s.get("/admin/queues", "Cookie", otherCookie); code != http.StatusForbidden {
		t.Errorf("another organization's staff, monitor page: %d", code)
	}
	if code, body, _ := s.get("/admin/queues/api/queues", "Cookie", otherCookie); code != http.StatusForbidden ||
		!strings.Contains(body, `"code":"forbidden"`) {
		t.Errorf("another organization's staff, monitor API: %d %s", code, body)
	}
}
