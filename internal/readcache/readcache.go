// Package readcache keeps encoded read views (JSON or HTML bytes, each with
// a strong ETag) in process memory so the results-day crowd is answered
// without PostgreSQL or a re-encode. It is bounded (LRU by bytes and by
// count), fills a cold key once however many requests wait on it
// (single flight), and drops views by tag when the data under them
// changes: PostgreSQL announces each committed change (lottery/postgres
// ListenViewChanges), so every process's cache learns of every writer's
// change, the worker's included. A TTL is the backstop if an announcement
// is lost; PostgreSQL stays the truth and every view can be rebuilt.
package readcache

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"time"
)

// Tags name what a view was built from; a change announces the same names.
const (
	entryTagPrefix = "e:" // one entry and what hangs off it (offer, payment, appeal, card)
	eventTagPrefix = "v:" // one event and its public views (draws, odds, results)
)

// EntryTag is the tag of everything read for one entry.
func EntryTag(entryID string) string { return entryTagPrefix + entryID }

// EventTag is the tag of everything read for one event (by slug).
func EventTag(slug string) string { return eventTagPrefix + slug }

// View is one encoded answer.
type View struct {
	Body []byte
	// ETag is the strong validator of Body, quoted ("…"), set by NewView.
	ETag string
	// Tags: a change to any of them drops the view (EntryTag, EventTag).
	Tags []string
	// TTL bounds how long the view is served without a change being
	// announced; zero takes the cache's default, and never beyond it.
	TTL time.Duration
}

// NewView wraps encoded bytes with their ETag (a SHA-256 prefix: equal
// bytes give equal tags in every process, so a 304 survives a refill or
// another node behind the load balancer).
func NewView(body []byte, ttl time.Duration, tags ...string) View {
	return View{Body: body, ETag: etagOf(body), Tags: tags, TTL: ttl}
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// Config bounds the cache; zero values take the defaults.
type Config struct {
	MaxBytes int           // total bytes of views kept (default 64 MiB)
	MaxItems int           // views kept (default 200,000)
	TTL      time.Duration // the longest a view is served (default 10 min)
	// StaleIfError is how long past its TTL a view may still answer when
	// the fill fails (PostgreSQL down): no change can be committed then.
	// A view dropped by a change is never served stale. Default 5 min.
	StaleIfError time.Duration
	// FillTimeout bounds one fill, which runs detached from the request
	// that started it so one client's cancel does not fail the others
	// waiting (default 5 s).
	FillTimeout time.Duration
	Now         func() time.Time // tests move time; default time.Now
}

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = 64 << 20
	}
	if c.MaxItems <= 0 {
		c.MaxItems = 200_000
	}
	if c.TTL <= 0 {
		c.TTL = 10 * time.Minute
	}
	if c.StaleIfError == 0 {
		c.StaleIfError = 5 * time.Minute
	}
	if c.FillTimeout <= 0 {
		c.FillTimeout = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Source says where an answer came from.
type Source int

// The sources of Get's answers.
const (
	Miss  Source = iota // filled now (this request or one it waited on)
	Hit                 // fresh in memory
	Stale               // past its TTL, the fill failed: served anyway
)

// itemOverhead approximates an item's bookkeeping bytes beside its body.
const itemOverhead = 256

type item struct {
	key     string
	view    View
	expires time.Time // served fresh until then
	keep    time.Time // kept (for StaleIfError) until then
	size    int
}

type call struct {
	done chan struct{}
	view View
	err  error
}

// invalidation is one recent drop, kept so a fill that read before it
// and finishes after it does not store what it read.
type invalidation struct {
	seq uint64
	tag string // "" drops everything
}

const recentInvalidations = 512

// Cache is the bounded view cache. Safe for concurrent use.
type Cache struct {
	cfg Config

	mu     sync.Mutex
	ll     *list.List               // front: most recently used
	items  map[string]*list.Element // key → *item
	byTag  map[string]map[*item]struct{}
	bytes  int
	calls  map[string]*call
	seq    uint64 // bumped by each invalidation
	recent [recentInvalidations]invalidation
	fills  uint64 // fills run, for tests and the benchmark notes
}

// New returns an empty cache.
func New(cfg Config) *Cache {
	return &Cache{cfg: cfg.withDefaults(), ll: list.New(), items: map[string]*list.Element{},
		byTag: map[string]map[*item]struct{}{}, calls: map[string]*call{}}
}

// Fill builds a view on a miss. Its error is returned to every waiter and
// never stored.
type Fill func(ctx context.Context) (View, error)

// Get answers key from memory, or runs fill once for all concurrent
// callers of a cold key and keeps the result. serveStale reports whether a
// fill error allows answering with an expired view (a dependency down);
// nil never does.
func (c *Cache) Get(ctx context.Context, key string, fill Fill, serveStale func(error) bool) (View, Source, error) {
	now := c.cfg.Now()
	c.mu.Lock()
	var stale *item
	if el, ok := c.items[key]; ok {
		it := el.Value.(*item)
		if now.Before(it.expires) {
			c.ll.MoveToFront(el)
			v := it.view
			c.mu.Unlock()
			return v, Hit, nil
		}
		if now.Before(it.keep) {
			stale = it
		} else {
			c.removeLocked(el)
		}
	}
	cl, running := c.calls[key]
	if !running {
		cl = &call{done: make(chan struct{})}
		c.calls[key] = cl
		c.fills++
		go c.run(ctx, key, cl, fill, c.seq)
	}
	var staleView View
	if stale != nil {
		staleView = stale.view
	}
	c.mu.Unlock()

	select {
	case <-cl.done:
	case <-ctx.Done():
		return View{}, Miss, ctx.Err()
	}
	if cl.err != nil {
		if stale != nil && serveStale != nil && serveStale(cl.err) {
			return staleView, Stale, nil
		}
		return View{}, Miss, cl.err
	}
	return cl.view, Miss, nil
}

// run fills key detached from the caller's cancel and stores the view
// unless a change it may have missed was announced meanwhile.
func (c *Cache) run(ctx context.Context, key string, cl *call, fill Fill, startSeq uint64) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.FillTimeout)
	defer cancel()
	v, err := fill(fctx)
	if err == nil && v.ETag == "" {
		v.ETag = etagOf(v.Body)
	}
	cl.view, cl.err = v, err
	c.mu.Lock()
	delete(c.calls, key)
	if err == nil && !c.changedSinceLocked(startSeq, v.Tags) {
		c.storeLocked(key, v)
	}
	c.mu.Unlock()
	close(cl.done)
}

