package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/readcache"
)

// Public pages (the event page, the results page) are the same for every
// visitor in a language: in a rush thousands of runners open the same one
// each second, and executing its templates (reflection on every label and
// number) costs far more than the reads it shows. So the rendered bytes are
// kept (internal/readcache: bounded, one render for all the visitors
// waiting on a cold page, an ETag hashed once) for PageCacheTTL, and
// dropped at once when the event changes (Deps.Views, fed by the database's
// change announcements). The page may be as stale as the TTL, which stays
// within the event cache's own.

// maxCachedPages bounds a process's own page cache (without Deps.Views):
// keys come from slugs and a few query values, and a flood of made-up ones
// must not grow memory.
const maxCachedPages = 4096

// newPageCache is the page cache when Deps.Views is nil: TTL only.
func newPageCache(ttl time.Duration) *readcache.Cache {
	if ttl <= 0 {
		return nil
	}
	return readcache.New(readcache.Config{TTL: ttl, MaxItems: maxCachedPages, StaleIfError: -1})
}

// publicPage answers a public page keyed by key (its language and the query
// it depends on are in the key), rendering it with build's data on a miss.
// build must not touch c: the render is shared by every visitor waiting.
// keep is the query the language switch keeps.
func (p *pages) publicPage(c *gin.Context, key, slug, lang, page string, keep url.Values,
	build func(ctx context.Context) (title string, data any, err error)) {
	path := c.Request.URL.Path
	fill := func(ctx context.Context) (readcache.View, error) {
		title, data, err := build(ctx)
		if err != nil {
			return readcache.View{}, err
		}
		var buf bytes.Buffer
		to := otherLang(lang)
		v := view{Lang: lang, T: translator(lang), Path: path, Title: title, Dev: p.Dev, Data: data,
			Switch: langSwitch{Code: to, Label: translator(lang)("lang.other"), Href: langHref(path, keep, to)}}
		if err := p.tpl[page].Execute(&buf, v); err != nil {
			return readcache.View{}, fmt.Errorf("render %s: %w", page, err)
		}
		return readcache.NewView(buf.Bytes(), p.PageCacheTTL, readcache.EventTag(slug)), nil
	}
	// A browser (or CDN) that takes gzip gets the page compressed once per
	// render: the results page lists hundreds of ids (~65 KB, ~10 KB
	// gzipped), and sending it raw made the bytes, not the render, the cost.
	gz := acceptsGzip(c.Request)
	if gz {
		plain, plainKey := fill, "page:"+key
		fill = func(ctx context.Context) (readcache.View, error) {
			var v readcache.View
			var err error
			if p.cache == nil {
				v, err = plain(ctx)
			} else {
				v, _, err = p.cache.Get(ctx, plainKey, plain, nil)
			}
			if err != nil {
				return readcache.View{}, err
			}
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
			_, _ = zw.Write(v.Body)
			if err := zw.Close(); err != nil {
				return readcache.View{}, fmt.Errorf("gzip %s: %w", page, err)
			}
			return readcache.NewView(buf.Bytes(), v.TTL, v.Tags...), nil
		}
		key += "|gzip"
	}
	var pv readcache.View
	var err error
	if p.cache == nil {
		pv, err = fill(c.Request.Context())
	} else {
		pv, _, err = p.cache.Get(c.Request.Context(), "page:"+key, fill, nil)
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	if gz {
		c.Header("Content-Encoding", "gzip")
	}
	sendPage(c, pv)
}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip
// without refusing it (q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
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
	readcache.Write(c.Writer, c.Request, v, "text/html; charset=utf-8", cc, "Accept-Language, Cookie, Accept-Encoding")
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
