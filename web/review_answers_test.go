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

// TestReviewerSeesAnswers: the reviewer's entry page lists the runner's
// answers to the event's questions by their labels, with chosen options by
// name, in English and Korean.
func TestReviewerSeesAnswers(t *testing.T) {
	s := newSite(t, true)
	s.questionsEvent()
	_, body, _ := s.post("/events/autumn/apply/code", questionsForm("answers@example.com"))
	step3 := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		step3.Set(m[1], m[2])
	}
	msgs, _ := s.store.OutboxFor(context.Background(), "answers@example.com", 1)
	if len(msgs) == 0 {
		t.Fatal("no code mailed")
	}
	step3.Set("otp", codeRe.FindStringSubmatch(msgs[0].Body)[1])
	step3.Set("altcha", solve(t, body))
	code, _, hdr := s.post("/events/autumn/apply", step3)
	if code != http.StatusSeeOther {
		t.Fatalf("apply: %d", code)
	}
	loc := hdr.Get("Location")
	id := strings.TrimPrefix(loc[:strings.Index(loc, "?")], "/entries/")

	enr, err := s.staff.Add(context.Background(), "answers-rev@example.com", lottery.RoleReviewer, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	totpCode, _ := totp.GenerateCode(key.Secret(), time.Now())
	code, _, hdr = s.post("/staff/login", url.Values{"email": {"answers-rev@example.com"}, "password": {"correct horse battery staple"},
		"otp": {totpCode}, "next": {"/review"}})
	if code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	cookie := strings.Split(hdr.Get("Set-Cookie"), ";")[0]
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"en", []string{"Answers to the event&#39;s questions", "Park Jiwoo · &#43;821098765432", "Women", "Han River Runners",
			"Medical notes", "Inhaler in my belt", "I read the race rules"}},
		{"ko", []string{"대회 질문에 대한 답변", "여성", "의료 참고 사항", "대회 규정을 읽었습니다"}},
	} {
		code, body, _ := s.get("/review/entries/"+id+"?lang="+tc.lang, "Cookie", cookie)
		for _, w := range tc.want {
			if code != 200 || !strings.Contains(body, w) {
				t.Errorf("%s: entry page lacks %q (%d)", tc.lang, w, code)
			}
		}
	}
}
