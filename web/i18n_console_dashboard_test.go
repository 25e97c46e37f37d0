package web

import (
	"strings"
	"testing"

	"github.com/startline/startline/lottery/dashboard"
)

// TestDashboardWordsTranslated: every dashboard word exists in English and
// Korean, and the charts drawn from an empty dashboard use no key that is
// missing (a missing key would show as the key itself).
func TestDashboardWordsTranslated(t *testing.T) {
	for key := range dashboardMessages["en"] {
		if dashboardMessages["ko"][key] == "" {
			t.Errorf("%q has no Korean", key)
		}
	}
	for key := range dashboardMessages["ko"] {
		if dashboardMessages["en"][key] == "" {
			t.Errorf("%q has no English", key)
		}
	}
	for _, lang := range []string{"en", "ko"} {
		for name, html := range dashboardCharts(translator(lang), dashboard.Dashboard{}, nil) {
			if strings.Contains(string(html), "dash.") {
				t.Errorf("%s %s chart shows a key: %s", lang, name, html)
			}
		}
	}
}
