package guard

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/startline/startline/antibot/ipintel"
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
