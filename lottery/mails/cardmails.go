package mails

// Card on file (issue 15): the mails of an off-session charge. Both are
// intents of an offer, rendered from EntryData (MovedUp says the offer
// reached the runner from the waitlist).
const (
	// OfferCardCharge replaces OfferIssued and OfferMovedUp for an offer
	// whose runner saved a card: the card will be charged the amount, and
	// a mail follows either way.
	OfferCardCharge = "offer.card_charge"
	// OfferCardFailed says the saved card could not be charged and gives
	// the pay link and the hold's end.
	OfferCardFailed = "offer.card_failed"
)
