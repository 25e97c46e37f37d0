package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	abredis "github.com/startline/startline/antibot/redis"
)

// BenchmarkGateRedis is an application's Redis work at the gate, as the app
// does it (app.go's rules): one pipeline counting its six counters (ip's two
// windows, the device's two, the event's valve, the (requester, address)
// pair) and the proof's replay claim; every request from its own client,
// one per CPU (latency) and 256 at once (a rush), all
// spending one event's valve. On one redis-server and on a
// three-node Redis Cluster, both started here on loopback: the cluster
// client splits the pipeline per node and sends the parts concurrently.
// Run (docs/SCALING.md, Redis Cluster):
//
//	go test -run '^$' -bench BenchmarkGateRedis -benchtime 5s ./cmd/startline/
func BenchmarkGateRedis(b *testing.B) {
	node := func(b *testing.B) redis.UniversalClient {
		path, err := exec.LookPath("redis-server")
		if err != nil {
			b.Skip("redis-server is not installed")
		}
		port := strconv.Itoa(sparePort(b))
		startChild(b, "redis-"+port, b.TempDir(), path, []string{"--port", port, "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--daemonize", "no", "--logfile", ""}, []string{"PATH=" + os.Getenv("PATH")})
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
		b.Cleanup(func() { c.Close() })
		for c.Ping(context.Background()).Err() != nil {
			time.Sleep(20 * time.Millisecond)
		}
		return c
	}
	var n atomic.Int64 // request i comes from its own client: 10.x.y.z
	for _, tt := range []struct {
		name string
		rdb  func(*testing.B) redis.UniversalClient
	}{
		{"one node", node},
		{"cluster of 3", func(b *testing.B) redis.UniversalClient {
			c := redis.NewClusterClient(clusterOptions(startRedisCluster(b, 3).Addrs)) // app.go's options
			b.Cleanup(func() { c.Close() })
			return c
		}},
	} {
		rdb := tt.rdb(b)
		for _, conc := range []int{runtime.GOMAXPROCS(0), 256} {
			b.Run(fmt.Sprintf("%s, %d at once", tt.name, conc), func(b *testing.B) {
				// app.go's rules with the valve opened wide, so every request
				// is allowed (a refusal costs a second round trip, measured
				// elsewhere) while all of them still count on its one key.
				var rules []abredis.Rule
				for _, r := range rateRules() {
					if r.Kind == abredis.KindEvent {
						r.Rate.Limit = 1 << 40
					}
					rules = append(rules, r)
				}
				lim, err := abredis.NewLimiter(rdb, "startline:", rules, false, nil, abredis.WithHashSecret([]byte("bench")))
				if err != nil {
					b.Fatal(err)
				}
				replay := abredis.NewReplay(rdb, "startline:")
				var failed atomic.Int64
				var mu sync.Mutex
				var lat []time.Duration
				b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0))) // conc goroutines
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					var mine []time.Duration
					for pb.Next() {
						i := n.Add(1)
						ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
						t0 := time.Now()
						res, err := lim.Allow(ctx, abredis.Key{Kind: abredis.KindIP, Value: ip},
							abredis.Key{Kind: abredis.KindDevice, Value: "dev-" + ip}, abredis.Key{Kind: abredis.KindEvent, Value: "bench"},
							abredis.Key{Kind: abredis.KindEmail, Value: "ip:" + ip + "|runner" + ip + "@example.com"})
						if err == nil && res.Allowed {
							_, err = replay.Claim(ctx, "challenge-"+ip, "owner", time.Minute)
						}
						mine = append(mine, time.Since(t0))
						if err != nil || !res.Allowed { // the limiter's 200 ms timeout (fail closed)
							failed.Add(1)
						}
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
				b.StopTimer()
				slices.Sort(lat)
				if len(lat) > 0 {
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				}
				b.ReportMetric(100*float64(failed.Load())/float64(b.N), "%failed")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "gates/s")
			})
		}
	}
}
