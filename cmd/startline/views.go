package main

import (
	"context"

	"github.com/startline/startline/internal/readcache"
	"github.com/startline/startline/lottery/postgres"
)

// startViews opens the API's read cache (issue 16: results day from memory)
// and the feed of committed changes that keeps it consistent with every
// other process's writes; both live until ctx ends. A change to an event
// also drops the event from the services' own short-lived event cache.
func (a *app) startViews(ctx context.Context) {
	views := readcache.New(readcache.Config{})
	feed := postgres.NewViewFeed(a.cfg.DatabaseURL, a.store, a.log, func(tag string) {
		views.Invalidate(tag)
		if slug, ok := readcache.EventOfTag(tag); ok {
			a.svc.ForgetEvent(slug)
		}
	}, views.Flush)
	a.views, a.viewSync, a.viewSay = views, feed.Sync, feed.Announce
	go feed.Run(ctx)
}
