// Package lottery is Startline's domain core: the shared types (events,
// their sub-queues, entries, offers, staff), the event lifecycle (Service:
// create, publish, close, freeze, reveal, draw, publish results) with the
// cached event reads every concept service shares, the one table of error
// codes, and the outcome rules as pure functions (rules_*.go). Each concept
// (registration, draws, offers, waitroom, review, staff) is a package below
// it with its own service and store. It imports no HTTP, ORM, Redis or
// queue library; time and randomness come in through Clock and io.Reader so
// tests control them.
package lottery

import (
	"errors"
	"fmt"
)

// Error is a domain failure with a stable, machine-readable code (the API's
// error.code), the offending input field if any, and a human message.
type Error struct {
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is makes errors.Is match any *Error with the same code, so callers test
// against the sentinels below whatever field or message a site attached.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Stable error codes. internal/httpkit.StatusOf maps each to an HTTP status.
const (
	CodeInvalidJSON         = "invalid_json"
	CodeInvalidField        = "invalid_field"
	CodeInvalidOTP          = "invalid_otp"
	CodeInvalidProofOfWork  = "invalid_proof_of_work"
	CodeDuplicateEntry      = "duplicate_entry"
	CodeRegistrationNotOpen = "registration_not_open"
	CodeRegistrationClosed  = "registration_closed"
	CodeNotFound            = "not_found"
	CodeInvalidTransition   = "invalid_transition"
	CodeIdempotencyMismatch = "idempotency_key_reused"
	CodeGroupFull           = "group_full"
	CodeConflict            = "conflict"
	CodeRateLimited         = "rate_limited"
	CodeUnauthorized        = "unauthorized"
	CodeForbidden           = "forbidden"
	CodeUnavailable         = "unavailable"
	CodeInternal            = "internal"
	CodeAdmissionRequired   = "admission_required"
	CodeEventExists         = "event_exists"
	CodeStaffExists         = "staff_exists"
	CodeInvalidCredentials  = "invalid_credentials"
	CodeCSRFFailed          = "csrf_failed"
	// CodeDisputeWindowOpen refuses a reveal before frozen_at plus the
	// event's dispute window; the message says when it ends.
	CodeDisputeWindowOpen = "dispute_window_open"
	// CodeDisputeWindowClosed refuses a dispute outside the window.
	CodeDisputeWindowClosed = "dispute_window_closed"
	// CodeDisputeLimit refuses a dispute past MaxDisputesPerEntry.
	CodeDisputeLimit = "dispute_limit"
	// CodeTicketsFrozen: ticket counts are fixed at freeze; a claim can no longer be decided.
	CodeTicketsFrozen = "tickets_frozen"
	// CodeSeriesExists: a series with this slug exists.
	CodeSeriesExists = "series_exists"
	// CodeTermsFixed refuses a change of prices, currency or refund policy
	// once registration has opened: runners applied on those terms.
	CodeTermsFixed = "terms_fixed"
	// CodeNoSlotHeld refuses a give-back from an entry that holds no
	// accepted or paid slot.
	CodeNoSlotHeld = "no_slot_held"

	// Runner self-service (issue 13, i13-self).
	// CodeEntryHoldsSlot refuses to erase (or withdraw) an entry that holds
	// or pays a slot: decline the offer or give the slot back first.
	CodeEntryHoldsSlot = "entry_holds_slot"
	// CodeAppealClosed refuses an appeal, or its decision, once the event's
	// entries are frozen: a reinstated entry could no longer enter the draw.
	CodeAppealClosed = "appeal_closed"
	// CodeAppealExists refuses a second appeal of one entry.
	CodeAppealExists = "appeal_exists"

	// Staff login fixes (issue 14, i14-login).
	// CodeTOTPReused refuses a staff login whose TOTP code (with the right
	// password) was already used in its window: wait for the next code.
	CodeTOTPReused = "totp_reused"
)

// Sentinels for errors.Is. Sites attach a field and message with Fieldf.
var (
	ErrNotFound            = &Error{Code: CodeNotFound, Message: "not found"}
	ErrInvalidField        = &Error{Code: CodeInvalidField, Message: "invalid field"}
	ErrInvalidOTP          = &Error{Code: CodeInvalidOTP, Field: "otp", Message: "the code is wrong, expired or used; request a new one"}
	ErrDuplicateEntry      = &Error{Code: CodeDuplicateEntry, Message: "this person already has an entry for this event"}
	ErrNotOpen             = &Error{Code: CodeRegistrationNotOpen, Message: "registration is not open yet"}
	ErrClosed              = &Error{Code: CodeRegistrationClosed, Message: "registration is closed"}
	ErrInvalidTransition   = &Error{Code: CodeInvalidTransition, Message: "that action is not allowed in the event's current state"}
	ErrIdempotencyMismatch = &Error{Code: CodeIdempotencyMismatch, Field: "Idempotency-Key", Message: "this Idempotency-Key was used with a different request body"}
	ErrGroupFull           = &Error{Code: CodeGroupFull, Field: "group_code", Message: "this group is full"}
	ErrConflict            = &Error{Code: CodeConflict, Message: "conflicting change"}
	ErrUnauthorized        = &Error{Code: CodeUnauthorized, Message: "authentication required"}
	ErrForbidden           = &Error{Code: CodeForbidden, Message: "your role may not do this"}
	ErrEventExists         = &Error{Code: CodeEventExists, Field: "slug", Message: "an event with this slug exists"}
	ErrStaffExists         = &Error{Code: CodeStaffExists, Field: "email", Message: "a staff account with this e-mail exists"}
	ErrInvalidCredentials  = &Error{Code: CodeInvalidCredentials, Message: "wrong e-mail, password or code"}
	ErrCSRFFailed          = &Error{Code: CodeCSRFFailed, Message: "a change made with the session cookie needs the X-CSRF-Token header or a same-origin request"}
	ErrTicketsFrozen       = &Error{Code: CodeTicketsFrozen, Message: "ticket counts are fixed at freeze; this claim can no longer be decided"}
	ErrSeriesExists        = &Error{Code: CodeSeriesExists, Field: "slug", Message: "a series with this slug exists"}
	ErrTermsFixed          = &Error{Code: CodeTermsFixed, Message: "prices, currency and the refund policy are fixed once registration opens"}
	ErrNoSlotHeld          = &Error{Code: CodeNoSlotHeld, Message: "this entry holds no accepted or paid slot to give back"}
	ErrEntryHoldsSlot      = &Error{Code: CodeEntryHoldsSlot, Message: "this entry holds or pays a slot; decline the offer or give the slot back first"}
	ErrAppealClosed        = &Error{Code: CodeAppealClosed, Message: "appeals are decided only before the entries are frozen for the draw"}
	ErrTOTPReused          = &Error{Code: CodeTOTPReused, Field: "otp", Message: "this code was already used; wait for the next one"}
	ErrAppealExists        = &Error{Code: CodeAppealExists, Field: "message", Message: "this entry has appealed already"}
	ErrAdmissionRequired   = &Error{Code: CodeAdmissionRequired, Field: "admission_token", Message: "this sub-queue admits entries through its waiting room"}
	ErrDisputeWindowOpen   = &Error{Code: CodeDisputeWindowOpen, Field: "action", Message: "the dispute window is still open"}
	ErrDisputeWindowClosed = &Error{Code: CodeDisputeWindowClosed, Message: "disputes are taken only between the freeze and the end of the dispute window"}
	ErrDisputeLimit        = &Error{Code: CodeDisputeLimit, Field: "message", Message: "this entry has filed as many disputes as it may"}
	// ErrUnavailable: a dependency (PostgreSQL, Redis) could not be reached;
	// the request may be retried. Stores wrap driver errors with it.
	ErrUnavailable = &Error{Code: CodeUnavailable, Message: "temporarily unavailable; try again shortly"}
)

// Fieldf returns a validation error for one input field.
func Fieldf(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidField, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or
// CodeInternal when err carries none.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
