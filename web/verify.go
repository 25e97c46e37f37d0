package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
)

// drawArtifactPath is where a drawn sub-queue's artifact (fairdraw-v1) is
// published.
func drawArtifactPath(slug, subqueue string) string {
	return "/api/v1/events/" + url.PathEscape(slug) + "/draws/" + url.PathEscape(subqueue) + "/artifact.json"
}

// findView answers "find my entry" on the results page, from the published
// draws alone: the id is public in the artifacts, so the answer tells a
// stranger nothing the artifacts do not.
type findView struct {
	ID       string // as typed, trimmed
	Found    bool
	SubQueue string // the course and pace group's name
	Selected bool
	Waitlist int // waitlist position, 0 when selected
	Artifact string
}

// findEntry looks an entry id up in the event's drawn sub-queues. An id in
// none of them (unknown, another event's, or an entry held in review or
// rejected, which is never drawn) is an answer too, not an error.
func (p *pages) findEntry(ctx context.Context, ev lottery.Event, ds []lottery.DrawInfo, raw string) (findView, error) {
	f := findView{ID: strings.TrimSpace(raw)}
	place, d, err := p.Draws.FindEntry(ctx, ds, strings.ToLower(f.ID))
	if errors.Is(err, lottery.ErrNotFound) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	f.Found, f.SubQueue, f.Selected, f.Waitlist = true, ev.SubQueueName(d.SubQueue), place.Selected, place.WaitlistPosition
	f.Artifact = drawArtifactPath(ev.Slug, d.SubQueue)
	return f, nil
}

// verifyPage checks a published artifact of this site in the browser: the
// pre-queue's (linked from the waiting room) or any draw's. Only a path on
// this site is taken, so the page never vouches for a file someone else
// serves.
type verifyPage struct {
	Artifact string
}

func (p *pages) verify(c *gin.Context) {
	raw := strings.TrimSpace(c.Query("artifact"))
	if raw == "" {
		p.render(c, http.StatusOK, "verify", "", verifyPage{}, nil)
		return
	}
	path, err := httpkit.LocalPath(raw)
	if err != nil {
		p.render(c, http.StatusUnprocessableEntity, "verify", "", verifyPage{Artifact: ""},
			lottery.Fieldf("artifact", "not a published file of this site"))
		return
	}
	p.render(c, http.StatusOK, "verify", "", verifyPage{Artifact: path}, nil)
}

// verifyForm is what the "verify in your browser" form needs: the page's
// translator, the artifact, and an accessible name telling the forms of one
// page apart.
type verifyForm struct {
	T     func(string, ...any) string
	URL   string
	Label string
	ID    string
}

// verifyText is the verifier script's messages in the page's language.
func verifyText(lang string) map[string]string {
	out := map[string]string{}
	for k, v := range messages["en"] {
		if strings.HasPrefix(k, "verify.js.") {
			out[strings.TrimPrefix(k, "verify.js.")] = v
		}
	}
	for k, v := range messages[lang] {
		if strings.HasPrefix(k, "verify.js.") {
			out[strings.TrimPrefix(k, "verify.js.")] = v
		}
	}
	return out
}