// changedSinceLocked reports whether an invalidation after seq touched one
// of tags (or everything); when the record of them no longer reaches back
// to seq it assumes so.
func (c *Cache) changedSinceLocked(seq uint64, tags []string) bool {
	if c.seq == seq {
		return false
	}
	if c.seq-seq > recentInvalidations {
		return true
	}
	for s := seq + 1; s <= c.seq; s++ {
		inv := c.recent[s%recentInvalidations]
		if inv.tag == "" {
			return true
		}
		for _, t := range tags {
			if t == inv.tag {
				return true
			}
		}
	}
	return false
}

func (c *Cache) storeLocked(key string, v View) {
	size := len(v.Body) + len(key) + itemOverhead
	if size > c.cfg.MaxBytes/8 { // one view may not push out the rest
		return
	}
	if el, ok := c.items[key]; ok {
		c.removeLocked(el)
	}
	ttl := c.cfg.TTL
	if v.TTL > 0 && v.TTL < ttl {
		ttl = v.TTL
	}
	now := c.cfg.Now()
	it := &item{key: key, view: v, expires: now.Add(ttl), keep: now.Add(ttl + c.cfg.StaleIfError), size: size}
	c.items[key] = c.ll.PushFront(it)
	c.bytes += size
	for _, t := range v.Tags {
		set := c.byTag[t]
		if set == nil {
			set = map[*item]struct{}{}
			c.byTag[t] = set
		}
		set[it] = struct{}{}
	}
	for c.bytes > c.cfg.MaxBytes || len(c.items) > c.cfg.MaxItems {
		c.removeLocked(c.ll.Back())
	}
}

func (c *Cache) removeLocked(el *list.Element) {
	it := el.Value.(*item)
	c.ll.Remove(el)
	delete(c.items, it.key)
	c.bytes -= it.size
	for _, t := range it.view.Tags {
		if set := c.byTag[t]; set != nil {
			delete(set, it)
			if len(set) == 0 {
				delete(c.byTag, t)
			}
		}
	}
}

// Invalidate drops every view tagged tag, and keeps any fill running now
// from storing a view with it.
func (c *Cache) Invalidate(tag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.noteLocked(tag)
	for it := range c.byTag[tag] {
		if el, ok := c.items[it.key]; ok && el.Value.(*item) == it {
			c.removeLocked(el)
		}
	}
	delete(c.byTag, tag)
}

// Flush drops every view: after the change feed reconnects, announcements
// may have been lost.
func (c *Cache) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.noteLocked("")
	c.ll.Init()
	clear(c.items)
	clear(c.byTag)
	c.bytes = 0
}

func (c *Cache) noteLocked(tag string) {
	c.seq++
	c.recent[c.seq%recentInvalidations] = invalidation{seq: c.seq, tag: tag}
}

// Stats is the cache's size, for tests and benchmark notes.
type Stats struct {
	Items, Bytes int
	Fills        uint64
}

// Stats reports the cache's size and fills so far.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Items: len(c.items), Bytes: c.bytes, Fills: c.fills}
}

// EventOfTag returns the slug an event tag names.
func EventOfTag(tag string) (string, bool) { return strings.CutPrefix(tag, eventTagPrefix) }
