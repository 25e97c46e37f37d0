package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/lottery"
)

// TestReviewerClusterLinks: the queue filtered by a cluster and the entry
// page name what links the cluster's entries, with counts, in English and
// Korean, never the kind keys.
func TestReviewerClusterLinks(t *testing.T) {
	s := newSite(t, true)
	enr, err := s.staff.Add(context.Background(), "rev@example.com", lottery.RoleReviewer, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
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
	code6, _ := totp.GenerateCode(key.Secret(), time.Now())
	code, _, hdr := s.post("/staff/login", url.Values{"email": {"rev@example.com"}, "password": {"correct horse battery staple"},
		"otp": {code6}, "next": {"/review?event=spring"}})
	if code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	cookie := strings.Split(hdr.Get("Set-Cookie"), ";")[0]
	for _, page := range []string{"/review?event=spring&cluster=" + id, "/review/entries/" + id} {
		for lang, want := range map[string][]string{
			"en": {"What links these entries", "share a card", "12 entries in 2 group(s)", "phone numbers in sequence",
				"same device setup within 10 minutes"},
			"ko": {"이 신청들을 잇는 것", "같은 카드 사용", "12건, 2개 묶음", "연속된 전화번호", "10분 안에 같은 기기 설정"},
		} {
			sep := "?"
			if strings.Contains(page, "?") {
				sep = "&"
			}
			code, body, _ := s.get(page+sep+"lang="+lang, "Cookie", cookie)
			if code != 200 {
				t.Fatalf("%s %s: %d", page, lang, code)
			}
			for _, w := range want {
				if !strings.Contains(body, w) {
					t.Errorf("%s (%s) lacks %q", page, lang, w)
				}
			}
			if strings.Contains(body, "phone_run") || strings.Contains(body, "env_burst") {
				t.Errorf("%s (%s) shows a kind key", page, lang)
			}
		}
	}
	// Another cluster id (not a UUID) is a field error, not a 500.
	if code, _, _ := s.get("/review?event=spring&cluster=nope", "Cookie", cookie); code != http.StatusBadRequest &&
		code != http.StatusUnprocessableEntity {
		t.Errorf("bad cluster id: %d", code)
	}
}
