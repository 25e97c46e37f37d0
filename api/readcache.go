package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/readcache"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
)

// Results day from memory (issue 16): the event, its draws and artifacts,
// and each entry's status are encoded once and answered from the process's
// read cache (Deps.Views) with a strong ETag (304 on If-None-Match) until
// the database announces a change under them (migration 00041) or their
// TTL runs out. Without a cache (Deps.Views nil) they are built per request.

// publicViewTTL bounds the public views: their phase follows the clock
// (open, closed, reveal due), which no commit announces.
const publicViewTTL = 2 * time.Second

const jsonType = "application/json; charset=utf-8"

// serveView answers c with the view under key, filling it on a miss.
// fill must not touch c: it may outlive the request (the fill is shared).
func (h *handler) serveView(c *gin.Context, key, cacheControl string, fill readcache.Fill) {
	if v, ok := h.view(c, key, fill); ok {
		readcache.Write(c.Writer, c.Request, v, jsonType, cacheControl)
	}
}

// view returns the view under key, or answers the error and returns false.
func (h *handler) view(c *gin.Context, key string, fill readcache.Fill) (readcache.View, bool) {
	var v readcache.View
	var err error
	if h.Views == nil {
		v, err = fill(c.Request.Context())
		v.ETag = readcache.NewView(v.Body, 0).ETag
	} else {
		v, _, err = h.Views.Get(c.Request.Context(), key, fill, dependencyDown)
	}
	if err != nil {
		writeError(c, h.Log, err)
		return readcache.View{}, false
	}
	return v, true
}

// dependencyDown: a fill failed because PostgreSQL (or Redis) could not be
// reached, so an expired view may still answer; nothing can have been
// committed meanwhile through the database we cannot reach.
func dependencyDown(err error) bool {
	var e *lottery.Error
	return errors.As(err, &e) && e.Code == lottery.CodeUnavailable
}

func encodeView(v any, ttl time.Duration, tags ...string) (readcache.View, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return readcache.View{}, fmt.Errorf("encode view: %w", err)
	}
	return readcache.NewView(b, ttl, tags...), nil
}

func (h *handler) getEvent(c *gin.Context) {
	slug := c.Param("slug")
	h.serveView(c, "event:"+slug, readcache.PublicShort, func(ctx context.Context) (readcache.View, error) {
		ev, err := h.Svc.PublicEvent(ctx, slug)
		if err != nil {
			return readcache.View{}, err
		}
		v := eventView(ev, h.Svc.Now())
		h.withOdds(ctx, &v, ev)
		return encodeView(v, publicViewTTL, readcache.EventTag(slug))
	})
}

func (h *handler) draws(c *gin.Context) {
	slug := c.Param("slug")
	h.serveView(c, "draws:"+slug, readcache.PublicShort, func(ctx context.Context) (readcache.View, error) {
		ev, ds, err := h.Draws.Draws(ctx, slug)
		if err != nil {
			return readcache.View{}, err
		}
		out := make([]drawJSON, 0, len(ds))
		for _, d := range ds {
			j := drawJSON{SubQueue: d.SubQueue, Status: d.Status, Capacity: d.Capacity, Entries: d.Entries,
				EntriesRoot: d.EntriesRoot, Commitment: ev.Commitment, BeaconRound: ev.BeaconRound, SeedSecret: ev.SeedSecret,
				Selected: d.Selected, Waitlisted: d.Waitlisted, ArtifactHash: d.ArtifactHash, DrawnAt: d.DrawnAt}
			if ev.RevealedAt != nil {
				j.Beacon = &ev.Beacon
			}
			if d.Status == lottery.DrawDrawn {
				j.ArtifactURL = "/api/v1/events/" + ev.Slug + "/draws/" + d.SubQueue + "/artifact.json"
			}
			out = append(out, j)
		}
		h.withDrawStats(ctx, out, ev, ds)
		return encodeView(gin.H{"event": ev.Slug, "status": ev.Phase(h.Svc.Now()), "commitment": ev.Commitment, "draws": out},
			publicViewTTL, readcache.EventTag(slug))
	})
}

