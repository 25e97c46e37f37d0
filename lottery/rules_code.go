package lottery

import "time"

// OTP policy: 6 digits, valid 10 minutes, 5 attempts, single use.
const (
	OTPDigits      = 6
	OTPValidity    = 10 * time.Minute
	OTPMaxAttempts = 5
)

// CodeTry is a person's stored e-mail code as one application finds it,
// before that application's try is counted.
type CodeTry struct {
	Match     bool      // the code given is the stored code (their keyed hashes are equal)
	Used      bool      // an earlier application consumed the code
	Attempts  int       // tries counted so far, right or wrong
	ExpiresAt time.Time // the code is valid before this instant
}

// CodeConsumes reports whether a try consumes the code: the right code,
// not used yet, fewer than maxAttempts tries before this one, and not
// expired at now. Every try counts one attempt, consumed or not.
//
// The apply statement in lottery/postgres decides the same in SQL, in the
// one UPDATE that counts the attempt (a row lock and a conditional update,
// so two requests never both consume one code);
// lottery/postgres.TestApplyCodeRuleAgrees checks that the two agree.
func CodeConsumes(c CodeTry, now time.Time, maxAttempts int) bool {
	return c.Match && !c.Used && c.Attempts < maxAttempts && now.Before(c.ExpiresAt)
}

// CodeVerdict is what a try of an e-mail code means for the application.
type CodeVerdict struct {
	// Consumed: this try consumed the code; the application goes on.
	Consumed bool
	// UsedElsewhere: the right, unexpired code, consumed by another request
	// (or tried once past the cap after its last try consumed it). The
	// application is a duplicate when that request's entry exists, else
	// ErrCodeUsed; either way nothing of this try is kept.
	UsedElsewhere bool
	// Err is the answer when the try failed; the attempt it counted is kept
	// (committed) so wrong guesses run into the cap.
	Err *Error
}

// ErrCodeUsed answers the right code that another request consumed
// without creating an entry.
var ErrCodeUsed = &Error{Code: CodeInvalidOTP, Field: "otp", Message: "this code was already used; request a new one"}

// ErrNoCode answers an application for an address that has no code.
var ErrNoCode = &Error{Code: CodeInvalidOTP, Field: "otp", Message: "request a code for this e-mail address first"}

// CheckCode decides what a try of an e-mail code means, from the code as
// the try found it: consumed; the right code used by another request; or
// a failed try, whose message says why (too many attempts before expired
// before wrong). A code may be tried maxAttempts times; the try after the
// one that consumed it still counts as the right code used elsewhere, so a
// retry of a request that succeeded on its last allowed try is told it is
// a duplicate, not that it tried too often.
func CheckCode(c CodeTry, now time.Time, maxAttempts int) CodeVerdict {
	expired := !now.Before(c.ExpiresAt)
	switch {
	case CodeConsumes(c, now, maxAttempts):
		return CodeVerdict{Consumed: true}
	case c.Match && !expired && c.Attempts <= maxAttempts:
		return CodeVerdict{UsedElsewhere: true}
	case c.Attempts >= maxAttempts:
		return CodeVerdict{Err: &Error{Code: CodeInvalidOTP, Field: "otp", Message: "too many attempts; request a new code"}}
	case expired:
		return CodeVerdict{Err: &Error{Code: CodeInvalidOTP, Field: "otp", Message: "the code has expired; request a new one"}}
	default:
		return CodeVerdict{Err: &Error{Code: CodeInvalidOTP, Field: "otp", Message: "the code is wrong"}}
	}
}
