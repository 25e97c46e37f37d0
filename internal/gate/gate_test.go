package gate_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ulule/limiter/v3"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/antibot/pow"
	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/internal/gate"
	"github.com/startline/startline/lottery"
)

// service answers the gate's questions from fixed values.
type service struct {
	conflict error // CheckIdempotencyKey's answer
	asked    int
}

func (s *service) Now() time.Time { return time.Now() }
func (s *service) CheckIdempotencyKey(context.Context, string, string, []byte) error {
	s.asked++
	return s.conflict
}
func (s *service) DeviceKnown(context.Context, string, string) (bool, error) { return false, nil }

func proof(t *testing.T) string {
	t.Helper()
	ch, err := pow.Issuer{Key: []byte("test-pow-key")}.New(time.Now(), 2000)
	if err != nil {
		t.Fatal(err)
	}
	return guardtest.Solve(t, ch)
}

// request is a gin context for a POST to /events/spring/... from one client.
func request() (*gin.Context, *httptest.ResponseRecorder) {
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodPost, "/api/v1/events/spring/entries", nil)
	c.Request.RemoteAddr = "192.0.2.7:4000"
	c.Params = gin.Params{{Key: "slug", Value: "spring"}}
	return c, w
}

// TestRunnerOrder: the runner gate verifies the proof before it counts
// anything, counts before it asks about the Idempotency-Key, and spends the
// proof last, so a refusal at any step leaves the solution unspent.
func TestRunnerOrder(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	oneEach := append([]abredis.Rule(nil), guardtest.Generous...) // one request a minute per IP
	oneEach[0] = abredis.Rule{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: 1, Period: time.Minute}}
	for _, tc := range []struct {
		name      string
		rules     []abredis.Rule
		spendIP   bool // the client's one request a minute is spent before
		proof     bool
		conflict  error
		want      string // code; "" for a pass
		wantAsked int
		spent     bool // the proof was claimed
	}{
		{name: "no proof: nothing counted, nothing asked", rules: oneEach, want: lottery.CodeInvalidProofOfWork},
		{name: "over the limit: 429, proof kept", rules: oneEach, spendIP: true, proof: true, want: lottery.CodeRateLimited},
		{name: "key reused: 409 before the proof is spent", proof: true, conflict: lottery.ErrIdempotencyMismatch,
			want: lottery.CodeIdempotencyMismatch, wantAsked: 1},
		{name: "passes and spends the proof", proof: true, wantAsked: 1, spent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := guardtest.New(t, log, guardtest.Options{Rules: tc.rules})
			svc := &service{conflict: tc.conflict}
			gt := gate.New(g, svc, svc)
			if tc.spendIP {
				c, _ := request()
				if err := gt.Limit(c); err != nil {
					t.Fatal(err)
				}
			}
			w := gate.Write{Email: "a@example.com", IdempotencyKey: "k", Body: []byte("{}")}
			if tc.proof {
				w.Proof = proof(t)
			}
			c, rec := request()
			err := gt.Runner(c, w)
			if got := codeOrEmpty(err); got != tc.want {
				t.Fatalf("code %q (%v), want %q", got, err, tc.want)
			}
			if svc.asked != tc.wantAsked {
				t.Errorf("asked about the key %d times, want %d", svc.asked, tc.wantAsked)
			}
			if tc.want == lottery.CodeRateLimited && rec.Header().Get("Retry-After") == "" {
				t.Error("a refused request has no Retry-After")
			}
			if !tc.proof {
				return
			}
			// Another request (another key and body) presents the same solution.
			err = g.ClaimProof(context.Background(), mustVerify(t, gt, w.Proof), "another request")
			if claimed := err != nil; claimed != tc.spent {
				t.Errorf("proof spent = %v (%v), want %v", claimed, err, tc.spent)
			}
		})
	}
}

// TestRedisDownFailClosed: with the guard failing closed and Redis
// unreachable, every gate answers the coded unavailable (503), never
// rate_limited.
func TestRedisDownFailClosed(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g := guardtest.New(t, log, guardtest.Options{RedisURL: "redis://127.0.0.1:1/0"})
	gt := gate.New(g, &service{}, &service{})
	for name, run := range map[string]func(c *gin.Context) error{
		"challenge":   gt.Limit,
		"code":        func(c *gin.Context) error { _, err := gt.Code(c, "a@example.com"); return err },
		"runner":      func(c *gin.Context) error { return gt.Runner(c, gate.Write{Email: "a@example.com", Proof: proof(t)}) },
		"staff login": func(c *gin.Context) error { return gt.StaffLogin(c, "org@example.com", gt.Client(c)) },
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := request()
			if got := codeOrEmpty(run(c)); got != lottery.CodeUnavailable {
				t.Errorf("code %q, want unavailable", got)
			}
		})
	}
}

func mustVerify(t *testing.T, gt *gate.Gate, payload string) pow.Solved {
	t.Helper()
	s, err := gt.Guard.VerifyProof(payload, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func codeOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return lottery.CodeOf(err)
}

// TestRunnerUnproven: the web form sent without a proof of work (JavaScript
// off) is counted under the same budgets and asked about its key, so it is
// refused past them like any apply.
func TestRunnerUnproven(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	oneEach := append([]abredis.Rule(nil), guardtest.Generous...) // one request a minute per IP
	oneEach[0] = abredis.Rule{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: 1, Period: time.Minute}}
	g := guardtest.New(t, log, guardtest.Options{Rules: oneEach})
	svc := &service{}
	gt := gate.New(g, svc, svc)
	w := gate.Write{Email: "a@example.com", IdempotencyKey: "k", Body: []byte("{}")}
	c, _ := request()
	if err := gt.RunnerUnproven(c, w); err != nil || svc.asked != 1 {
		t.Fatalf("first: %v, asked %d", err, svc.asked)
	}
	c, rec := request()
	if got := codeOrEmpty(gt.RunnerUnproven(c, w)); got != lottery.CodeRateLimited || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("past the IP budget: %q", got)
	}
	if svc.asked != 1 {
		t.Errorf("a refused request was asked about its key")
	}
	svc.conflict = lottery.ErrIdempotencyMismatch
	gt = gate.New(guardtest.New(t, log, guardtest.Options{}), svc, svc)
	c, _ = request()
	if got := codeOrEmpty(gt.RunnerUnproven(c, w)); got != lottery.CodeIdempotencyMismatch {
		t.Errorf("key reused: %q", got)
	}
}
