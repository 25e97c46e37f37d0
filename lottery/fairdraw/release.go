package fairdraw

// Release applies fairdraw-v1's released-slots rule: freed slots (a declined
// or expired offer, or capacity the organizer added) go to waitlisted units in
// waitlist order, each unit that fits the slots still free taking them all,
// and the walk goes on to the end so a later, smaller unit can take slots a
// large group could not.
//
// waitlist is the sub-queue's current waitlist in draw order; items marked
// Selected are skipped, so a draw's full Order can be passed as is for the
// first release. A unit's size is len(EntryIDs). Release returns the units to
// offer, in order, and the slots that stay free; freed below 1 offers nothing.
// It is pure: the caller persists the offers and logs the step in the same
// transaction that consumed the freed slots.
func Release(waitlist []OrderItem, freed int) (offered []OrderItem, remaining int) {
	remaining = freed
	for _, it := range waitlist {
		if remaining < 1 {
			break
		}
		if size := len(it.EntryIDs); !it.Selected && size > 0 && size <= remaining {
			offered = append(offered, it)
			remaining -= size
		}
	}
	return offered, remaining
}
