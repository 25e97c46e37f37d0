package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/lottery"
)

// TestLoginNextStaysOnSite signs in with next= targets that browsers would
// take off the site; every one lands on the review queue instead.
func TestLoginNextStaysOnSite(t *testing.T) {
	s := newSite(t, true)
	tests := []struct{ next, want string }{
		{"/review?event=spring", "/review?event=spring"},
		{`/\evil.example/x`, "/review"},
		{"/\t/evil.example", "/review"},
		{"/\n/evil.example", "/review"},
		{"//evil.example/x", "/review"},
		{"https://evil.example/x", "/review"},
		{"/%5Cevil.example", "/review"},
		{"", "/review"},
	}
	for i, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			// One reviewer per login: a TOTP code is accepted once.
			email := fmt.Sprintf("rev%d@example.com", i)
			enr, err := s.staff.Add(context.Background(), email, lottery.RoleReviewer, "correct horse battery staple")
			if err != nil {
				t.Fatal(err)
			}
			key, _ := otp.NewKeyFromURL(enr.TOTPURL)
			code, _ := totp.GenerateCode(key.Secret(), time.Now())
			status, _, hdr := s.post("/staff/login", url.Values{"email": {email},
				"password": {"correct horse battery staple"}, "otp": {code}, "next": {tt.next}})
			if status != http.StatusSeeOther || hdr.Get("Location") != tt.want {
				t.Errorf("login with next=%q: %d, Location %q; want 303 to %q", tt.next, status, hdr.Get("Location"), tt.want)
			}
		})
	}
}
