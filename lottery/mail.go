package lottery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery/mails"
)

// IntentSource is what rendering a mail intent reads: the entry, its offer,
// its event and its place in the draw. Rendering reads committed rows only;
// it never writes.
type IntentSource interface {
	Offer(ctx context.Context, id string) (Offer, error)
	EventByID(ctx context.Context, id int64) (Event, error)
	Entry(ctx context.Context, id string) (Entry, error)
	EntryPlace(ctx context.Context, entryID string) (DrawPlace, error)
}

// MailRenderer turns an outbox intent (kind + ids) into its subject, text
// and HTML from lottery/mails, in the entry's language, with absolute links
// and times in the event's time zone. The worker renders with it when it
// sends; the dev outbox when it shows (RenderingOutbox).
type MailRenderer struct {
	src       IntentSource
	keys      *Keys
	publicURL string

	// A draw's waitlist mails a whole event at once: its event is read once
	// a while, not once a mail.
	mu     sync.Mutex
	events map[int64]renderedEvent

	// checkinCode signs an entry's race-day check-in code (issue 15,
	// lottery/checkin); nil: the paid mail carries none.
	checkinCode func(entryID string) (string, error)
}

// UseCheckinCodes makes the paid mail carry the entry's check-in code and a
// link to its QR code (lottery/checkin's Signer.Code).
func (r *MailRenderer) UseCheckinCodes(code func(entryID string) (string, error)) {
	r.checkinCode = code
}

type renderedEvent struct {
	ev Event
	at time.Time
}

// eventTTL is how long a rendered event's name, zone and prices are reused.
const eventTTL = 30 * time.Second

func (r *MailRenderer) event(ctx context.Context, id int64) (Event, error) {
	r.mu.Lock()
	c, ok := r.events[id]
	r.mu.Unlock()
	if ok && time.Since(c.at) < eventTTL {
		return c.ev, nil
	}
	ev, err := r.src.EventByID(ctx, id)
	if err != nil {
		return Event{}, err
	}
	r.mu.Lock()
	if r.events == nil || len(r.events) > 1000 {
		r.events = map[int64]renderedEvent{}
	}
	r.events[id] = renderedEvent{ev: ev, at: time.Now()}
	r.mu.Unlock()
	return ev, nil
}

// NewMailRenderer renders links under publicURL (e.g. https://run.example;
// cmd/startline gives http://127.0.0.1:8080 in dev when none is set); empty
// keeps them site-relative, for tests only.
func NewMailRenderer(src IntentSource, keys *Keys, publicURL string) *MailRenderer {
	return &MailRenderer{src: src, keys: keys, publicURL: strings.TrimRight(publicURL, "/")}
}

// ErrUnrenderable is an intent that cannot ever render (unknown kind, or
// the row it names is gone): retrying will not help.
var ErrUnrenderable = errors.New("mail intent cannot be rendered")

// entryKinds are the intents rendered from an entry (and its offer).
var entryKinds = map[string]bool{mails.OfferIssued: true, mails.EntryReceived: true, mails.EntryInReview: true,
	mails.EntryRejected: true, mails.EntryReinstated: true, mails.EntryWaitlisted: true, mails.EntryNotDrawn: true,
	mails.OfferMovedUp: true, mails.OfferReminder: true, mails.OfferPaid: true, mails.OfferExpired: true,
	mails.OfferDeclined: true, mails.EntryWithdrawn: true, mails.EntryRefunded: true, mails.EntryDeferred: true, mails.EntryAppealed: true,
	mails.AppealUpheld: true, mails.EventCancelled: true, mails.TransferCompleted: true,
	mails.OfferCardCharge: true, mails.OfferCardFailed: true,
	mails.TransferApproved: true, mails.TransferEnded: true, mails.DeferralCancelled: true}

// Render fills a pending intent's subject, text and HTML; a mail rendered
// at write time is returned as it is.
func (r *MailRenderer) Render(ctx context.Context, m Mail) (Mail, error) {
	if !m.Pending() {
		return m, nil
	}
	msg, err := r.render(ctx, m)
	if err != nil {
		return m, fmt.Errorf("render mail %d: %w", m.ID, err)
	}
	m.Subject, m.Body, m.HTML = msg.Subject, msg.Body, msg.HTML
	return m, nil
}

// StatusLink is an entry's absolute status page link with its receipt
// token, opening in the entry's language.
func (r *MailRenderer) StatusLink(entryID, lang string) string {
	q := url.Values{"token": {r.keys.ReceiptToken(entryID)}}
	if lang == "en" || lang == "ko" {
		q.Set("lang", lang)
	}
	return r.publicURL + "/entries/" + url.PathEscape(entryID) + "?" + q.Encode()
}

func unrenderable(what string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %s: %w", ErrUnrenderable, what, err)
	}
	return err
}

