package worker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/worker"
)

// cardDB is this branch's own Redis database for the card tests.
const cardDB = 15

// passStore is an offers.CardChargeStore with nothing due that tells when
// a pass asked.
type passStore struct {
	offers.CardChargeStore
	once  sync.Once
	asked chan struct{}
}

func (s *passStore) DueCardEvents(context.Context, time.Time) ([]offers.CardEventDue, error) {
	s.once.Do(func() { close(s.asked) })
	return nil, nil
}

// TestChargeCardsThroughAsynq: the card:charge task reaches the charge pass
// through Asynq on Redis (the worker's server, its own queue on DB 15).
func TestChargeCardsThroughAsynq(t *testing.T) {
	b := make([]byte, 4)
	rand.Read(b)
	queue := "test-cards-" + hex.EncodeToString(b)
	o := redisOpt(t)
	opt := asynq.RedisClientOpt{Addr: o.Addr, Password: o.Password, DB: cardDB}
	t.Cleanup(func() {
		insp := asynq.NewInspector(opt)
		deleteQueues(insp, queue)
		insp.Close()
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := &passStore{asked: make(chan struct{})}
	ch := offers.NewCharger(store, nil, offers.NewMemoryMeter(), lottery.SystemClock{}, nil, log)
	srv, err := worker.NewServer(worker.Options{Redis: opt, Queue: queue, Log: log, Mailer: &worker.Mailer{Log: log}, Concurrency: 1,
		Cards: &worker.Cards{Charger: ch, Log: log}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	client := asynq.NewClient(opt)
	defer client.Close()
	if _, err := client.Enqueue(worker.NewChargeCardsTask(queue)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-store.asked:
	case <-time.After(15 * time.Second):
		t.Fatal("the card:charge task never ran the pass")
	}
}

// TestRedisMeterShared: two workers' meters on one Redis share each
// event's bucket (one second's worth at 120 a minute: 2), and events do
// not share.
func TestRedisMeterShared(t *testing.T) {
	o := redisOpt(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: o.Addr, Password: o.Password, DB: cardDB})
	b := make([]byte, 4)
	rand.Read(b)
	prefix := "sltest:meter:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		keys, _ := rdb.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
		rdb.Close()
	})
	ctx := context.Background()
	a, c := &worker.RedisMeter{RDB: rdb, Prefix: prefix}, &worker.RedisMeter{RDB: rdb, Prefix: prefix}
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for _, m := range []*worker.RedisMeter{a, c, a, c} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := m.Take(ctx, 7, 120, 5)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total < 2 || total > 3 { // the burst, and what refilled meanwhile
		t.Errorf("four takes at once granted %d, want the burst of 2", total)
	}
	if n, _ := c.Take(ctx, 8, 120, 5); n != 2 {
		t.Errorf("another event's bucket gave %d, want 2", n)
	}
}
