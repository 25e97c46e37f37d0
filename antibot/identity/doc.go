// Package identity turns what a runner types (email, phone, name, birth date)
// into stable keys, so registration can keep one entry per person per event
// even when bots vary spelling, case, dots, plus-tags or number formatting.
//
// Everything here is pure: no database, no network, no clock. The functions are
// safe for concurrent use.
package identity

import "errors"

// Sentinel errors returned (wrapped with a reason) by the normalizers; match
// them with errors.Is. The reason is safe to log: it never echoes the input.
var (
	// ErrInvalidEmail means the input is not a single plain address
	// (user@example.com) we accept for registration.
	ErrInvalidEmail = errors.New("invalid email")
	// ErrInvalidPhone means the input is not a valid, dialable phone number.
	ErrInvalidPhone = errors.New("invalid phone number")
)
