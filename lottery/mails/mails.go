// Package mails is the one place Startline's e-mail text lives: one
// text/template file per mail kind under templates/, each defining its
// subject and its text in English and (for runners) Korean. The HTML part of
// every mail comes from the same text through one small layout (html.go):
// the text is escaped, paragraphs become <p>, links become clickable, so the
// wording has a single source.
//
// The package is a leaf (standard library only) so the service can render
// the mails it must render at write time (the one-time codes, whose plain
// value is never stored) and the worker can render the intents the store
// queues (kind + ids) when it sends them, from the same templates.
package mails

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Mail kinds: the template names, stored as the outbox row's intent.
const (
	// OTPCode carries a one-time code. It is rendered at write time by the
	// service: the plain code exists only in the mail.
	OTPCode = "otp.code"
	// OfferIssued tells a runner a slot is held for them. The store queues
	// it as an intent (offer id, entry id, event id) in the transaction
	// that issues the offer; the worker renders it when it sends it.
	OfferIssued = "offer.issued"
	// StaffAlert tells a staff member about an unusual sign-in (English).
	StaffAlert = "staff.alert"

	// The runner's journey (issue 13): one intent per state change of an
	// entry or its offer, queued by the store in the transaction of the
	// change (entry id, and offer id where there is one), rendered by the
	// worker in the entry's language.
	EntryReceived   = "entry.received"      // receipt with the status link
	EntryInReview   = "entry.in_review"     // held for a person to look at
	EntryRejected   = "entry.rejected"      // the reason category and how to appeal
	EntryReinstated = "entry.reinstated"    // an appeal or review let it back in
	EntryWaitlisted = "entry.waitlisted"    // after the draw, with the position
	EntryNotDrawn   = "entry.not_drawn"     // the draw is over and no slot is left for the entry
	OfferMovedUp    = "offer.moved_up"      // a released slot reached a waitlisted entry
	OfferReminder   = "offer.reminder"      // the hold ends soon
	OfferPaid       = "offer.paid"          // payment receipt
	OfferExpired    = "offer.expired"       // the hold ended unpaid
	OfferDeclined   = "offer.declined"      // the runner declined
	EntryWithdrawn  = "entry.withdrawn"     // withdrawn by the runner (or a slot given back)
	EntryRefunded   = "entry.refunded"      // a refund after a give-back
	EntryDeferred   = "entry.deferred"      // a confirmed runner deferred to the series' next edition
	EntryAppealed   = "entry.appealed"      // the appeal was received
	AppealUpheld    = "entry.appeal_upheld" // the appeal was decided: the rejection stands
	MeCode          = "me.code"             // the one-time code for "my entries"
	// StaffInvite invites an address to an organization's staff (issue
	// 14). Rendered at write time: the link's token exists only in it.
	StaffInvite = "staff.invite"
	// EventCancelled tells every runner with an entry that the organizer
	// cancelled the event, and the full refund of a paid slot (its amount in
	// the intent's Detail, minor units).
	EventCancelled = "event.cancelled"
	// TransferOffered gives a transfer's recipient the link to take the
	// place (issue 15). Rendered at write time: the token is only in it.
	TransferOffered = "transfer.offered"
	// TransferCompleted tells the giver the recipient paid and the place
	// moved, with the refund (price less the fee; minor units in Detail).
	TransferCompleted = "transfer.completed"
	// TransferApproved tells a recipient held for review that the reviewer
	// approved them: they pay by the transfer link (its hold's end).
	TransferApproved = "transfer.approved"
	// TransferEnded tells the giver and the recipient (once they have an
	// entry) that an open transfer closed without moving the place; Detail
	// (EntryData.Status) is "expired" or "rejected", ":giver" or ":recipient".
	TransferEnded = "transfer.ended"
	// DeferralCancelled tells a runner their deferral was cancelled because
	// its fee (minor units in Detail) was not paid in time; the place stays.
	DeferralCancelled = "deferral.cancelled"
)

// TransferOfferData fills TransferOffered.
type TransferOfferData struct {
	Event     string
	SubQueue  string
	Amount    string // the sub-queue's price, the face value
	Link      string // absolute, with the token
	ExpiresAt time.Time
}

// Message is a rendered mail: one subject, the plain text and the same text
// as simple HTML.
type Message struct {
	Subject string
	Body    string // text/plain
	HTML    string // text/html, from Body through the layout
}

// OTPData fills OTPCode.
type OTPData struct {
	Event string // the event's name
	Code  string
}

// MeCodeData fills MeCode (no event: "my entries" spans them all).
type MeCodeData struct {
	Code    string
	Minutes int // how long the code is valid
}

