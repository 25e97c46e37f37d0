package worker

// Queues are the Asynq queues of one deployment, one per kind of work, all
// named from STARTLINE_QUEUE. Kinds are apart so that a results day's
// hundreds of thousands of mails never delay an offer's expiry or a
// waiting room's next admission, and so that on a Redis Cluster each
// queue (Asynq tags its keys with the queue name) lands on its own slot.
type Queues struct {
	// Critical is the base name itself: draws, offer expiry and
	// reconciling, admissions, card charges, refunds, transfer expiry.
	Critical string
	// Mail is deliveries and the outbox sweep.
	Mail string
	// Background is recomputable passes: clustering, odds, dashboard
	// rollups, retention.
	Background string
}

// QueuesFor names the queues of the base name ("startline" → startline,
// startline-mail, startline-background).
func QueuesFor(base string) Queues {
	return Queues{Critical: base, Mail: base + "-mail", Background: base + "-background"}
}

// Names lists the queues, critical first.
func (q Queues) Names() []string { return []string{q.Critical, q.Mail, q.Background} }

// Weights are the worker's priorities: of ten tasks taken while all three
// queues have work, six are critical, three mail and one background
// (Asynq's weighted, not strict, priority: no kind starves).
func (q Queues) Weights() map[string]int {
	return map[string]int{q.Critical: 6, q.Mail: 3, q.Background: 1}
}
