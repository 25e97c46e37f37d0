package web_test

import (
	"strings"
	"testing"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
)

// TestBrowserClusterLinks: a reviewer signs in by keyboard on a phone-sized
// screen and reads, in Korean and English, what links a farm-shaped
// cluster's entries on the entry page and on the queue filtered by the
// cluster, with nothing wider than the screen.
func TestBrowserClusterLinks(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		want              []string
	}{
		{"en", "en-US", []string{"What links these entries", "share a card", "phone numbers in sequence", "same device setup within 10 minutes"}},
		{"ko", "ko-KR", []string{"이 신청들을 잇는 것", "같은 카드 사용", "연속된 전화번호", "10분 안에 같은 기기 설정"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			receipt := s.applyViaForm("2001@example.com", `{"webdriver":false,"fill_ms":30000}`)
			id := strings.TrimPrefix(strings.Split(receipt, "?")[0], "/entries/")
			db := s.store.DB()
			if err := db.Exec(`UPDATE entries SET cluster_id = id WHERE id = ?`, id).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(`INSERT INTO cluster_links (event_id, cluster_id, kind, groups, entries)
				SELECT event_id, id, k.kind, k.g, k.n FROM entries,
					(VALUES ('card', 2, 12), ('phone_run', 1, 20), ('env_burst', 1, 20)) AS k(kind, g, n) WHERE id = ?`, id).Error; err != nil {
				t.Fatal(err)
			}
			code := s.enrol("", "rev@example.com", lottery.RoleReviewer)
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.WatchConsole()
			s.keyboardSignIn(b, "rev@example.com", code, "/review/entries/"+id)
			b.WaitFor("section.cluster-links")
			b.Check("cluster-links-entry", tc.lang)
			for _, page := range []string{"entry", "queue"} {
				if page == "queue" {
					b.Open(s.srv.URL + "/review?event=spring&cluster=" + id)
					b.WaitFor("section.cluster-links")
					b.Check("cluster-links-queue", tc.lang)
				}
				got := b.Text("section.cluster-links")
				for _, w := range tc.want {
					if !strings.Contains(got, w) {
						t.Errorf("%s page's links panel lacks %q:\n%s", page, w, got)
					}
				}
			}
			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}
