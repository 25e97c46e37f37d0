package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/startline/startline/internal/readcache"
)

func TestPageCache(t *testing.T) {
	t0 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	pc := newPageCache(time.Second)
	if _, ok := pc.get("a", t0); ok {
		t.Fatal("empty cache answered")
	}
	pc.put("a", readcache.NewView([]byte("page a"), 0), t0)
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {999 * time.Millisecond, true}, {time.Second, false}, {time.Hour, false}} {
		if _, ok := pc.get("a", t0.Add(tc.at)); ok != tc.want {
			t.Errorf("get after %v: %v, want %v", tc.at, ok, tc.want)
		}
	}
	// A flood of keys is bounded.
	for i := 0; i < 3*maxCachedPages; i++ {
		pc.put(fmt.Sprint(i), readcache.NewView([]byte("x"), 0), t0)
	}
	if n := len(pc.m); n > maxCachedPages {
		t.Errorf("%d pages kept, bound %d", n, maxCachedPages)
	}
	// Off when the TTL is 0.
	off := newPageCache(0)
	off.put("a", readcache.NewView([]byte("x"), 0), t0)
	if _, ok := off.get("a", t0); ok {
		t.Error("a cache with no TTL answered")
	}
}
