package web

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/startline/startline/internal/readcache"
)

// TestPageCache: the pages' own cache (without Deps.Views) is off at TTL 0
// and bounded however many keys are asked (TTL and LRU rules:
// internal/readcache).
func TestPageCache(t *testing.T) {
	if newPageCache(0) != nil {
		t.Error("a page cache with no TTL")
	}
	pc := newPageCache(time.Second)
	fill := func(context.Context) (readcache.View, error) { return readcache.NewView([]byte("x"), 0), nil }
	for i := 0; i < 3*maxCachedPages; i++ {
		if _, _, err := pc.Get(context.Background(), fmt.Sprint(i), fill, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := pc.Stats().Items; n > maxCachedPages {
		t.Errorf("%d pages kept, bound %d", n, maxCachedPages)
	}
}
