package lottery

import "time"

// Runner self-service (issue 13): what a runner may do to their own entry
// with its receipt token. The stores apply these under the entry's lock.

// CheckWithdraw decides a runner's withdrawal of an entry in status st at
// now. already is true for an entry withdrawn before (the answer is the
// same, nothing changes). Only while registration is open (ErrClosed after,
// whatever the reason: closed, frozen, drawn); an entry holding a slot (an
// ordered sub-queue's offer) gives it back through the offer instead
// (ErrEntryHoldsSlot); a rejected, declined or expired entry has nothing to
// withdraw (ErrInvalidTransition).
func CheckWithdraw(ev Event, st EntryStatus, now time.Time) (already bool, err error) {
	if st == EntryWithdrawn {
		return true, nil
	}
	if err := ev.CheckOpen(now); err != nil {
		return false, ErrClosed
	}
	switch st {
	case EntryReceived, EntryInReview, EntryWaitlisted:
		return false, nil
	case EntryOffered, EntryConfirmed, EntrySelected:
		return false, ErrEntryHoldsSlot
	}
	return false, &Error{Code: CodeInvalidTransition, Message: "this entry is " + string(st) + "; there is nothing to withdraw"}
}

// CheckErase decides a runner's request to erase their entry's personal
// data now, from the statuses of the entry's offers: refused while one of
// them holds or pays a slot (pending, accepted, paid), since the runner
// must still be reachable and the payment accountable.
func CheckErase(offers []OfferStatus) error {
	for _, o := range offers {
		if o.Live() {
			return ErrEntryHoldsSlot
		}
	}
	return nil
}

// ErasedStatus is the status an entry takes when its personal data is
// erased on request: before the freeze an entry still waiting for the draw
// (or for review, or an ordered sub-queue's slot) leaves it, withdrawn,
// since no one could be told of a slot; from the freeze on the frozen lists
// are published and the status stays.
func ErasedStatus(ev Event, st EntryStatus) EntryStatus {
	if ev.Status != EventPublished && ev.Status != EventClosed {
		return st
	}
	switch st {
	case EntryReceived, EntryInReview, EntryWaitlisted:
		return EntryWithdrawn
	}
	return st
}

// RetentionStart is the instant an event's retention period counts from:
// the end of race day in the event's time zone, or registration's close
// for an event without a race date. lottery/postgres RetentionCandidates
// selects by the same instant in SQL.
func RetentionStart(ev Event) time.Time {
	if ev.RaceDate != "" {
		if day, err := time.ParseInLocation(time.DateOnly, ev.RaceDate, ev.Location()); err == nil {
			return day.AddDate(0, 0, 1)
		}
	}
	return ev.ClosesAt
}

// RetentionDue reports whether an event's entries are past retention at
// now: retention after RetentionStart.
func RetentionDue(ev Event, retention time.Duration, now time.Time) bool {
	return ev.Status != EventDraft && !now.Before(RetentionStart(ev).Add(retention))
}

// CheckMeCode decides a try of a "my entries" code. Unlike an apply code
// (CheckCode) there is no retry to answer with an earlier request's
// receipt: a used code is simply used, and the cap on tries comes first,
// so a guesser who spent them learns nothing from the next try.
func CheckMeCode(c CodeTry, now time.Time, maxAttempts int) CodeVerdict {
	switch {
	case CodeConsumes(c, now, maxAttempts):
		return CodeVerdict{Consumed: true}
	case c.Attempts >= maxAttempts:
		return CodeVerdict{Err: &Error{Code: CodeInvalidOTP, Field: "otp", Message: "too many attempts; request a new code"}}
	case c.Used:
		return CodeVerdict{Err: ErrCodeUsed}
	case !now.Before(c.ExpiresAt):
		return CodeVerdict{Err: &Error{Code: CodeInvalidOTP, Field: "otp", Message: "the code has expired; request a new one"}}
	default:
		return CodeVerdict{Err: &Error{Code: CodeInvalidOTP, Field: "otp", Message: "the code is wrong"}}
	}
}
