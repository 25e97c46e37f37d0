package readcache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time      { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Add(d time.Duration) { f.mu.Lock(); f.t = f.t.Add(d); f.mu.Unlock() }

func newTestCache(cfg Config) (*Cache, *fakeClock) {
	clk := &fakeClock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
	cfg.Now = clk.Now
	return New(cfg), clk
}

// counting returns a fill that counts its runs and answers body.
func counting(n *atomic.Int64, body string, tags ...string) Fill {
	return func(context.Context) (View, error) {
		n.Add(1)
		return NewView([]byte(body), 0, tags...), nil
	}
}

func get(t *testing.T, c *Cache, key string, fill Fill) (View, Source) {
	t.Helper()
	v, src, err := c.Get(context.Background(), key, fill, nil)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return v, src
}

func TestHitAfterFill(t *testing.T) {
	c, _ := newTestCache(Config{})
	var n atomic.Int64
	v1, s1 := get(t, c, "k", counting(&n, "a"))
	v2, s2 := get(t, c, "k", counting(&n, "b"))
	if s1 != Miss || s2 != Hit || string(v2.Body) != "a" || v1.ETag != v2.ETag || n.Load() != 1 {
		t.Fatalf("got %v %v %q fills=%d, want miss then hit of a, one fill", s1, s2, v2.Body, n.Load())
	}
}

func TestTTL(t *testing.T) {
	c, clk := newTestCache(Config{TTL: 30 * time.Second})
	var n atomic.Int64
	for _, tc := range []struct {
		name     string
		viewTTL  time.Duration
		advance  time.Duration
		wantFill int64
	}{
		{"default TTL not reached", 0, 29 * time.Second, 1},
		{"default TTL reached", 0, 30 * time.Second, 2},
		{"view TTL shorter", 2 * time.Second, 2 * time.Second, 2},
		{"view TTL longer is capped", time.Hour, 31 * time.Second, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n.Store(0)
			key := tc.name
			fill := func(context.Context) (View, error) { n.Add(1); return NewView([]byte("x"), tc.viewTTL), nil }
			get(t, c, key, fill)
			clk.Add(tc.advance)
			get(t, c, key, fill)
			if got := n.Load(); got != tc.wantFill {
				t.Errorf("fills %d, want %d", got, tc.wantFill)
			}
		})
	}
}

func TestInvalidateByTag(t *testing.T) {
	c, _ := newTestCache(Config{})
	var n atomic.Int64
	get(t, c, "status:1|en", counting(&n, "1en", EntryTag("1"), EventTag("spring")))
	get(t, c, "status:1|ko", counting(&n, "1ko", EntryTag("1"), EventTag("spring")))
	get(t, c, "status:2|en", counting(&n, "2en", EntryTag("2"), EventTag("spring")))
	get(t, c, "event:autumn", counting(&n, "autumn", EventTag("autumn")))

	c.Invalidate(EntryTag("1"))
	for _, tc := range []struct {
		key  string
		want Source
	}{{"status:1|en", Miss}, {"status:1|ko", Miss}, {"status:2|en", Hit}, {"event:autumn", Hit}} {
		if _, got := get(t, c, tc.key, counting(&n, "new")); got != tc.want {
			t.Errorf("after entry change, %s: got %v, want %v", tc.key, got, tc.want)
		}
	}
	c.Invalidate(EventTag("spring"))
	if _, got := get(t, c, "status:2|en", counting(&n, "new", EventTag("spring"))); got != Miss {
		t.Errorf("after event change: got %v, want miss", got)
	}
	c.Flush()
	if _, got := get(t, c, "event:autumn", counting(&n, "new")); got != Miss {
		t.Errorf("after flush: got %v, want miss", got)
	}
}

// TestFillRacingAChange: a fill that read before a change and finishes
// after it answers its waiters but is not kept.
func TestFillRacingAChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *Cache)
		kept   bool
	}{
		{"own entry changed", func(c *Cache) { c.Invalidate(EntryTag("1")) }, false},
		{"its event changed", func(c *Cache) { c.Invalidate(EventTag("spring")) }, false},
		{"flush", func(c *Cache) { c.Flush() }, false},
		{"another entry changed", func(c *Cache) { c.Invalidate(EntryTag("2")) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestCache(Config{})
			started, release := make(chan struct{}), make(chan struct{})
			fill := func(context.Context) (View, error) {
				close(started)
				<-release
				return NewView([]byte("old"), 0, EntryTag("1"), EventTag("spring")), nil
			}
			done := make(chan struct{})
			go func() { defer close(done); get(t, c, "status:1", fill) }()
			<-started
			tc.change(c)
			close(release)
			<-done
			var n atomic.Int64
			_, src := get(t, c, "status:1", counting(&n, "new"))
			if got := src == Hit; got != tc.kept {
				t.Errorf("kept %v, want %v", got, tc.kept)
			}
		})
	}
}

