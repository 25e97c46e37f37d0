package lottery

import "time"

// DeferralPending is a deferral whose fee is not paid yet (issue 15): the
// runner keeps their place (the entry stays confirmed) until the fee is
// captured, then the deferral is held; unpaid by its pay-by time it is
// cancelled.
const DeferralPending DeferralState = "pending"

// DeferralPayWindow is how long a runner has to pay a deferral's fee.
const DeferralPayWindow = time.Hour

// DeferralStart is the rule for a new deferral's state: held at once when
// it is free, else pending payment until payBy (DeferralPayWindow from now,
// or the event's deferral deadline when that comes first).
func DeferralStart(feeMinor int64, now, deadline time.Time) (state DeferralState, payBy time.Time) {
	if feeMinor <= 0 {
		return DeferralHeld, time.Time{}
	}
	payBy = now.Add(DeferralPayWindow)
	if !deadline.IsZero() && deadline.Before(payBy) {
		payBy = deadline
	}
	return DeferralPending, payBy
}

// DeferralFeePayable is the rule for paying (or capturing the payment of) a
// deferral's fee at now: only a pending deferral before its pay-by time.
func DeferralFeePayable(state DeferralState, payBy, now time.Time) error {
	switch {
	case state != DeferralPending:
		return &Error{Code: CodeInvalidTransition, Message: "this deferral is " + string(state) + "; there is no fee to pay"}
	case !now.Before(payBy):
		return &Error{Code: CodeInvalidTransition, Message: "the time to pay the deferral fee has passed; your place is kept"}
	}
	return nil
}

// DeferralFee is a pending deferral's fee as the pay step needs it.
type DeferralFee struct {
	EntryID   string
	OfferID   string // the entry's paid offer: the fee's payment hangs on it
	State     DeferralState
	Fee       Money
	PayBy     time.Time
	CreatedAt time.Time
}