// artifact answers a published draw's artifact, gzipped to clients that
// take it. It never changes once published: the cache keeps it its full
// TTL (an artifact too large for the cache's per-view bound is read each
// time).
func (h *handler) artifact(c *gin.Context) {
	slug, sub := c.Param("slug"), c.Param("subqueue")
	gz := strings.Contains(c.GetHeader("Accept-Encoding"), "gzip")
	key := "artifact:" + slug + "/" + sub
	if gz {
		key += "|gzip"
	}
	v, ok := h.view(c, key, func(ctx context.Context) (readcache.View, error) {
		b, err := h.Draws.Artifact(ctx, slug, sub)
		if err != nil {
			return readcache.View{}, err
		}
		if !gz {
			if b, err = draws.Gunzip(b); err != nil {
				return readcache.View{}, err
			}
		}
		return readcache.NewView(b, 0, readcache.EventTag(slug)), nil
	})
	if !ok {
		return
	}
	if gz {
		c.Header("Content-Encoding", "gzip")
	}
	// A published draw never changes.
	readcache.Write(c.Writer, c.Request, v, "application/json", "public, max-age=3600, immutable", "Accept-Encoding")
}

// statusTTL is how long an entry's status is served from memory without a
// change announced. Every change of the entry, its offer, payment, charge,
// appeal or event is announced (migration 00041), so the TTL only bounds
// what no commit announces: the clock. A pending offer's hold cuts it
// (statusViewTTL); the give-back refund quote's tiers are days apart, so
// five minutes late on one is not felt. Long enough that a results-day
// crowd of tens of thousands of entries, each polling every few seconds,
// is answered from memory after each entry's first read (docs/BENCHMARKS.md:
// with 30 s most reads of 20,000 entries were fills).
const statusTTL = 5 * time.Minute

// entryStatus answers the holder of an entry's receipt. The receipt token is
// checked before the cache is asked: a cached status is never answered
// without it. The view is personal: private, no-cache (a browser
// revalidates with If-None-Match and gets a 304; no shared cache stores it).
func (h *handler) entryStatus(c *gin.Context) {
	id, token := strings.ToLower(c.Param("id")), c.Query("token")
	if !h.Registration.ReceiptValid(id, token) {
		writeError(c, h.Log, lottery.ErrNotFound)
		return
	}
	h.serveView(c, "status:"+id, readcache.Personal, func(ctx context.Context) (readcache.View, error) {
		// The fill may outlive this request (others wait on it), so it
		// never touches c: the view helpers get a context of their own
		// holding only the token (a hit allocates none of this).
		fc := &gin.Context{Request: (&http.Request{Method: http.MethodGet,
			URL: &url.URL{RawQuery: url.Values{"token": {token}}.Encode()}}).WithContext(ctx)}
		v, err := h.Registration.EntryStatus(ctx, id, token)
		if err != nil {
			return readcache.View{}, err
		}
		out := h.entryView(fc, v)
		if err := h.withAppeal(fc, v, &out); err != nil {
			return readcache.View{}, err
		}
		return encodeView(out, statusViewTTL(v, h.Svc.Now()), readcache.EntryTag(id), readcache.EventTag(v.Event.Slug))
	})
}

// statusViewTTL is how long an entry's status may be served from memory: the
// default, cut to the moment a pending offer's hold runs out.
func statusViewTTL(v lottery.EntryView, now time.Time) time.Duration {
	ttl := statusTTL
	if v.Offer != nil && v.Offer.Status == lottery.OfferPending {
		if left := v.Offer.ExpiresAt.Sub(now); left < ttl {
			ttl = max(left, time.Second)
		}
	}
	return ttl
}

// syncViews, after a write request, waits (briefly) until the change feed
// has delivered every change committed so far, so the answer leaves only
// once this process's cached views show the write. A write answer is
// buffered by net/http until the handler returns (up to 2 KB; every write
// answer here is smaller), so the client cannot read before the sync.
// Reads, and the writes that only create rows no view holds yet (codes,
// applications, waiting-room joins), skip it.
func (h *handler) syncViews(c *gin.Context) {
	if h.ViewSync == nil || !syncsViews(c.Request.Method, c.FullPath()) {
		c.Next()
		return
	}
	c.Next()
	if c.Writer.Status() >= 400 {
		return // refused or failed: nothing to wait for (and no log line per request in an outage)
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 250*time.Millisecond)
	defer cancel()
	if err := h.ViewSync(ctx); err != nil {
		h.Log.WarnContext(ctx, "views not synced after a write; other reads catch up within the feed's delay", "err", err)
	}
}

// syncsViews: a write that may change what a cached view shows.
func syncsViews(method, route string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	switch route {
	case "/api/v1/events/:slug/challenge", "/api/v1/events/:slug/otp", "/api/v1/events/:slug/entries",
		"/api/v1/events/:slug/queue", "/api/v1/me/otp", "/api/v1/me/entries", "/api/v1/staff/login", "/api/v1/staff/logout":
		return false
	}
	return true
}