func TestSingleFlight(t *testing.T) {
	c, _ := newTestCache(Config{})
	var n atomic.Int64
	release := make(chan struct{})
	fill := func(context.Context) (View, error) {
		n.Add(1)
		<-release
		return NewView([]byte("x"), 0), nil
	}
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() { defer wg.Done(); get(t, c, "cold", fill) }()
	}
	time.Sleep(50 * time.Millisecond) // let them all queue on the one fill
	close(release)
	wg.Wait()
	if got := n.Load(); got != 1 {
		t.Errorf("fills %d for 200 concurrent reads of a cold key, want 1", got)
	}
}

// TestFillSurvivesCallerCancel: the first caller giving up does not fail
// the others waiting on its fill.
func TestFillSurvivesCallerCancel(t *testing.T) {
	c, _ := newTestCache(Config{})
	release := make(chan struct{})
	fill := func(ctx context.Context) (View, error) {
		<-release
		return NewView([]byte("x"), 0), ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error)
	go func() { _, _, err := c.Get(ctx, "k", fill, nil); first <- err }()
	time.Sleep(10 * time.Millisecond)
	second := make(chan error)
	go func() { _, _, err := c.Get(context.Background(), "k", fill, nil); second <- err }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("first: %v, want canceled", err)
	}
	close(release)
	if err := <-second; err != nil {
		t.Errorf("second: %v, want the fill's view", err)
	}
}

func TestSizeBound(t *testing.T) {
	body := make([]byte, 1000)
	c, _ := newTestCache(Config{MaxBytes: 20 * (1000 + itemOverhead + 8), MaxItems: 1000})
	var n atomic.Int64
	for i := range 100 {
		get(t, c, fmt.Sprintf("k%03d", i), counting(&n, string(body)))
	}
	st := c.Stats()
	if st.Bytes > 20*(1000+itemOverhead+8) || st.Items > 20 || st.Items < 15 {
		t.Errorf("stats %+v, want at most 20 items within the byte bound", st)
	}
	if _, src := get(t, c, "k099", counting(&n, "x")); src != Hit {
		t.Errorf("the newest view was evicted")
	}
	if _, src := get(t, c, "k000", counting(&n, "x")); src != Miss {
		t.Errorf("the oldest view was kept")
	}

	c2, _ := newTestCache(Config{MaxItems: 10})
	for i := range 50 {
		get(t, c2, fmt.Sprint(i), counting(&n, "x", EntryTag(fmt.Sprint(i))))
	}
	if st := c2.Stats(); st.Items != 10 {
		t.Errorf("items %d, want 10", st.Items)
	}
	if len(c2.byTag) != 10 {
		t.Errorf("tag index holds %d tags, want 10 (evicted views leave it)", len(c2.byTag))
	}
}

func TestStaleIfError(t *testing.T) {
	down := errors.New("postgres down")
	isDown := func(err error) bool { return errors.Is(err, down) }
	failing := func(context.Context) (View, error) { return View{}, down }
	for _, tc := range []struct {
		name    string
		advance time.Duration
		dropped bool
		wantSrc Source
		wantErr bool
	}{
		{"expired, within the stale window", 40 * time.Second, false, Stale, false},
		{"beyond the stale window", 30*time.Second + 6*time.Minute, false, Miss, true},
		{"dropped by a change", 40 * time.Second, true, Miss, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, clk := newTestCache(Config{TTL: 30 * time.Second, StaleIfError: 5 * time.Minute})
			var n atomic.Int64
			get(t, c, "k", counting(&n, "v", EntryTag("1")))
			if tc.dropped {
				c.Invalidate(EntryTag("1"))
			}
			clk.Add(tc.advance)
			_, src, err := c.Get(context.Background(), "k", failing, isDown)
			if src != tc.wantSrc || (err != nil) != tc.wantErr {
				t.Errorf("got %v, %v; want %v, error %v", src, err, tc.wantSrc, tc.wantErr)
			}
		})
	}
}

func TestETagAnd304(t *testing.T) {
	v := NewView([]byte(`{"a":1}`), 0)
	if v.ETag == NewView([]byte(`{"a":2}`), 0).ETag || v.ETag != NewView([]byte(`{"a":1}`), 0).ETag {
		t.Fatal("ETag must follow the bytes")
	}
	for _, tc := range []struct {
		name, inm string
		want      int
	}{
		{"no validator", "", http.StatusOK},
		{"same tag", v.ETag, http.StatusNotModified},
		{"weak form of it", "W/" + v.ETag, http.StatusNotModified},
		{"in a list", `"other", ` + v.ETag, http.StatusNotModified},
		{"star", "*", http.StatusNotModified},
		{"another tag", `"other"`, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.inm != "" {
				r.Header.Set("If-None-Match", tc.inm)
			}
			w := httptest.NewRecorder()
			Write(w, r, v, "application/json", Personal)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			if w.Header().Get("ETag") != v.ETag || w.Header().Get("Cache-Control") != Personal {
				t.Errorf("headers %v", w.Header())
			}
			if tc.want == http.StatusNotModified && w.Body.Len() != 0 {
				t.Errorf("304 with a body")
			}
			if tc.want == http.StatusOK && w.Body.String() != `{"a":1}` {
				t.Errorf("body %q", w.Body.String())
			}
		})
	}
}
