package worker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
)

// Server runs the Asynq task server and the periodic scheduler.
type Server struct {
	srv   *asynq.Server
	sched *asynq.Scheduler
	mux   *asynq.ServeMux
}

// Options configures a Server.
type Options struct {
	Redis       asynq.RedisConnOpt
	Queue       string // the base name of the queues (QueuesFor)
	Concurrency int
	Log         *slog.Logger
	Mailer      *Mailer
	Drawer      *Drawer
	Odds        *Odds      // the odds pass; nil: none
	Retention   *Retention // the retention pass; nil: none
	Tallies     *Tallies   // the dashboard pass (issue 14); nil: none
	Cards       *Cards     // the card-on-file charge pass (issue 15); nil: none
	// OnTaskFailure hears the type of each failed task run (the metrics
	// count them); nil: nobody.
	OnTaskFailure func(taskType string)
}

// NewServer registers every handler and periodic task.
func NewServer(o Options) (*Server, error) {
	if o.Concurrency == 0 {
		o.Concurrency = 10
	}
	q := QueuesFor(o.Queue)
	srv := asynq.NewServer(o.Redis, asynq.Config{
		Concurrency: o.Concurrency,
		Queues:      q.Weights(),
		Logger:      slogAdapter{o.Log},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			o.Log.WarnContext(ctx, "task failed", "type", t.Type(), "err", err)
			if o.OnTaskFailure != nil {
				o.OnTaskFailure(t.Type())
			}
		}),
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeSendMail, o.Mailer.HandleSendMail)
	mux.HandleFunc(TypeSweepOutbox, o.Mailer.HandleSweepOutbox)
	if o.Drawer != nil {
		mux.HandleFunc(TypeDrawSubqueue, o.Drawer.HandleDrawSubqueue)
		mux.HandleFunc(TypeClusterSweep, o.Drawer.HandleClusterSweep)
		mux.HandleFunc(TypeExpireOffer, o.Drawer.HandleExpireOffer)
		mux.HandleFunc(TypeReconcileOffers, o.Drawer.HandleReconcileOffers)
		mux.HandleFunc(TypeRemindOffers, o.Drawer.HandleRemindOffers)
		mux.HandleFunc(TypeRetryRefunds, o.Drawer.HandleRetryRefunds)
		mux.HandleFunc(TypeAdmitQueues, o.Drawer.HandleAdmitQueues)
		mux.HandleFunc(TypeReconcileDraws, o.Drawer.HandleReconcileDraws)
		mux.HandleFunc(TypeExpireTransfers, o.Drawer.HandleExpireTransfers)
	}
	if o.Odds != nil {
		mux.HandleFunc(TypeRefreshOdds, o.Odds.HandleRefreshOdds)
	}
	if o.Retention != nil {
		mux.HandleFunc(TypeRetention, o.Retention.HandleRetention)
	}
	if o.Tallies != nil {
		mux.HandleFunc(TypeFoldTallies, o.Tallies.HandleFoldTallies)
	}
	if o.Cards != nil {
		mux.HandleFunc(TypeChargeCards, o.Cards.HandleChargeCards)
	}
	sched := asynq.NewScheduler(o.Redis, &asynq.SchedulerOpts{Logger: slogAdapter{o.Log}})
	// Intents queued without a task of their own go out within ~25 s.
	if _, err := sched.Register("@every 15s", NewSweepOutboxTask(q.Mail)); err != nil {
		return nil, fmt.Errorf("schedule outbox sweep: %w", err)
	}
	if o.Drawer != nil {
		// Clusters follow arrivals within half a minute; a pass over 100k
		// entries takes ~0.25 s (docs/BENCHMARKS.md).
		if _, err := sched.Register("@every 30s", NewClusterSweepTask(q.Background)); err != nil {
			return nil, fmt.Errorf("schedule cluster sweep: %w", err)
		}
		if _, err := sched.Register("@every 1m", NewReconcileOffersTask(q.Critical)); err != nil {
			return nil, fmt.Errorf("schedule offer reconciler: %w", err)
		}
		// A reminder is due hours before a hold ends; a minute late is fine.
		if _, err := sched.Register("@every 1m", NewRemindOffersTask(q.Critical)); err != nil {
			return nil, fmt.Errorf("schedule offer reminders: %w", err)
		}
		// A refund the provider refused (it was down) is asked for again.
		if _, err := sched.Register("@every 5m", NewRetryRefundsTask(q.Critical)); err != nil {
			return nil, fmt.Errorf("schedule refund retries: %w", err)
		}
		if _, err := sched.Register("@every 1m", NewReconcileDrawsTask(q.Critical)); err != nil {
			return nil, fmt.Errorf("schedule draw reconciler: %w", err)
		}
		// A transfer link ends after hours; a minute late is fine.
		if _, err := sched.Register("@every 1m", NewExpireTransfersTask(q.Critical)); err != nil {
			return nil, fmt.Errorf("schedule transfer expiry: %w", err)
		}
		// Waiting rooms move every 5 s; ETAs assume it (poll_after_seconds >= 5).
		if _, err := sched.Register("@every 5s", NewAdmitQueuesTask(q.Critical)); err != nil {
			return nil, fmt.Errorf("schedule waiting-room admission: %w", err)
		}
	}
	if o.Odds != nil {
		// Odds pages read the stored snapshot; a minute is as fresh as they get.
		if _, err := sched.Register("@every 1m", NewRefreshOddsTask(q.Background)); err != nil {
			return nil, fmt.Errorf("schedule odds pass: %w", err)
		}
	}
	if o.Tallies != nil {
		// Dashboard reads fold their own event; this keeps the rest small.
		if _, err := sched.Register("@every 1m", NewFoldTalliesTask(q.Background)); err != nil {
			return nil, fmt.Errorf("schedule dashboard pass: %w", err)
		}
	}
	if o.Cards != nil {
		// Selected runners' saved cards are charged seconds after publishing.
		if _, err := sched.Register(fmt.Sprintf("@every %s", ChargePassEvery), NewChargeCardsTask(q.Critical)); err != nil {
			return nil, fmt.Errorf("schedule card charges: %w", err)
		}
	}
	if o.Retention != nil {
		// Retention is counted in days: an hourly pass is prompt enough.
		t, err := NewRetentionTask(0, q.Background)
		if err != nil {
			return nil, err
		}
		if _, err := sched.Register("@every 1h", t); err != nil {
			return nil, fmt.Errorf("schedule retention pass: %w", err)
		}
	}
	return &Server{srv: srv, sched: sched, mux: mux}, nil
}

// Start runs the server and scheduler in the background.
func (s *Server) Start() error {
	if err := s.srv.Start(s.mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if err := s.sched.Start(); err != nil {
		s.srv.Shutdown()
		return fmt.Errorf("start scheduler: %w", err)
	}
	return nil
}

// Shutdown stops taking work and waits for running tasks.
func (s *Server) Shutdown() {
	s.sched.Shutdown()
	s.srv.Shutdown()
}

// slogAdapter routes Asynq's logs to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
