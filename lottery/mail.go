package lottery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/startline/startline/lottery/mails"
)

// IntentSource is what rendering a mail intent reads: the offer and its
// event. Rendering reads committed rows only; it never writes.
type IntentSource interface {
	Offer(ctx context.Context, id string) (Offer, error)
	EventByID(ctx context.Context, id int64) (Event, error)
}

// MailRenderer turns an outbox intent (kind + ids) into its subject and
// body from lottery/mails. The worker renders with it when it sends; the
// dev outbox when it shows (RenderingOutbox). Rendering is deterministic:
// the same intent renders the same mail however often it is read.
type MailRenderer struct {
	src       IntentSource
	keys      *Keys
	publicURL string
}

// NewMailRenderer renders links under publicURL (e.g. https://run.example);
// empty keeps them site-relative (dev mode without a public URL).
func NewMailRenderer(src IntentSource, keys *Keys, publicURL string) *MailRenderer {
	return &MailRenderer{src: src, keys: keys, publicURL: strings.TrimRight(publicURL, "/")}
}

// ErrUnrenderable is an intent that cannot ever render (unknown kind, or
// the row it names is gone): retrying will not help.
var ErrUnrenderable = errors.New("mail intent cannot be rendered")

// Render fills a pending intent's subject and body; a mail rendered at
// write time is returned as it is.
func (r *MailRenderer) Render(ctx context.Context, m Mail) (Mail, error) {
	if !m.Pending() {
		return m, nil
	}
	var msg mails.Message
	var err error
	switch m.Intent {
	case mails.OfferIssued:
		msg, err = r.offerIssued(ctx, m)
	default:
		err = fmt.Errorf("%w: unknown kind %q", ErrUnrenderable, m.Intent)
	}
	if err != nil {
		return m, fmt.Errorf("render mail %d: %w", m.ID, err)
	}
	m.Subject, m.Body = msg.Subject, msg.Body
	return m, nil
}

func (r *MailRenderer) offerIssued(ctx context.Context, m Mail) (mails.Message, error) {
	o, err := r.src.Offer(ctx, m.OfferID)
	if errors.Is(err, ErrNotFound) {
		return mails.Message{}, fmt.Errorf("%w: offer %s: %w", ErrUnrenderable, m.OfferID, err)
	}
	if err != nil {
		return mails.Message{}, err
	}
	ev, err := r.src.EventByID(ctx, o.EventID)
	if err != nil {
		return mails.Message{}, err
	}
	link := fmt.Sprintf("%s/entries/%s?token=%s", r.publicURL, o.EntryID, r.keys.ReceiptToken(o.EntryID))
	return mails.Render(mails.OfferIssued, "", mails.OfferData{Event: ev.Name, SubQueue: o.SubQueue,
		ExpiresAt: o.ExpiresAt.In(ev.Location()), Link: link})
}

// RenderingOutbox is a MailStore whose reads render pending intents, for
// the dev outbox: it shows the mail a runner would get, as before intents.
type RenderingOutbox struct {
	MailStore
	Renderer *MailRenderer
}

// Mail returns one message, rendered.
func (o RenderingOutbox) Mail(ctx context.Context, id int64) (Mail, error) {
	m, err := o.MailStore.Mail(ctx, id)
	if err != nil {
		return m, err
	}
	return o.Renderer.Render(ctx, m)
}

// OutboxFor lists messages to an address, newest first, rendered.
func (o RenderingOutbox) OutboxFor(ctx context.Context, to string, limit int) ([]Mail, error) {
	ms, err := o.MailStore.OutboxFor(ctx, to, limit)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if ms[i], err = o.Renderer.Render(ctx, ms[i]); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// Location is the event's time zone (UTC when unknown), for times shown to
// its runners.
func (e Event) Location() *time.Location {
	if loc, err := time.LoadLocation(e.TimeZone); err == nil && e.TimeZone != "" {
		return loc
	}
	return time.UTC
}
