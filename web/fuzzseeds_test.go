package web_test

import (
	"strings"
	"testing"

	"github.com/startline/startline/internal/fuzzcorpus"
	"github.com/startline/startline/web"
)

// TestFormSeedsThroughSite replays every kept FuzzForm input through the
// full site, database and all, which the fuzz target leaves out: never a
// 5xx. Route numbers pick from the same table of form routes.
func TestFormSeedsThroughSite(t *testing.T) {
	s := newSite(t, true)
	routes := web.PostRoutes(t)
	seeds, err := fuzzcorpus.Read(".", "FuzzForm")
	if err != nil {
		t.Fatal(err)
	}
	if len(seeds) < 5 {
		t.Fatalf("%d seeds: the corpus is missing", len(seeds))
	}
	for _, seed := range seeds {
		v := seed.Values
		rt := routes[uint(v[0].(int))%uint(len(routes))]
		ua := v[2].(string)
		if ua == "" || strings.IndexFunc(ua, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 { // no client sends these
			ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)"
		}
		status, body := s.sendRaw("POST", web.FillPath(rt.Path), v[1].(string), "User-Agent", ua)
		if status >= 500 {
			t.Errorf("FuzzForm/%s: POST %s: %d %.300s", seed.Name, rt.Path, status, body)
		}
	}
}
