package api_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/startline/startline/api"
	"github.com/startline/startline/internal/fuzzcorpus"
	"github.com/startline/startline/internal/httpkit"
)

// TestFuzzSeedsThroughServer replays every kept fuzz input of the API
// (testdata/fuzz/<FuzzName>/) through the full server, database and all,
// which the fuzz targets leave out to stay fast: never a 5xx. Apply and
// join bodies get a fresh code and proof of work spliced in after their
// own keys (the last key wins), so they reach the database.
func TestFuzzSeedsThroughServer(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	bot := e.applyBody("seed-bot@example.com", e.otp("spring", "seed-bot@example.com"))
	bot["signals"] = map[string]any{"webdriver": true, "fill_ms": 30000}
	inReview := e.do("POST", "/api/v1/events/spring/entries", bot).str("entry_id")
	org := []string{"Authorization", "Bearer " + e.organizer}
	rev := []string{"Authorization", "Bearer " + e.reviewer}

	n := 0
	bodies := map[string]func(i int, body []byte) resp{
		"FuzzApplyJSON": func(i int, body []byte) resp {
			email := fmt.Sprintf("seed-apply-%d@example.com", i)
			kv := fmt.Sprintf(`"email":%q,"otp":%q,"altcha":%q`, email, e.otp("spring", email), e.altcha("spring"))
			return e.do("POST", "/api/v1/events/spring/entries", splice(body, kv))
		},
		"FuzzOTPJSON": func(_ int, body []byte) resp { return e.do("POST", "/api/v1/events/spring/otp", body) },
		"FuzzJoinJSON": func(_ int, body []byte) resp {
			return e.do("POST", "/api/v1/events/spring/queue", splice(body, fmt.Sprintf(`"altcha":%q`, e.altcha("spring"))))
		},
		"FuzzLoginJSON": func(_ int, body []byte) resp { return e.do("POST", "/api/v1/staff/login", body) },
		"FuzzDecisionJSON": func(_ int, body []byte) resp {
			return e.do("POST", "/api/v1/review/entries/"+inReview+"/decision", body, rev...)
		},
		"FuzzEventSpecJSON": func(_ int, body []byte) resp { return e.do("POST", "/api/v1/admin/events", body, org...) },
	}
	for target, send := range bodies {
		seeds, err := fuzzcorpus.Read(".", target)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			n++
			if r := send(i, s.Values[0].([]byte)); r.Status >= 500 {
				t.Errorf("%s/%s: %d %s", target, s.Name, r.Status, r.Raw)
			}
		}
	}

	// FuzzEdge's route numbers pick from the same table the fuzz target
	// builds; staff routes get the organizer's token so they reach the handler.
	real, err := httpkit.NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	api.Register(real, api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Dev: true})
	routes := real.Routes()
	seeds, err := fuzzcorpus.Read(".", "FuzzEdge")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seeds {
		n++
		v := s.Values
		rt := routes[uint(v[0].(int))%uint(len(routes))]
		segs := strings.Split(rt.Path, "/")
		for i, seg := range segs {
			if strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
				segs[i] = url.PathEscape(v[1].(string))
			}
		}
		// Control characters cannot go raw in a URL or a header: the query
		// carries them escaped, and a header value no client can send (the
		// server's HTTP layer would refuse it first) is left out.
		req, err := http.NewRequest(rt.Method, e.srv.URL+strings.Join(segs, "/")+"?"+escapeControls(v[2].(string)), bytes.NewReader([]byte("{}")))
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", org[1])
		for i, h := range []string{"Idempotency-Key", "User-Agent", "Accept-Language"} {
			if hv := v[3+i].(string); hv != "" && httpguts.ValidHeaderFieldValue(hv) {
				req.Header.Set(h, hv)
			}
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Errorf("FuzzEdge/%s: %s %s: %d %s", s.Name, rt.Method, req.URL, res.StatusCode, raw)
		}
	}
	if n < 20 {
		t.Errorf("replayed %d seeds: the corpora are missing", n)
	}
}

// escapeControls percent-encodes the bytes a URL may not carry raw.
func escapeControls(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if c := q[i]; c < 0x20 || c == 0x7f || c == ' ' || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// splice adds kv (`"k":v,...`) as the last keys of a JSON object body;
// anything else is sent as it is.
func splice(body []byte, kv string) []byte {
	b := bytes.TrimSpace(body)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return body
	}
	inner := bytes.TrimSpace(b[:len(b)-1])
	sep := ","
	if bytes.Equal(inner, []byte("{")) {
		sep = ""
	}
	return append(append(bytes.Clone(inner), sep+kv...), '}')
}
