package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// TestQueueSizesCachedAndBounded: the task queues' sizes are read at most
// once per cache time, a failed read says so in
// startline_task_queue_scrape_ok, and unknown task types and review
// decisions count as "other" so no label grows without bound.
func TestQueueSizesCachedAndBounded(t *testing.T) {
	reads, fail := 0, false
	m := New(Options{TaskTypes: []string{"mail:send"}, QueueCacheTTL: time.Hour,
		Queues: func(context.Context) ([]QueueSize, error) {
			reads++
			if fail {
				return nil, errors.New("redis down")
			}
			return []QueueSize{{Queue: "startline", Pending: 3, Retry: 2, Archived: 1}}, nil
		},
		Counts: func(context.Context) (Counts, error) {
			return Counts{Lines: []Line{{Event: "seoul-10k", SubQueue: "10k:open", Waiting: 40, Admitted: 7}}}, nil
		}})
	m.TaskFailed("made:up")
	m.Reviewed("approve")
	m.Reviewed("<script>")
	srv := httptest.NewServer(m.Handler(nil))
	defer srv.Close()
	scrape := func(base string) string {
		t.Helper()
		resp, err := http.Get(base + Path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("scrape: %d", resp.StatusCode)
		}
		return string(body)
	}
	text := scrape(srv.URL)
	for _, want := range []string{`startline_task_queue_tasks{queue="startline",state="pending"} 3`,
		`startline_task_queue_tasks{queue="startline",state="active"} 0`, `startline_task_queue_tasks{queue="startline",state="retry"} 2`,
		`startline_task_queue_tasks{queue="startline",state="archived"} 1`, "startline_task_queue_scrape_ok 1",
		`startline_task_failures_total{type="other"} 1`, `startline_task_failures_total{type="mail:send"} 0`,
		`startline_review_decisions_total{decision="approve"} 1`, `startline_review_decisions_total{decision="other"} 1`,
		`startline_review_decisions_total{decision="reject_cluster"} 0`,
		`startline_waitroom_waiting{event="seoul-10k",subqueue="10k:open"} 40`,
		`startline_waitroom_admitted{event="seoul-10k",subqueue="10k:open"} 7`} {
		if !strings.Contains(text, want) {
			t.Errorf("the scrape lacks %q", want)
		}
	}
	if strings.Contains(text, `type="made:up"`) || strings.Contains(text, `decision="<script>"`) {
		t.Error("a label took an unknown value")
	}
	fail = true
	scrape(srv.URL)
	if reads != 1 {
		t.Errorf("%d reads of the queues in two scrapes within the cache time, want 1", reads)
	}

	m = New(Options{QueueCacheTTL: time.Nanosecond, Queues: func(context.Context) ([]QueueSize, error) {
		return nil, errors.New("redis down")
	}})
	srv2 := httptest.NewServer(m.Handler(nil))
	defer srv2.Close()
	if body := scrape(srv2.URL); !strings.Contains(body, "startline_task_queue_scrape_ok 0") || strings.Contains(body, "startline_task_queue_tasks{") {
		t.Errorf("a failed queue read:\n%s", body)
	}
	// The listener of its own answers /metrics only.
	if resp, err := http.Get(srv2.URL + "/other"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /other on the metrics listener: %v %v", resp.StatusCode, err)
	}
}

// TestCardChargesCounted: each recorded outcome counts under its label; an
// unknown one as "other", so the label stays bounded.
func TestCardChargesCounted(t *testing.T) {
	m := New(Options{})
	m.CardCharged("charged")
	m.CardCharged("charged")
	m.CardCharged("fallback")
	m.CardCharged("surprise")
	rec := httptest.NewRecorder()
	m.exposition().ServeHTTP(rec, httptest.NewRequest("GET", Path, nil))
	for _, want := range []string{`startline_card_charges_total{outcome="charged"} 2`, `startline_card_charges_total{outcome="fallback"} 1`,
		`startline_card_charges_total{outcome="busy"} 0`, `startline_card_charges_total{outcome="other"} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("the scrape lacks %q", want)
		}
	}
}
