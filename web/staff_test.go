package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/antibot/pow"
	"github.com/startline/startline/lottery"
)

// applyViaForm walks the form with the given signals JSON and returns the receipt path.
func (s *site) applyViaForm(email, signals string) string {
	s.t.Helper()
	form := url.Values{"subqueue": {"half:open"}, "name": {"Runner " + email}, "email": {email},
		"phone": {"010-5555-" + email[:4]}, "birth_date": {"1985-02-03"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}, "signals": {signals},
		"started": {strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10)}}
	_, body, _ := s.post("/events/spring/apply/code", form)
	step3 := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		step3.Set(m[1], html.UnescapeString(m[2]))
	}
	var ch pow.Challenge
	json.Unmarshal([]byte(html.UnescapeString(challengeRe.FindStringSubmatch(body)[1])), &ch)
	step3.Set("altcha", guardtest.Solve(s.t, ch))
	msgs, _ := s.store.OutboxFor(context.Background(), email, 1)
	step3.Set("otp", codeRe.FindStringSubmatch(msgs[0].Body)[1])
	code, _, hdr := s.post("/events/spring/apply", step3)
	if code != http.StatusSeeOther {
		s.t.Fatalf("apply %s: %d", email, code)
	}
	return hdr.Get("Location")
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestReviewerConsole(t *testing.T) {
	s := newSite(t, true)
	enr, err := s.staff.Add(context.Background(), "rev@example.com", lottery.RoleReviewer, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	receipt := s.applyViaForm("1001@example.com", `{"webdriver":true,"fill_ms":30000}`)
	id := strings.TrimPrefix(strings.Split(receipt, "?")[0], "/entries/")

	if code, _, hdr := s.get("/review"); code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/staff/login") {
		t.Fatalf("queue without a session: %d %v", code, hdr)
	}
	code, _, _ := s.post("/staff/login", url.Values{"email": {"rev@example.com"}, "password": {"wrong"}, "otp": {"000000"}})
	if code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", code)
	}
	totpCode, _ := totp.GenerateCode(key.Secret(), time.Now())
	code, _, hdr := s.post("/staff/login", url.Values{"email": {"rev@example.com"}, "password": {"correct horse battery staple"},
		"otp": {totpCode}, "next": {"/review?event=spring"}})
	if code != http.StatusSeeOther || hdr.Get("Location") != "/review?event=spring" {
		t.Fatalf("login: %d %v", code, hdr)
	}
	cookie := strings.Split(hdr.Get("Set-Cookie"), ";")[0]
	code, body, _ := s.get("/review?event=spring", "Cookie", cookie)
	if code != 200 || !strings.Contains(body, id[:8]) || !strings.Contains(body, "webdriver") {
		t.Fatalf("queue page: %d %s", code, body)
	}
	code, body, _ = s.get("/review/entries/"+id, "Cookie", cookie)
	if code != 200 || !strings.Contains(body, "navigator.webdriver was true") || !strings.Contains(body, "&#34;fill_ms&#34;: 30000") ||
		!strings.Contains(body, "IP Geolocation by DB-IP") {
		t.Fatalf("entry page: %d %s", code, body)
	}
	// Names, not keys: the reason, the status and the sub-queue read as words.
	for _, w := range []string{"Automated browser (webdriver)", "In review", "Half Marathon · Open", "Approve into the draw"} {
		if !strings.Contains(body, w) {
			t.Errorf("English entry page lacks %q", w)
		}
	}
	assertReviewKorean(t, s, cookie, id)
	csrf := csrfRe.FindStringSubmatch(body)[1]
	post := func(vals url.Values) (int, http.Header) {
		req, _ := http.NewRequest("POST", s.srv.URL+"/review/entries/"+id+"/decision", strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookie)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header
	}
	if code, _ := post(url.Values{"decision": {"reject"}, "note": {"bot"}, "csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("decision without the CSRF token: %d", code)
	}
	if code, _ := post(url.Values{"decision": {"reject"}, "note": {"webdriver on a 30 s fill"}, "csrf": {csrf}, "event": {"spring"}}); code != http.StatusSeeOther {
		t.Fatalf("decision: %d", code)
	}
	v, err := s.reg.EntryStatus(context.Background(), id, strings.Split(receipt, "token=")[1][:32])
	if err != nil || v.Entry.Status != lottery.EntryRejected {
		t.Errorf("after reject: %v %v", v.Entry.Status, err)
	}
}

// assertReviewKorean reads the queue and the entry page in Korean (?lang=ko):
// Korean labels, translated reason names with the code kept beside them,
// the sub-queue by its name and no English control label left over.
func assertReviewKorean(t *testing.T, s *site, cookie, id string) {
	t.Helper()
	code, body, _ := s.get("/review?event=spring&lang=ko", "Cookie", cookie)
	if code != 200 {
		t.Fatalf("Korean queue: %d", code)
	}
	for _, w := range []string{`<html lang="ko"`, "검토 대기열", "검토자", "모든 사유", "자동화 브라우저 (webdriver)", "너무 빠른 양식 작성",
		"클러스터 ID", "필터 적용", "위험도", "코스와 페이스 그룹", "Half Marathon · Open", "모든 신청이 검토될 때까지 확정을 미룸",
		"<code>webdriver</code>", id[:8]} {
		if !strings.Contains(body, w) {
			t.Errorf("Korean queue lacks %q", w)
		}
	}
	for _, w := range []string{"Review queue", "any reason", "Sign out", ">Filter<", ">half:open<", "(reviewer)"} {
		if strings.Contains(body, w) {
			t.Errorf("Korean queue still shows %q", w)
		}
	}
	code, body, _ = s.get("/review/entries/"+id+"?lang=ko", "Cookie", cookie)
	if code != 200 {
		t.Fatalf("Korean entry page: %d", code)
	}
	for _, w := range []string{`<html lang="ko"`, "검토 대상이 된 이유", "자동화 브라우저 (webdriver)", "검토 중", "신원 정보", "이메일 주소",
		"생년월일", "기기와 네트워크", "브라우저 지문", "연결된 신청", "메모 (거절할 때 필수)", "승인하여 추첨에 포함", "Half Marathon · Open"} {
		if !strings.Contains(body, w) {
			t.Errorf("Korean entry page lacks %q", w)
		}
	}
	for _, w := range []string{"Why it was flagged", "Identity", "Device and network", "Approve into the draw", ">in_review<"} {
		if strings.Contains(body, w) {
			t.Errorf("Korean entry page still shows %q", w)
		}
	}
}
