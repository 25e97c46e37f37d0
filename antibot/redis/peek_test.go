package redis

import (
	"context"
	"testing"
	"time"
)

// TestPeekSpendsNothing (issue 14, i14-login): Peek reports whether one
// more request fits without counting it, so a budget spent only by
// failures (staff logins) refuses exactly once Allow has spent it, until
// the window passes.
func TestPeekSpendsNothing(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix, Rule{Kind: KindStaffLogin, Rate: rate(3, 500*time.Millisecond)})
	key := Key{Kind: KindStaffLogin, Value: "192.0.2.1"}
	ctx := context.Background()
	peek := func(want bool) Result {
		t.Helper()
		res, err := l.Peek(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed != want {
			t.Fatalf("Peek: %+v, want allowed %v", res, want)
		}
		return res
	}
	for range 10 { // peeks alone never spend the budget
		peek(true)
	}
	for i := range 3 {
		peek(true)
		if res, err := l.Allow(ctx, key); err != nil || !res.Allowed {
			t.Fatalf("failure %d: %+v %v", i+1, res, err)
		}
	}
	res := peek(false)
	if res.RetryAfter <= 0 || res.RetryAfter > 500*time.Millisecond || res.Remaining != 0 {
		t.Errorf("refused peek: %+v", res)
	}
	time.Sleep(600 * time.Millisecond)
	peek(true)
}
