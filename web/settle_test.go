package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/startline/startline/lottery"
)

// TestSettledStatusPage: once the waitlist is closed, a runner still
// waiting reads that they were not drawn (EN/KO) instead of "you may be
// offered a slot", and a selected runner's page is unchanged.
func TestSettledStatusPage(t *testing.T) {
	s, _, selected := drawnSite(t, siteOptions{}, 6, 2)
	var waiting string
	s.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE NOT selected ORDER BY position LIMIT 1").Scan(&waiting)
	if _, err := s.svc.Transition(context.Background(), s.org, "spring", lottery.ActionSettle, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, want, not string }{
		{"en", "Not drawn: the waitlist is closed", "you may be offered a slot"},
		{"ko", "미당첨: 대기 명단이 마감되어", "Not drawn"},
	} {
		code, body, _ := s.get("/entries/" + waiting + "?token=" + s.receipt(waiting) + "&lang=" + tc.lang)
		if code != 200 || !strings.Contains(body, tc.want) || strings.Contains(body, tc.not) {
			t.Errorf("%s: waiting runner's page: %d, want %q", tc.lang, code, tc.want)
		}
	}
	if code, body, _ := s.get("/entries/" + selected[0] + "?token=" + s.receipt(selected[0])); code != 200 || strings.Contains(body, "Not drawn") {
		t.Errorf("selected runner's page after settling: %d", code)
	}
}
