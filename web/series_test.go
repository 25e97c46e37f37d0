package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/series"
)

// staffLogin signs a new staff account of role in and returns its cookie.
func (s *site) staffLogin(email string, role lottery.Role) string {
	s.t.Helper()
	enr, err := s.staff.Add(context.Background(), email, role, "correct horse battery staple")
	if err != nil {
		s.t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	code, _ := totp.GenerateCode(key.Secret(), time.Now())
	st, _, hdr := s.post("/staff/login", url.Values{"email": {email}, "password": {"correct horse battery staple"}, "otp": {code}})
	if st != http.StatusSeeOther {
		s.t.Fatalf("login %s: %d", email, st)
	}
	return strings.Split(hdr.Get("Set-Cookie"), ";")[0]
}

// TestHistoryUploadPage: an organizer uploads a series' history CSV through
// the console page; a bad row is shown with its line, a forged form is
// refused, a reviewer may not upload.
func TestHistoryUploadPage(t *testing.T) {
	s := newSite(t, true)
	if _, err := series.NewService(s.store, "KR", nil).Create(context.Background(), s.org, lottery.Series{Slug: "spring-race", Name: "Spring"}); err != nil {
		t.Fatal(err)
	}
	cookie := s.staffLogin("org2@example.com", lottery.RoleOrganizer)
	code, body, _ := s.get("/staff/series/spring-race/history", "Cookie", cookie, "Accept-Language", "ko-KR")
	if code != 200 || !strings.Contains(body, "시리즈 이전 신청 기록") || !strings.Contains(body, `type="file"`) {
		t.Fatalf("form: %d %s", code, body)
	}
	csrf := csrfRe.FindStringSubmatch(body)[1]
	upload := func(csrf, file string) (int, string, http.Header) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		_ = w.WriteField("csrf", csrf)
		fw, _ := w.CreateFormFile("file", "history.csv")
		fw.Write([]byte(file))
		w.Close()
		req, _ := http.NewRequest("POST", s.srv.URL+"/staff/series/spring-race/history", &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Origin", s.srv.URL)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		return res.StatusCode, b.String(), res.Header
	}
	const header = "name,birth_date,email,phone,previous_applications,years\n"
	if code, _, _ := upload("forged", header+"Kim A,1990-01-01,a@example.com,,1,\n"); code != http.StatusForbidden {
		t.Errorf("forged CSRF: %d", code)
	}
	code, body, _ = upload(csrf, header+"Kim A,1990-01-01,a@example.com,,1,\nKim B,1990-01-02,nobody,,1,\n")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "rows[3].email") || !strings.Contains(body, "line 3") {
		t.Fatalf("bad row: %d %s", code, body)
	}
	code, _, hdr := upload(csrf, header+"Kim A,1990-01-01,a@example.com,,1,2025\nKim B,1990-01-02,,010-2222-3333,2,\n")
	if code != http.StatusSeeOther || !strings.HasSuffix(hdr.Get("Location"), "?rows=2") {
		t.Fatalf("upload: %d %v", code, hdr)
	}
	var n int
	s.store.DB().Raw("SELECT count(*) FROM series_history").Scan(&n)
	if n != 2 {
		t.Fatalf("%d rows stored, want 2", n)
	}
	rev := s.staffLogin("rev2@example.com", lottery.RoleReviewer)
	if code, _, _ := s.get("/staff/series/spring-race/history", "Cookie", rev); code != http.StatusForbidden {
		t.Errorf("reviewer opens the upload: %d", code)
	}
}
