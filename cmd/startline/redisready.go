package main

import (
	"context"
	"runtime"

	"github.com/redis/go-redis/v9"
)

// pingRedis is readiness's Redis check: a PING, or on Redis Cluster a PING
// to every master. A cluster's PING goes to one node, which answers while
// another is down with its slots (with three masters a third of the keys,
// so a third of the requests' counters fail), so one PING would call the
// process ready while most writes answer 503.
func pingRedis(ctx context.Context, rdb redis.UniversalClient) error {
	if c, ok := rdb.(*redis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return n.Ping(ctx).Err() })
	}
	return rdb.Ping(ctx).Err()
}

// clusterOptions are the Redis Cluster client's options. go-redis gives a
// cluster client 5 connections per node and CPU where a single-node client
// gets 10; a request's counters span the nodes, so every request holds one
// connection per node at once, and under a rush the smaller pools queue
// requests past the limiter's 200 ms budget (BenchmarkGateRedis). Each
// node's pool is that of a single-node client.
func clusterOptions(addrs []string) *redis.ClusterOptions {
	return &redis.ClusterOptions{Addrs: addrs, PoolSize: redisPoolSize()}
}

// redisPoolSize is each Redis node's connection pool when REDIS_URL does
// not set pool_size: go-redis's 10 per CPU (20 on two cores) made 256
// concurrent applies wait for a connection past the limiter's 200 ms
// budget (BenchmarkApplyHTTP answered 503s); connections open as needed,
// so the larger cap costs nothing when idle.
func redisPoolSize() int { return max(128, 10*runtime.GOMAXPROCS(0)) }
