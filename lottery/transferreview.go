package lottery

// ReasonTransferRecipient marks a transfer recipient whose form scored for
// review (issue 15): the transfer waits in the review queue, and the
// reviewer's approve lets the recipient pay, a reject closes the transfer
// with the giver keeping the place.
const ReasonTransferRecipient = "transfer_recipient"
