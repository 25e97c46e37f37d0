package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/readcache"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
)

// Results day from memory (issue 16): the status page is the page a
// runner's result mail links to, so the most-hit personal page. A plain
// visit (the query only the token, and perhaps lang) is rendered once per
// entry, language and site origin into the API's read cache (Deps.Views),
// under the entry's and its event's tags exactly as the API's status view:
// a commit to the entry, its offer, payment, charge, appeal or event drops
// it on every process (migration 00041), and so does a runner's write
// through these pages (syncViews announces the entry's tag). The receipt token is checked
// before the cache is asked, and it is the entry's only token (an HMAC of
// its id), so the id keys the page.
//
// What no commit announces bounds the TTL: the clock (an offer's hold,
// the dispute window, the deferral and fee deadlines: the TTL is cut to the
// nearest) and the rows the status page reads that migration 00041 does not
// watch (disputes and their answers, transfers, deferrals, refunds). A
// runner's own write through these pages drops the entry's page on every
// process before the answer leaves (syncViews); another party's (a
// reviewer's answer, a refund settling) shows within statusPageTTL, or
// pendingPageTTL while the page waits on one. The offer countdown is the browser's (signals.js counts
// from the absolute time in the page), so a cached page never shows an old
// "time left".

// statusPageTTL bounds a cached status page.
const statusPageTTL = 30 * time.Second

// pendingPageTTL bounds a page that waits on a change no commit announces.
const pendingPageTTL = 5 * time.Second

// cachedEntry answers a plain visit of the status page from the read cache
// and reports whether it did; false leaves the request to showEntry (no
// cache, a query with flags, a wrong token: its 404 is showEntry's).
func (p *pages) cachedEntry(c *gin.Context) bool {
	if p.Views == nil || p.PageCacheTTL <= 0 || c.Request.Method != http.MethodGet || !plainStatusQuery(c.Request.URL.Query()) {
		return false
	}
	id, tok := c.Param("id"), c.Query("token")
	if id != strings.ToLower(id) || !p.Registration.ReceiptValid(id, tok) {
		return false
	}
	lang := p.lang(c) // before the cache: ?lang= sets the visitor's cookie
	r := c.Request
	origin := p.Site.Origin(r).String() // the page's absolute status link
	key := "entrypage:" + id + "|" + lang + "|" + origin
	// With PostgreSQL unreachable an expired page still answers, as the
	// API's status does: nothing can have been committed meanwhile.
	v, _, err := p.Views.Get(r.Context(), key, p.fillEntryPage(r, id, tok, lang), dependencyDown)
	if err != nil {
		p.fail(c, err)
		return true
	}
	pageHeaders(c)
	readcache.Write(c.Writer, r, v, "text/html; charset=utf-8", readcache.Personal, "Accept-Language, Cookie")
	return true
}

// dependencyDown: a fill failed because a dependency could not be reached.
func dependencyDown(err error) bool { return lottery.CodeOf(err) == lottery.CodeUnavailable }

// plainStatusQuery: the query is the token and at most the language, so
// the page is the same for every visit in that language (any flag, such as
// new=1 or saved=1, changes what it says).
func plainStatusQuery(q url.Values) bool {
	for k, vs := range q {
		if len(vs) != 1 || (k != "token" && k != "lang") {
			return false
		}
	}
	return true
}

