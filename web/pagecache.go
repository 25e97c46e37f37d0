package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// pageCache keeps rendered public pages (the same for every visitor in a
// language) for a moment: in a rush thousands of runners open the same
// event page each second, and executing its templates (reflection on every
// label and number) costs far more than the cached event read it shows.
// The page may be as stale as the TTL, which stays within the event
// cache's own staleness.
type pageCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]renderedPage
}

type renderedPage struct {
	body []byte
	at   time.Time
}

// maxCachedPages bounds the cache: keys come from slugs and a few query
// values, and a flood of made-up ones must not grow memory.
const maxCachedPages = 4096

func newPageCache(ttl time.Duration) *pageCache {
	return &pageCache{ttl: ttl, m: map[string]renderedPage{}}
}

// get returns a fresh page for key.
func (pc *pageCache) get(key string, now time.Time) ([]byte, bool) {
	if pc == nil || pc.ttl <= 0 {
		return nil, false
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	r, ok := pc.m[key]
	if !ok || now.Sub(r.at) >= pc.ttl {
		return nil, false
	}
	return r.body, true
}

func (pc *pageCache) put(key string, body []byte, now time.Time) {
	if pc == nil || pc.ttl <= 0 {
		return
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if len(pc.m) >= maxCachedPages {
		for k, r := range pc.m { // drop the stale ones; if none is, start over
			if now.Sub(r.at) >= pc.ttl {
				delete(pc.m, k)
			}
		}
		if len(pc.m) >= maxCachedPages {
			clear(pc.m)
		}
	}
	pc.m[key] = renderedPage{body: body, at: now}
}

// sendPage sends a rendered page.
func sendPage(c *gin.Context, body []byte) {
	pageHeaders(c)
	c.Data(http.StatusOK, "text/html; charset=utf-8", body)
}

// renderCached renders a page that every visitor with the same key sees
// alike, keeps it, and sends it.
func (p *pages) renderCached(c *gin.Context, key, lang, page, title string, data any) {
	if p.cache == nil || p.cache.ttl <= 0 {
		p.render(c, http.StatusOK, page, title, data, nil)
		return
	}
	var buf bytes.Buffer
	// The switch keeps only the query the page is keyed by (the chosen
	// group): a visitor's other query must not reach the shared copy.
	keep := url.Values{}
	if g := c.Query("subqueue"); g != "" && strings.Contains(key, "|"+g) {
		keep.Set("subqueue", g)
	}
	to := otherLang(lang)
	v := view{Lang: lang, T: translator(lang), Path: c.Request.URL.Path, Title: title, Dev: p.Dev, Data: data,
		Switch: langSwitch{Code: to, Label: translator(lang)("lang.other"), Href: langHref(c.Request.URL.Path, keep, to)}}
	if err := p.tpl[page].Execute(&buf, v); err != nil {
		p.Log.Error("render", "page", page, "err", err)
		c.Status(http.StatusInternalServerError)
		return
	}
	p.cache.put(key, buf.Bytes(), time.Now())
	sendPage(c, buf.Bytes())
}

// pageHeaders are every page's own headers.
func pageHeaders(c *gin.Context) {
	c.Header("X-Frame-Options", "DENY")
	c.Header("Referrer-Policy", "no-referrer") // status links carry the receipt token
}

// locations caches time zones by name: time.LoadLocation reads the zone
// file from disk on every call, and pages format several times each.
var locations sync.Map // string → *time.Location

func location(tz string) *time.Location {
	if l, ok := locations.Load(tz); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(tz)
	if err != nil {
		l = time.UTC
	}
	locations.Store(tz, l)
	return l
}
