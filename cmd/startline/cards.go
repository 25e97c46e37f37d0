package main

import (
	"log/slog"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/worker"
)

// useCards builds the card-on-file charge pass (issue 15) when the payment
// provider saves cards and charges them off-session; its meter is a token
// bucket per event in Redis, shared by every worker.
func (a *app) useCards(p lottery.PaymentProvider) {
	cp, ok := p.(lottery.CardProvider)
	if !ok {
		return
	}
	a.cards = offers.NewCharger(a.store, cp, &worker.RedisMeter{RDB: a.redis, Prefix: "startline:"}, lottery.SystemClock{}, a.tasks, a.log)
	a.cards.OnOutcome(a.metrics.CardCharged)
}

// workerCards is the worker's charge pass; nil when there is none.
func (a *app) workerCards(log *slog.Logger) *worker.Cards {
	if a.cards == nil {
		return nil
	}
	return &worker.Cards{Charger: a.cards, Log: log}
}
