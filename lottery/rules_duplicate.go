package lottery

// IdentityTaken says which of an application's identity keys another entry
// of the same event already holds.
type IdentityTaken struct {
	Email  bool // the normalized e-mail address (EmailKey)
	Phone  bool // the E.164 phone number
	Person bool // the normalized name and birth date (PersonKey), when not empty
}

// DuplicateEntry is what a runner is told when their application collides
// with an existing entry: one person, one entry per event, whichever key
// shows it. The e-mail address is named first (the runner proved they own
// it), then the phone number, then name and birth date. With no key taken
// (the colliding entry is gone by the time it is looked for) the answer is
// the plain ErrDuplicateEntry.
func DuplicateEntry(t IdentityTaken) *Error {
	dup := *ErrDuplicateEntry
	switch {
	case t.Email:
		dup.Field = "email"
	case t.Phone:
		dup.Field, dup.Message = "phone", "an entry with this phone number exists for this event"
	case t.Person:
		dup.Field, dup.Message = "name", "an entry for this name and birth date exists for this event"
	}
	return &dup
}
