package worker_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/worker"
)

// TestSweepPagesThroughBacklog: one sweep enqueues a backlog larger than
// its page (a draw's result mails), each mail once, onto the mail queue;
// a second sweep while they wait adds none.
func TestSweepPagesThroughBacklog(t *testing.T) {
	ctx := context.Background()
	store, _ := pgtest.NewStore(t)
	queue, _, insp, client := testQueue(t, "test-sweep-")
	const backlog = 2100 // a full page of 2000 and a short one
	if err := store.DB().Exec(`INSERT INTO outbox (to_addr, subject, body, kind, created_at)
		SELECT 'runner' || i || '@example.com', 'Result', 'Not drawn.', 'entry.not_drawn', now() - interval '1 minute'
		FROM generate_series(1, ?) AS i`, backlog).Error; err != nil {
		t.Fatal(err)
	}
	mailer := &worker.Mailer{Store: store, Sender: &captureSender{}, Client: client,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for range 2 {
		if err := mailer.HandleSweepOutbox(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	q := worker.QueuesFor(queue)
	info, err := insp.GetQueueInfo(q.Mail)
	if err != nil {
		t.Fatal(err)
	}
	if info.Pending != backlog {
		t.Errorf("mail queue holds %d pending tasks, want %d (each unsent mail once)", info.Pending, backlog)
	}
	if info, err := insp.GetQueueInfo(q.Critical); err == nil && info.Size > 0 {
		t.Errorf("mail landed on the critical queue: %d tasks", info.Size)
	}
}

// BenchmarkMailDelivery: the worker's whole path for one queued mail
// (read it, send it over the pooled SMTP session to a loopback relay,
// mark it sent), 10 at once as one worker process runs them.
func BenchmarkMailDelivery(b *testing.B) {
	ctx := context.Background()
	store, _ := pgtest.NewStore(b)
	sink, addr := startSink(b)
	go func() {
		for range sink.got {
		}
	}()
	sender, err := worker.NewSMTPSender("smtp://"+addr, "Startline <no-reply@startline.invalid>")
	if err != nil {
		b.Fatal(err)
	}
	defer sender.Close()
	var ids []int64
	if err := store.DB().Raw(`INSERT INTO outbox (to_addr, subject, body, kind)
		SELECT 'runner' || i || '@example.com', 'Result', 'Not drawn this time.', 'entry.not_drawn'
		FROM generate_series(1, ?) AS i RETURNING id`, b.N).Scan(&ids).Error; err != nil {
		b.Fatal(err)
	}
	mailer := &worker.Mailer{Store: store, Sender: sender, Redact: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	next := make(chan int64, len(ids))
	for _, id := range ids {
		next <- id
	}
	close(next)
	b.ResetTimer()
	b.SetParallelism(5) // 10 goroutines on 2 cores: a worker's default concurrency
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			task, _ := worker.NewSendMailTask(<-next, "bench")
			if err := mailer.HandleSendMail(ctx, task); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Minutes(), "mails/min")
}