// EntryData fills every mail about one entry or its offer. Times are
// already in the event's time zone; Link is absolute.
type EntryData struct {
	Event    string // the event's name
	Name     string // the runner's name, as given
	SubQueue string // what a runner reads: "Half Marathon · Under 1:30"
	Link     string // the entry's status page with its receipt token
	// EntryReceived: Status is the entry's status at apply (received,
	// in_review, waitlisted for an ordered group waiting for a slot, offered
	// when a slot was held at once).
	Status string
	// EntryRejected: the reason category (lottery.RejectionCategory).
	Reason string
	// The sub-queue's price ("₩50,000"); empty when the entry is free.
	Amount    string
	ExpiresAt time.Time // offers: the hold's end
	At        time.Time // when the change happened (paid, withdrawn, refunded)
	Position  int       // EntryWaitlisted: the place on the waitlist (1 = next)
	// OfferPaid (issue 15): the race-day check-in code and its QR code's
	// link; empty when check-in codes are not in use.
	CheckinCode string
	CheckinQR   string
	// OfferCardCharge: the offer reached the runner from the waitlist.
	MovedUp bool
}

// OfferData is the data of the offer mails; it is EntryData.
type OfferData = EntryData

// StaffInviteData fills StaffInvite.
type StaffInviteData struct {
	Org       string // the organization's name
	InvitedBy string // the inviting organizer's address
	Role      string // organizer or reviewer
	Link      string // the accept page, absolute, with the token
	ExpiresAt time.Time
}

// StaffAlertData fills StaffAlert.
type StaffAlertData struct {
	Email          string
	At             time.Time // when the sign-in happened (shown in UTC)
	Country        string
	SessionMinutes int
	Reasons        []string
}

//go:embed templates/*.tmpl
var files embed.FS

// base holds every template; byLang binds the time formats per language.
var base = template.Must(template.New("mails").Funcs(timeFuncs("en")).ParseFS(files, "templates/*.tmpl"))

var byLang = map[string]*template.Template{"en": withLang("en"), "ko": withLang("ko")}

func withLang(lang string) *template.Template {
	return template.Must(base.Clone()).Funcs(timeFuncs(lang))
}

var koWeekdays = [...]string{"일", "월", "화", "수", "목", "금", "토"}

// timeFuncs formats times for one language, with the zone's abbreviation:
// "long" for bodies ("Wed 3 Mar 2027, 15:30 KST" / "2027년 3월 3일 (수) 15:30 KST"),
// "short" for subjects ("3 Mar 15:30 KST" / "3월 3일 15:30 KST").
func timeFuncs(lang string) template.FuncMap {
	if lang == "ko" {
		return template.FuncMap{
			"long": func(t time.Time) string {
				return fmt.Sprintf("%d년 %d월 %d일 (%s) %s", t.Year(), t.Month(), t.Day(), koWeekdays[t.Weekday()], t.Format("15:04 MST"))
			},
			"short": func(t time.Time) string {
				return fmt.Sprintf("%d월 %d일 %s", t.Month(), t.Day(), t.Format("15:04 MST"))
			},
		}
	}
	return template.FuncMap{
		"long":  func(t time.Time) string { return t.Format("Mon 2 Jan 2006, 15:04 MST") },
		"short": func(t time.Time) string { return t.Format("2 Jan 15:04 MST") },
	}
}

// Kinds lists the kinds that have templates.
func Kinds() []string {
	return []string{OTPCode, OfferIssued, StaffAlert, EntryReceived, EntryInReview, EntryRejected, EntryReinstated,
		EntryWaitlisted, EntryNotDrawn, OfferMovedUp, OfferReminder, OfferPaid, OfferExpired, OfferDeclined,
		EntryWithdrawn, EntryRefunded, EntryDeferred, EntryAppealed, AppealUpheld, MeCode, StaffInvite, EventCancelled,
		TransferOffered, TransferCompleted, OfferCardCharge, OfferCardFailed,
		TransferApproved, TransferEnded, DeferralCancelled}
}

// Render renders one mail in lang ("ko", else English; English too when
// the kind has no text in lang, as staff mail has not): the subject, the
// text, and the HTML made from that text.
func Render(kind, lang string, data any) (Message, error) {
	if lang != "ko" {
		lang = "en"
	}
	t := byLang[lang]
	if t.Lookup(kind+".text."+lang) == nil {
		lang, t = "en", byLang["en"]
	}
	var m Message
	var err error
	if m.Subject, err = execute(t, kind+".subject."+lang, data); err != nil {
		return Message{}, err
	}
	m.Subject = strings.Join(strings.Fields(m.Subject), " ") // one header line
	if m.Body, err = execute(t, kind+".text."+lang, data); err != nil {
		return Message{}, err
	}
	m.HTML = HTML(lang, m.Subject, m.Body)
	return m, nil
}

func execute(t *template.Template, name string, data any) (string, error) {
	if t.Lookup(name) == nil {
		return "", fmt.Errorf("mail template %q: not defined", name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("mail template %q: %w", name, err)
	}
	return b.String(), nil
}
