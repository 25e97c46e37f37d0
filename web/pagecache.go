package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/readcache"
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
	view readcache.View // the bytes and their ETag, hashed once per render
	at   time.Time
}

// maxCachedPages bounds the cache: keys come from slugs and a few query
// values, and a flood of made-up ones must not grow memory.
const maxCachedPages = 4096

func newPageCache(ttl time.Duration) *pageCache {
	return &pageCache{ttl: ttl, m: map[string]renderedPage{}}
}

// get returns a fresh page for key.
func (pc *pageCache) get(key string, now time.Time) (readcache.View, bool) {
	if pc == nil || pc.ttl <= 0 {
		return readcache.View{}, false
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	r, ok := pc.m[key]
	if !ok || now.Sub(r.at) >= pc.ttl {
		return readcache.View{}, false
	}
	return r.view, true
}

func (pc *pageCache) put(key string, v readcache.View, now time.Time) {
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
	pc.m[key] = renderedPage{view: v, at: now}
}

// sendPage sends a page every visitor with the same language sees alike,
// with its ETag (304 to a browser or CDN that holds it). A CDN may keep it
// briefly (issue 16: results day), unless this answer sets a cookie (the
// device or language cookie): that one is the visitor's own. The body
// follows the language, chosen by Accept-Language or the sl_lang cookie.
func sendPage(c *gin.Context, v readcache.View) {
	pageHeaders(c)
	cc := readcache.PublicShort
	if len(c.Writer.Header()["Set-Cookie"]) > 0 {
		cc = readcache.Personal
	}
	readcache.Write(c.Writer, c.Request, v, "text/html; charset=utf-8", cc, "Accept-Language, Cookie")
}

// renderCached renders a page that every visitor with the same key sees
// alike, keeps it, and sends it.
func (p *pages) renderCached(c *gin.Context, key, lang, page, title string, data any) {
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
	pv := readcache.NewView(buf.Bytes(), 0)
	if p.cache != nil && p.cache.ttl > 0 {
		p.cache.put(key, pv, time.Now())
	}
	sendPage(c, pv)
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
