package httpkit

import (
	"net/http"

	"github.com/startline/startline/lottery"
)

// statusByCode is the one table from error codes (lottery.Error) to HTTP
// statuses: the API's JSON errors and the pages' error statuses both come
// from it.
var statusByCode = map[string]int{
	lottery.CodeInvalidJSON:         http.StatusBadRequest,
	lottery.CodeInvalidField:        http.StatusUnprocessableEntity,
	lottery.CodeInvalidOTP:          http.StatusUnprocessableEntity,
	lottery.CodeInvalidProofOfWork:  http.StatusUnprocessableEntity,
	lottery.CodeDuplicateEntry:      http.StatusConflict,
	lottery.CodeRegistrationNotOpen: http.StatusForbidden,
	lottery.CodeRegistrationClosed:  http.StatusForbidden,
	lottery.CodeAdmissionRequired:   http.StatusForbidden,
	lottery.CodeQueueRefused:        http.StatusForbidden,
	lottery.CodeNotFound:            http.StatusNotFound,
	lottery.CodeInvalidTransition:   http.StatusConflict,
	lottery.CodeIdempotencyMismatch: http.StatusConflict,
	lottery.CodeGroupFull:           http.StatusConflict,
	lottery.CodeOfferExpired:        http.StatusConflict,
	lottery.CodeConflict:            http.StatusConflict,
	lottery.CodeEventExists:         http.StatusConflict,
	lottery.CodeStaffExists:         http.StatusConflict,
	lottery.CodeDisputeWindowOpen:   http.StatusConflict,
	lottery.CodeDisputeWindowClosed: http.StatusConflict,
	lottery.CodeDisputeLimit:        http.StatusConflict,
	lottery.CodeTicketsFrozen:       http.StatusConflict,
	lottery.CodeSeriesExists:        http.StatusConflict,
	lottery.CodeTermsFixed:          http.StatusConflict,
	lottery.CodeNoSlotHeld:          http.StatusConflict,
	lottery.CodeDeferralClosed:      http.StatusConflict,
	lottery.CodeDeferralFull:        http.StatusConflict,
	lottery.CodeNotConfirmed:        http.StatusConflict,
	lottery.CodeNoNextEdition:       http.StatusConflict,
	lottery.CodeEntryHoldsSlot:      http.StatusConflict,
	lottery.CodeAppealClosed:        http.StatusConflict,
	lottery.CodeAppealExists:        http.StatusConflict,
	lottery.CodeCardSetupUsed:       http.StatusConflict,
	lottery.CodeNoCardOnFile:        http.StatusConflict,
	lottery.CodeRateLimited:         http.StatusTooManyRequests,
	lottery.CodeUnauthorized:        http.StatusUnauthorized,
	lottery.CodeInvalidCredentials:  http.StatusUnauthorized,
	lottery.CodeTOTPReused:          http.StatusUnauthorized,
	lottery.CodeForbidden:           http.StatusForbidden,
	lottery.CodeCSRFFailed:          http.StatusForbidden,
	lottery.CodeUnavailable:         http.StatusServiceUnavailable,
	lottery.CodeInternal:            http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for an error's code; 500 for an error
// that carries none.
func StatusOf(err error) int {
	if s, ok := statusByCode[lottery.CodeOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}
