package web

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// i13-pages: the switch's addresses, and every status a runner can read in
// both languages.

func TestSwitchFor(t *testing.T) {
	gin.SetMode(gin.TestMode)
	p := &pages{}
	tests := []struct {
		name, method, target string
		own                  func(c *gin.Context)
		lang                 string
		href, form, action   string
	}{
		{"a link keeps the query", "GET", "/entries/abc?token=t%2Bk&new=1&lang=en", nil, "en",
			"/entries/abc?lang=ko&new=1&token=t%2Bk", "", ""},
		{"to English from Korean", "GET", "/events/spring?subqueue=half:open", nil, "ko", "/events/spring?lang=en&subqueue=half%3Aopen", "", ""},
		{"a post's page drops the body's fields", "POST", "/events/spring/queue", nil, "en", "/events/spring/queue?lang=ko", "", ""},
		{"a form page re-posts its form", "POST", "/events/spring/apply/code", func(c *gin.Context) {
			switchByForm(c, applyFormID, "/events/spring/apply/lang")
		}, "en", "", applyFormID, "/events/spring/apply/lang"},
		{"a handler's own link", "POST", "/entries/abc/disputes", func(c *gin.Context) {
			switchByLink(c, "/entries/abc?token=xyz")
		}, "ko", "/entries/abc?lang=en&token=xyz", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			c.Request = httptest.NewRequest(tt.method, tt.target, nil)
			if tt.own != nil {
				tt.own(c)
			}
			s := p.switchFor(c, tt.lang)
			if s.Code != otherLang(tt.lang) || s.Label != translator(tt.lang)("lang.other") {
				t.Errorf("switch to %q labelled %q", s.Code, s.Label)
			}
			if s.Href != tt.href || s.Form != tt.form || s.Action != tt.action {
				t.Errorf("switch %+v, want href %q form %q action %q", s, tt.href, tt.form, tt.action)
			}
		})
	}
}

func TestSwitchLangTakesOnlyKnownLanguages(t *testing.T) {
	gin.SetMode(gin.TestMode)
	p := &pages{}
	for lang, want := range map[string]string{"ko": "ko", "en": "en", "xx": "en", "": "en"} {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest("POST", "/events/spring/apply/lang", nil)
		c.Request.PostForm = url.Values{"lang": {lang}}
		p.switchLang(c)
		if got := p.lang(c); got != want {
			t.Errorf("lang=%q: page in %q, want %q", lang, got, want)
		}
		if set := w.Header().Get("Set-Cookie") != ""; set != (lang == want) {
			t.Errorf("lang=%q: cookie set %v", lang, set)
		}
	}
}

// Every entry and offer status a runner can hold here reads in both languages:
// its word and its one-line explanation.
func TestRunnerStatusesTranslated(t *testing.T) {
	entry := []lottery.EntryStatus{lottery.EntryReceived, lottery.EntryInReview, lottery.EntryRejected, lottery.EntryEligible,
		lottery.EntrySelected, lottery.EntryWaitlisted, lottery.EntryOffered, lottery.EntryConfirmed, lottery.EntryDeclined,
		lottery.EntryExpired} // withdrawn: named by i13-self's keys, with the withdrawal
	offer := []lottery.OfferStatus{lottery.OfferPending, lottery.OfferAccepted, lottery.OfferPaid, lottery.OfferDeclined,
		lottery.OfferExpired, lottery.OfferVoid}
	for _, lang := range []string{"en", "ko"} {
		for _, st := range entry {
			for _, k := range []string{"entry.state." + string(st), "entry.status." + string(st)} {
				if _, ok := messages[lang][k]; !ok {
					t.Errorf("%s missing in %s", k, lang)
				}
			}
		}
		for _, st := range offer {
			for _, k := range []string{"offer.state." + string(st), "offer.status." + string(st)} {
				if _, ok := messages[lang][k]; !ok {
					t.Errorf("%s missing in %s", k, lang)
				}
			}
		}
	}
}

// An error page shown by a form's handler has no form: its switch is a link.
func TestErrorPageSwitchIsALink(t *testing.T) {
	gin.SetMode(gin.TestMode)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/events/spring/apply/code", nil)
	switchByForm(c, applyFormID, "/events/spring/apply/lang")
	noFormSwitch(c)
	if s := (&pages{}).switchFor(c, "en"); s.Form != "" || s.Href != "/events/spring/apply/code?lang=ko" {
		t.Errorf("error page switch %+v", s)
	}
}
