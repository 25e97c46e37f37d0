// Package mails is the one place Startline's e-mail text lives: one
// text/template file per mail kind under templates/, each defining an
// English and (for runners) a Korean subject and body.
//
// The package is a leaf (standard library only) so the service can render
// the mails it must render at write time (the one-time code, whose plain
// value is never stored) and the worker can render the intents the store
// queues (kind + ids) when it sends them, from the same templates.
package mails

import (
	"bytes"
	"embed"
	"fmt"
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
	EntryReceived   = "entry.received"   // receipt with the status link
	EntryInReview   = "entry.in_review"  // held for a person to look at
	EntryRejected   = "entry.rejected"   // the reason category and how to appeal
	EntryReinstated = "entry.reinstated" // an appeal or review let it back in
	EntryWaitlisted = "entry.waitlisted" // after the draw, with the position
	EntryNotDrawn   = "entry.not_drawn"  // the draw is over and no slot is left for the entry
	OfferMovedUp    = "offer.moved_up"   // a released slot reached a waitlisted entry
	OfferReminder   = "offer.reminder"   // the hold ends soon
	OfferPaid       = "offer.paid"       // payment receipt
	OfferExpired    = "offer.expired"    // the hold ended unpaid
	OfferDeclined   = "offer.declined"   // the runner declined
	EntryWithdrawn  = "entry.withdrawn"  // withdrawn by the runner (or a slot given back)
	EntryRefunded   = "entry.refunded"   // a refund after a give-back
	EntryAppealed   = "entry.appealed"   // the appeal was received
	MeCode          = "me.code"          // the one-time code for "my entries"
)

// Message is a rendered mail.
type Message struct {
	Subject string
	Body    string
}

// OTPData fills OTPCode.
type OTPData struct {
	Event string // the event's name
	Code  string
}

// OfferData fills OfferIssued.
type OfferData struct {
	Event     string    // the event's name
	SubQueue  string    // the sub-queue key, e.g. "10k/open"
	ExpiresAt time.Time // the hold's end, in the event's time zone
	Link      string    // the entry's status page with its receipt token
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

var tmpl = template.Must(template.New("mails").Funcs(template.FuncMap{
	// short is a compact time for subjects, "2027-03-02 15:04 KST".
	"short": func(t time.Time) string { return t.Format("2006-01-02 15:04 MST") },
	// long is a full time for bodies, RFC 1123.
	"long": func(t time.Time) string { return t.Format(time.RFC1123) },
}).ParseFS(files, "templates/*.tmpl"))

// Kinds lists the kinds that have templates.
func Kinds() []string { return []string{OTPCode, OfferIssued, StaffAlert} }

// Render renders one mail. The subject is in lang ("en" or "ko"; English
// when the kind has no subject in lang); the body is English followed by
// Korean when the kind has a Korean body, because the runner's language is
// not always known when the mail is written.
func Render(kind, lang string, data any) (Message, error) {
	if lang != "ko" {
		lang = "en"
	}
	subject := kind + ".subject." + lang
	if tmpl.Lookup(subject) == nil {
		subject = kind + ".subject.en"
	}
	var m Message
	var err error
	if m.Subject, err = execute(subject, data); err != nil {
		return Message{}, err
	}
	if m.Body, err = execute(kind+".body.en", data); err != nil {
		return Message{}, err
	}
	if tmpl.Lookup(kind+".body.ko") != nil {
		ko, err := execute(kind+".body.ko", data)
		if err != nil {
			return Message{}, err
		}
		m.Body += "\n" + ko
	}
	return m, nil
}

func execute(name string, data any) (string, error) {
	if tmpl.Lookup(name) == nil {
		return "", fmt.Errorf("mail template %q: not defined", name)
	}
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("mail template %q: %w", name, err)
	}
	return b.String(), nil
}
