package guard

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/antibot/pow"
	abredis "github.com/startline/startline/antibot/redis"
)

func TestChallengeRisk(t *testing.T) {
	g := &Guard{CookieKey: []byte("test-cookie-key")}
	rec := httptest.NewRecorder()
	g.EnsureDevice(rec, httptest.NewRequest("GET", "/", nil))
	cookie := rec.Result().Cookies()[0]
	browser := "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)"
	tests := []struct {
		name   string
		ua     string
		cookie bool
		net    ipintel.Network
		want   int
	}{
		{"returning phone at home", browser, true, ipintel.Network{Country: "KR"}, 0},
		{"first visit", browser, false, ipintel.Network{Country: "KR"}, 30},
		{"first visit through a VPN exit", browser, false, ipintel.Network{Country: "RO", Kind: ipintel.Hosting}, 60},
		{"relay is not hosting", browser, true, ipintel.Network{Kind: ipintel.Relay}, 0},
		{"curl", "curl/8.5.0", false, ipintel.Network{}, 80},
		{"headless on a cloud VM", "Mozilla/5.0 HeadlessChrome/126", true, ipintel.Network{Kind: ipintel.Hosting}, 80},
		{"no user agent", "", true, ipintel.Network{}, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("User-Agent", tt.ua)
			if tt.cookie {
				r.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
			}
			if got := g.ChallengeRisk(r, tt.net); got != tt.want {
				t.Errorf("risk = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestCheckProofWhenRedisIsDown: a replay store that cannot answer is an
// outage, not an internal error. Failing closed, the refusal wraps
// abredis.ErrUnavailable (503 unavailable; a Redis that dies between the
// rate limit and this check made it a 500); failing open, the proof passes.
func TestCheckProofWhenRedisIsDown(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}) // nothing listens on port 1
	defer rdb.Close()
	iss := pow.Issuer{Key: []byte("test-pow-key")}
	now := time.Now()
	ch, err := iss.New(now, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n, err := pow.Solve(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	payload := pow.EncodePayload(ch, n)
	for _, tc := range []struct {
		name     string
		failOpen bool
		want     error
	}{
		{"fail closed", false, abredis.ErrUnavailable},
		{"fail open", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &Guard{Replay: abredis.NewReplay(rdb, "guardtest:"), PoW: iss, FailOpen: tc.failOpen,
				Log: slog.New(slog.DiscardHandler)}
			err := g.CheckProof(context.Background(), payload, "", now)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("CheckProof = %v, want %v", err, tc.want)
			}
			if errors.Is(err, ErrProof) {
				t.Errorf("CheckProof = %v: an outage is not a bad proof", err)
			}
		})
	}
}
