package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// QueueSize is one task queue's tasks by state, as the queue library
// reports them (Asynq's Inspector.GetQueueInfo).
type QueueSize struct {
	Queue                                       string
	Pending, Active, Scheduled, Retry, Archived int64
}

// QueueStates are the state label's values, in the order QueueSize holds
// them.
var QueueStates = []string{"pending", "active", "scheduled", "retry", "archived"}

func (q QueueSize) counts() []int64 {
	return []int64{q.Pending, q.Active, q.Scheduled, q.Retry, q.Archived}
}

var (
	queueDesc = prometheus.NewDesc("startline_task_queue_tasks",
		"Background tasks in a task queue, by queue and state (pending, active, scheduled, retry, archived).",
		[]string{"queue", "state"}, nil)
	queueOKDesc = prometheus.NewDesc("startline_task_queue_scrape_ok",
		"1 if the task queues' sizes were read from Redis (within the cache time), else 0.", nil, nil)
)

// queueCollector reads the queue sizes at scrape time, with a short
// timeout, and keeps the answer a few seconds: several Prometheus servers
// (or a dashboard's refresh) then cost Redis one read. A failure is kept
// as briefly, so a Redis outage does not slow every scrape by the timeout.
type queueCollector struct {
	read    func(ctx context.Context) ([]QueueSize, error)
	timeout time.Duration
	ttl     time.Duration
	now     func() time.Time

	mu    sync.Mutex
	at    time.Time
	sizes []QueueSize
	err   error
}

func newQueueCollector(o Options) *queueCollector {
	q := &queueCollector{read: o.Queues, timeout: o.QueueTimeout, ttl: o.QueueCacheTTL, now: time.Now}
	if q.timeout <= 0 {
		q.timeout = time.Second
	}
	if q.ttl <= 0 {
		q.ttl = 5 * time.Second
	}
	return q
}

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDesc
	ch <- queueOKDesc
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	if q.read == nil {
		return // no task queues in this process's configuration
	}
	sizes, err := q.get()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(queueOKDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueOKDesc, prometheus.GaugeValue, 1)
	for _, s := range sizes {
		for i, n := range s.counts() {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), s.Queue, QueueStates[i])
		}
	}
}

// get answers from the cache, or reads once under the lock (concurrent
// scrapes wait for the one read rather than each reading).
func (q *queueCollector) get() ([]QueueSize, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.at.IsZero() && q.now().Sub(q.at) < q.ttl {
		return q.sizes, q.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), q.timeout)
	defer cancel()
	q.sizes, q.err = q.read(ctx)
	q.at = q.now()
	return q.sizes, q.err
}