// fillEntryPage renders the page on a request of its own: the fill is
// shared by every visitor waiting on it and may outlive r. It keeps only
// what the key names (the path, the token, the origin's headers).
func (p *pages) fillEntryPage(r *http.Request, id, tok, lang string) readcache.Fill {
	own := &http.Request{Method: http.MethodGet, Host: r.Host, RemoteAddr: r.RemoteAddr, TLS: r.TLS, Header: http.Header{},
		URL: &url.URL{Path: r.URL.Path, RawQuery: url.Values{"token": {tok}}.Encode()}}
	for _, h := range []string{"X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded"} {
		if v := r.Header.Values(h); len(v) > 0 {
			own.Header[h] = append([]string(nil), v...)
		}
	}
	path := r.URL.Path
	return func(ctx context.Context) (readcache.View, error) {
		fc := &gin.Context{Request: own.WithContext(ctx), Params: gin.Params{{Key: "id", Value: id}}}
		ev, err := p.Registration.EntryStatus(ctx, id, tok)
		if err != nil {
			return readcache.View{}, err
		}
		page, err := p.entryPageOf(fc, ev, tok, "", nil)
		if err != nil {
			return readcache.View{}, err
		}
		var buf bytes.Buffer
		to := otherLang(lang)
		vw := view{Lang: lang, T: translator(lang), Path: path, Title: ev.Event.Name, Dev: p.Dev, Data: page,
			Switch: langSwitch{Code: to, Label: translator(lang)("lang.other"), Href: langHref(path, url.Values{"token": {tok}}, to)}}
		if err := p.tpl["entry"].Execute(&buf, vw); err != nil {
			return readcache.View{}, fmt.Errorf("render entry: %w", err)
		}
		return readcache.NewView(buf.Bytes(), entryPageTTL(page, p.Svc.Now()),
			readcache.EntryTag(id), readcache.EventTag(ev.Event.Slug)), nil
	}
}

// entryPageTTL is how long page may be served from memory: statusPageTTL,
// or pendingPageTTL while it waits on an unannounced change, cut to the
// nearest deadline it shows still ahead.
func entryPageTTL(page entryPage, now time.Time) time.Duration {
	ttl := statusPageTTL
	if pageWaits(page) {
		ttl = pendingPageTTL
	}
	deadlines := []time.Time{page.Dispute.RevealNotBefore, page.Defer.Deadline, page.Defer.PayBy}
	if o := page.View.Offer; o != nil && o.Status == lottery.OfferPending {
		deadlines = append(deadlines, o.ExpiresAt)
	}
	if cc := page.CardCharge; cc != nil {
		deadlines = append(deadlines, cc.Deadline)
	}
	for _, d := range deadlines {
		if left := d.Sub(now); left > 0 && left < ttl {
			ttl = max(left, time.Second)
		}
	}
	return ttl
}

// pageWaits: the page shows something another party settles in a row
// migration 00041 does not watch (a dispute's answer, a refund).
func pageWaits(page entryPage) bool {
	for _, d := range page.Dispute.Disputes {
		if d.AnsweredAt == nil {
			return true
		}
	}
	return page.GiveBack.State == offers.RefundPending || page.Transfer.Open != nil || page.Defer.Pending
}

// syncViews, after a page's write that went through (a redirect or a page,
// not an error), drops the entry's status page on every process when the
// write was on an entry (/entries/:id/…: its disputes, transfers,
// deferrals and refunds are rows no trigger announces), then waits until
// this process's read cache shows every commit and announcement so far,
// so the page the runner is sent back to is never the one from before. A redirect answer is buffered until the
// handler returns: the browser cannot follow it before the sync.
func (p *pages) syncViews(c *gin.Context) {
	c.Next()
	if p.Views == nil || !pageWriteSyncs(c.Request.Method, c.FullPath()) || c.Writer.Status() >= 400 {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 250*time.Millisecond)
	defer cancel()
	if strings.HasPrefix(c.FullPath(), "/entries/:id/") {
		tag := readcache.EntryTag(strings.ToLower(c.Param("id")))
		p.Views.Invalidate(tag)
		if p.ViewAnnounce != nil {
			if err := p.ViewAnnounce(ctx, tag); err != nil {
				p.Log.WarnContext(ctx, "a page write not announced; other processes show it within the status page's TTL", "err", err)
			}
		}
	}
	if p.ViewSync != nil {
		if err := p.ViewSync(ctx); err != nil {
			p.Log.WarnContext(ctx, "views not synced after a page write; other reads catch up within the feed's delay", "err", err)
		}
	}
}

// pageWriteSyncs: a page's write that may change what a cached page shows;
// reads, and the writes that only create rows no page holds yet (codes,
// applications, waiting-room joins, language switches, sign-ins), skip it.
func pageWriteSyncs(method, route string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	switch route {
	case "/events/:slug/apply/code", "/events/:slug/apply", "/events/:slug/apply/lang", "/events/:slug/queue",
		"/events/:slug/queue/lang", "/events/:slug/apply/card", "/me/code", "/me/entries", "/me/lang", "/staff/login", "/staff/logout":
		return false
	}
	return true
}
