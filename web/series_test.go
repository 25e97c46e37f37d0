package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/series"
)

// staffLogin signs a new staff account of role in and returns its cookie.
func (s *site) staffLogin(email string, role lottery.Role) string {
	s.t.Helper()
	return s.consoleLogin(lottery.DefaultOrg, email, role)
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

// pastEdition puts spring in a series as its 2026 edition after a drawn
// 2025 edition in which the runner (name, birth date) applied and was not
// selected, so spring's doubling rule gives them 2 tickets.
func (s *site) pastEdition(name string, birth time.Time) {
	s.t.Helper()
	ctx := context.Background()
	svc := series.NewService(s.store, "KR", s.svc.ForgetEvent)
	if _, err := svc.Create(ctx, s.org, lottery.Series{Slug: "spring-race", Name: "Spring Marathon"}); err != nil {
		s.t.Fatal(err)
	}
	if err := svc.AttachEvent(ctx, s.org, series.Attach{Series: "spring-race", Event: "spring", EditionYear: 2026}); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.svc.CreateEvent(ctx, s.org, lottery.EventSpec{Slug: "spring-2025", Name: "Spring Marathon 2025", DisputeWindow: "0s",
		OpensAt: time.Now().Add(-3 * time.Hour), ClosesAt: time.Now().Add(time.Hour), Series: "spring-race", EditionYear: 2025,
		TicketRule: lottery.TicketRuleDoubling, Courses: []lottery.CourseSpec{{Code: "half", Name: "Half Marathon", DistanceKM: 21.1,
			PaceGroups: []lottery.PaceGroupSpec{{Code: "open", Label: "Open", Capacity: 1}}}}}); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.svc.Transition(ctx, s.org, "spring-2025", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.store.InsertSyntheticLotteryEntries(ctx, "spring-2025", 4); err != nil {
		s.t.Fatal(err)
	}
	s.store.DB().Exec("UPDATE events SET closes_at = now() - interval '1 second' WHERE slug = 'spring-2025'")
	for _, a := range []string{lottery.ActionFreeze, lottery.ActionReveal, lottery.ActionDraw} {
		if _, err := s.svc.Transition(ctx, s.org, "spring-2025", a, lottery.TransitionParams{BeaconRound: "none"}); err != nil {
			s.t.Fatalf("%s: %v", a, err)
		}
	}
	_, ds, err := s.draws.Draws(ctx, "spring-2025")
	if err != nil {
		s.t.Fatal(err)
	}
	for _, d := range ds {
		if _, err := s.draws.RunDraw(ctx, d.SubQueueID); err != nil {
			s.t.Fatal(err)
		}
	}
	// Last year's runner: one of the entries the draw did not select.
	if res := s.store.DB().Exec(`UPDATE entries SET name = ?, person_key = ? WHERE id = (SELECT dr.entry_id FROM draw_results dr
		JOIN entries e ON e.id = dr.entry_id JOIN events ev ON ev.id = e.event_id
		WHERE ev.slug = 'spring-2025' AND NOT dr.selected ORDER BY dr.position LIMIT 1)`,
		name, identity.PersonKey(name, birth)); res.Error != nil || res.RowsAffected != 1 {
		s.t.Fatalf("last year's runner: %v", res.Error)
	}
}

// TestBrowserOrganizerUploadsHistory: an organizer signs in and uploads a
// series' history file through the console page, by keyboard at 390 px,
// in English and Korean.
func TestBrowserOrganizerUploadsHistory(t *testing.T) {
	for _, tc := range []struct{ lang, browserLang, stored string }{
		{"en", "en-US", "2 rows stored."},
		{"ko", "ko-KR", "2행을 저장했습니다."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			ctx := context.Background()
			if _, err := series.NewService(s.store, "KR", nil).Create(ctx, s.org, lottery.Series{Slug: "spring-race", Name: "Spring"}); err != nil {
				t.Fatal(err)
			}
			enr, err := s.staff.Add(ctx, "organizer@example.com", lottery.RoleOrganizer, "correct horse battery staple")
			if err != nil {
				t.Fatal(err)
			}
			key, _ := otp.NewKeyFromURL(enr.TOTPURL)
			file := filepath.Join(t.TempDir(), "history.csv")
			if err := os.WriteFile(file, []byte("name,birth_date,email,phone,previous_applications,years\n"+
				"Kim Minjun,1990-05-01,minjun@example.com,,2,2024;2023\nLee Seoyeon,1992-07-08,,+82 10 5555 0101,1,\n"), 0o600); err != nil {
				t.Fatal(err)
			}

			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.Open(s.srv.URL + "/staff/login?next=" + url.QueryEscape("/staff/series/spring-race/history"))
			b.TabTo("email", 20)
			b.Keys("organizer@example.com")
			b.TabTo("password", 5)
			b.Keys("correct horse battery staple")
			b.TabTo("otp", 5)
			code, _ := totp.GenerateCode(key.Secret(), time.Now())
			b.Keys(code + "\r")
			b.WaitFor(`input[name=file]`)
			b.Check("history", tc.lang)
			b.Do(chromedp.SetUploadFiles(chromedp.CSS(`input[name=file]`), []string{file}))
			b.TabTo("file", 20)
			b.Keys("\t\r") // the upload button follows the file field
			b.WaitFor(`[role=status]`)
			b.Check("history-stored", tc.lang)
			if got := b.Text(`[role=status]`); !strings.Contains(got, tc.stored) {
				t.Errorf("after the upload: %q, want %q", got, tc.stored)
			}
			var n int
			s.store.DB().Raw("SELECT count(*) FROM series_history").Scan(&n)
			if n != 2 {
				t.Errorf("%d history rows stored, want 2", n)
			}
		})
	}
}
