package httpkit

import (
	"net/http"
	"testing"
)

func TestSameOriginAndCrossSite(t *testing.T) {
	tests := []struct {
		name           string
		host           string
		origin, sfs    string
		same, crossing bool
	}{
		{"fetch metadata: same-origin", "staff.example", "", "same-origin", true, false},
		{"fetch metadata wins over a matching Origin", "staff.example", "https://staff.example", "same-site", false, true},
		{"fetch metadata: cross-site", "staff.example", "https://staff.example", "cross-site", false, true},
		{"fetch metadata: none (typed or bookmarked)", "staff.example", "", "none", false, false},
		{"Origin of this host", "staff.example", "https://staff.example", "", true, false},
		{"Origin of this host and port, any case", "staff.example:8443", "https://STAFF.example:8443", "", true, false},
		{"Origin of another port", "staff.example:8443", "https://staff.example", "", false, true},
		{"Origin of another site", "staff.example", "https://evil.example", "", false, true},
		{"Origin of a sibling subdomain", "staff.example", "https://x.staff.example", "", false, true},
		{"Origin null", "staff.example", "null", "", false, true},
		{"Origin with a path is no origin", "staff.example", "https://staff.example/x", "", false, true},
		{"Origin of another scheme", "staff.example", "ftp://staff.example", "", false, true},
		{"no headers: a script or an old browser", "staff.example", "", "", false, false},
		// Behind a proxy that rewrites Host, the browser's Origin is the public URL's.
		{"Origin of the public URL, Host rewritten by a proxy", "10.0.0.5:8080", "https://race.example", "", true, false},
		{"Origin of another site, Host rewritten by a proxy", "10.0.0.5:8080", "https://evil.example", "", false, true},
	}
	site, err := NewSite("https://race.example", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", "http://"+tt.host+"/api/v1/review/entries/x/decision", nil)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.sfs != "" {
				r.Header.Set("Sec-Fetch-Site", tt.sfs)
			}
			if got := site.SameOrigin(r); got != tt.same {
				t.Errorf("SameOrigin = %v, want %v", got, tt.same)
			}
			if got := site.CrossSite(r); got != tt.crossing {
				t.Errorf("CrossSite = %v, want %v", got, tt.crossing)
			}
		})
	}
}
