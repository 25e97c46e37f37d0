package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/antibot"
)

// families exercises every series once and returns the startline_* metric
// families the registry exposes, with their types.
func families(t *testing.T) map[string]string {
	t.Helper()
	m := New(Options{EntryStates: []string{"received"}, OfferStates: []string{"paid"}, TaskTypes: []string{"mail:send"},
		Counts: func(context.Context) (Counts, error) {
			return Counts{Lines: []Line{{Event: "e", SubQueue: "10k:open", Waiting: 1}}}, nil
		},
		Queues: func(context.Context) ([]QueueSize, error) { return []QueueSize{{Queue: "startline"}}, nil }})
	m.Applied(antibot.Review, []string{"webdriver"})
	m.Reviewed("approve")
	m.MailFailed()
	m.TaskFailed("mail:send")
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(m.Middleware())
	r.GET("/x", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	got, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range got {
		if strings.HasPrefix(f.GetName(), "startline_") {
			out[f.GetName()] = strings.ToLower(f.GetType().String())
		}
	}
	return out
}

var seriesName = regexp.MustCompile(`\bstartline_[a-z_]+`)

// TestGrafanaDashboard: docs/grafana/startline-dashboard.json is a Grafana
// dashboard a user can import (a Prometheus data source asked for as
// DS_PROMETHEUS, every panel and query using it), its PromQL names only
// series this package exposes, and every series has a panel. So the
// dashboard cannot drift from the code.
func TestGrafanaDashboard(t *testing.T) {
	fams := families(t)
	raw, err := os.ReadFile("../../docs/grafana/startline-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	type ds struct{ Type, UID string }
	var d struct {
		Inputs []struct{ Name, Type, PluginID string } `json:"__inputs"`
		Title  string
		UID    string
		Panels []struct {
			Type, Title string
			Datasource  *ds
			GridPos     *struct{ H, W, X, Y int }
			Targets     []struct {
				RefID      string `json:"refId"`
				Expr       string
				Datasource *ds
			}
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].Type != "datasource" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs: %+v, want one Prometheus data source DS_PROMETHEUS", d.Inputs)
	}
	if d.Title == "" || d.UID == "" {
		t.Error("the dashboard has no title or uid")
	}
	used := map[string]bool{}
	for _, p := range d.Panels {
		if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %q has no place on the grid", p.Title)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${DS_PROMETHEUS}" || p.Datasource.Type != "prometheus" || len(p.Targets) == 0 {
			t.Errorf("panel %q: data source %+v, %d queries", p.Title, p.Datasource, len(p.Targets))
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.RefID == "" || q.Datasource == nil || q.Datasource.UID != "${DS_PROMETHEUS}" {
				t.Errorf("panel %q: query %+v", p.Title, q)
			}
			if strings.Count(q.Expr, "(") != strings.Count(q.Expr, ")") || strings.Count(q.Expr, "{") != strings.Count(q.Expr, "}") {
				t.Errorf("panel %q: unbalanced %s", p.Title, q.Expr)
			}
			for _, name := range seriesName.FindAllString(q.Expr, -1) {
				base := name
				for _, suf := range []string{"_bucket", "_count", "_sum"} {
					if b, ok := strings.CutSuffix(name, suf); ok && fams[b] == "histogram" {
						base = b
					}
				}
				if fams[base] == "" {
					t.Errorf("panel %q queries %s, which internal/metrics does not expose", p.Title, name)
				}
				used[base] = true
			}
		}
	}
	doc, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !used[n] {
			t.Errorf("no panel shows %s", n)
		}
		if !strings.Contains(string(doc), "`"+n+"`") {
			t.Errorf("docs/OPERATIONS.md does not describe %s", n)
		}
	}
	// The alerts in the document name real series too.
	for _, name := range seriesName.FindAllString(string(doc), -1) {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
		if fams[name] == "" && fams[base] != "histogram" {
			t.Errorf("docs/OPERATIONS.md names %s, which internal/metrics does not expose", name)
		}
	}
}
