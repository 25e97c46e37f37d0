package postgres

import (
	"context"

	"github.com/startline/startline/lottery/registration"
)

// FlushApplies writes applications as one batch, as the batcher would
// (tests choose members that assemble keeps together), answering in order.
func FlushApplies(s *Store, ctxs []context.Context, txs []registration.ApplyTx) ([]registration.ApplyOutcome, []error) {
	calls := make([]*applyCall, len(txs))
	for i, a := range txs {
		calls[i] = &applyCall{ctx: ctxs[i], a: a, done: make(chan applyAnswer, 1)}
	}
	s.flushApplies(calls)
	outs, errs := make([]registration.ApplyOutcome, len(txs)), make([]error, len(txs))
	for i, c := range calls {
		r := <-c.done
		outs[i], errs[i] = r.out, r.err
	}
	return outs, errs
}