func (r *MailRenderer) render(ctx context.Context, m Mail) (mails.Message, error) {
	if !entryKinds[m.Intent] {
		return mails.Message{}, fmt.Errorf("%w: unknown kind %q", ErrUnrenderable, m.Intent)
	}
	entryID := m.EntryID
	var offer *Offer
	if m.OfferID != "" {
		o, err := r.src.Offer(ctx, m.OfferID)
		if err != nil {
			return mails.Message{}, unrenderable("offer "+m.OfferID, err)
		}
		offer, entryID = &o, o.EntryID
	}
	if entryID == "" {
		return mails.Message{}, fmt.Errorf("%w: %s names no entry", ErrUnrenderable, m.Intent)
	}
	e, err := r.src.Entry(ctx, entryID)
	if err != nil {
		return mails.Message{}, unrenderable("entry "+entryID, err)
	}
	ev, err := r.event(ctx, e.EventID)
	if err != nil {
		return mails.Message{}, unrenderable("event", err)
	}
	loc := ev.Location()
	d := mails.EntryData{Event: ev.Name, Name: e.Name, SubQueue: ev.SubQueueName(e.SubQueue),
		Link: r.StatusLink(e.ID, e.Lang), Status: receiptStatus(e, ev, m.Detail), At: m.CreatedAt.In(loc)}
	if price := ev.PriceOf(e.SubQueue); !price.IsZero() {
		d.Amount = price.String()
	}
	if offer != nil {
		d.ExpiresAt = offer.ExpiresAt.In(loc)
		d.MovedUp = offer.Round > 0 && modeOf(ev, offer.SubQueue) == ModeLottery
		if offer.DecidedAt != nil {
			d.At = offer.DecidedAt.In(loc)
		}
	}
	switch m.Intent {
	case mails.EntryRejected, mails.AppealUpheld:
		d.Reason = RejectionCategory(e.Risk.Reasons)
		if IsRejectionCategory(m.Detail) { // the decision named it (a cluster rejected whole)
			d.Reason = m.Detail
		}
	case mails.EventCancelled, mails.EntryDeferred, mails.DeferralCancelled:
		// Only a paid slot's refund is named; the price of an unpaid one
		// is nobody's business now. A deferral names its fee (none: 0).
		d.Amount = ""
		if n, err := strconv.ParseInt(m.Detail, 10, 64); err == nil && n > 0 {
			d.Amount = Money{Amount: n, Currency: ev.Currency}.String()
		}
	case mails.EntryRefunded, mails.TransferCompleted:
		// A refund under the event's policy may be less than the price: the
		// change that refunds puts the amount (minor units) in Detail.
		if n, err := strconv.ParseInt(m.Detail, 10, 64); err == nil && n >= 0 {
			d.Amount = Money{Amount: n, Currency: ev.Currency}.String()
		}
	case mails.TransferEnded:
		d.Status = m.Detail // which side and why (mails.TransferEnded)
	case mails.OfferPaid:
		if r.checkinCode != nil {
			code, err := r.checkinCode(e.ID)
			if err != nil {
				return mails.Message{}, fmt.Errorf("check-in code: %w", err)
			}
			d.CheckinCode = code
			d.CheckinQR = r.publicURL + "/entries/" + url.PathEscape(e.ID) + "/checkin.png?" +
				url.Values{"token": {r.keys.ReceiptToken(e.ID)}}.Encode()
		}
	case mails.EntryWaitlisted:
		p, err := r.src.EntryPlace(ctx, e.ID)
		if err != nil {
			return mails.Message{}, unrenderable("draw place of "+e.ID, err)
		}
		d.Position = p.WaitlistPosition
	}
	return mails.Render(m.Intent, e.Lang, d)
}

// receiptStatus is what the receipt says about an entry: its status at
// apply, as the apply queued it (Mail.Detail), so a receipt read later still
// tells what happened then; an ordered group's waiting or held slot says so.
// Without it (an older intent) the entry's risk decision stands in.
func receiptStatus(e Entry, ev Event, atApply string) string {
	st := EntryStatus(atApply)
	if st == "" {
		st = e.Status
		if e.Risk.Decision == antibot.Review {
			st = EntryInReview
		}
	}
	switch {
	case st == EntryInReview:
		return string(EntryInReview)
	case st == EntryWaitlisted && modeOf(ev, e.SubQueue) == ModeOrdered:
		return string(EntryWaitlisted)
	case st == EntryOffered && modeOf(ev, e.SubQueue) == ModeOrdered:
		return string(EntryOffered)
	}
	return string(EntryReceived)
}

func modeOf(ev Event, key string) Mode {
	for _, sq := range ev.SubQueues() {
		if sq.Key == key {
			return sq.Mode
		}
	}
	return ModeLottery
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

// OutboxFor lists messages to an address, newest first, rendered. An
// intent that can no longer render (its entry erased) is shown as such
// rather than failing the whole list.
func (o RenderingOutbox) OutboxFor(ctx context.Context, to string, limit int) ([]Mail, error) {
	ms, err := o.MailStore.OutboxFor(ctx, to, limit)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		r, err := o.Renderer.Render(ctx, ms[i])
		if errors.Is(err, ErrUnrenderable) {
			ms[i].Subject = "[" + ms[i].Intent + ": cannot be rendered]"
			continue
		}
		if err != nil {
			return nil, err
		}
		ms[i] = r
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
