package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/antibot"
)

// TestScrapeSurvivesDatabaseFailure: a failing count drops the gauges and
// says so in startline_db_scrape_ok; the scrape still answers 200.
func TestScrapeSurvivesDatabaseFailure(t *testing.T) {
	m := New(Options{EntryStates: []string{"received"}, Counts: func(context.Context) (Counts, error) {
		return Counts{}, errors.New("database down")
	}})
	m.Applied(antibot.Review, []string{"ticket_claim"})
	m.MailFailed()
	m.TaskFailed("mail:send")
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(m.Middleware(), m.Serve(nil))
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := http.Get(srv.URL + Path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d\n%s", resp.StatusCode, body)
	}
	text := string(body)
	for _, want := range []string{"startline_db_scrape_ok 0", `startline_apply_decisions_total{outcome="review"} 1`,
		`startline_apply_risk_reasons_total{outcome="review",reason="ticket_claim"} 1`, "startline_mail_failures_total 1",
		`startline_task_failures_total{type="mail:send"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("the scrape lacks %q", want)
		}
	}
	if strings.Contains(text, "startline_entries{") {
		t.Error("the scrape shows entry gauges it could not read")
	}
}

func TestStatusClass(t *testing.T) {
	for code, want := range map[int]string{200: "2xx", 302: "3xx", 404: "4xx", 503: "5xx", 0: "other", 600: "other"} {
		if got := StatusClass(code); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", code, got, want)
		}
	}
}
