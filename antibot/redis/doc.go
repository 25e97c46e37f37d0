// Package redis holds the Redis adapters of the anti-bot layer: single-use
// ids (Replay) and fixed-window rate limits (Limiter, on ulule/limiter's
// Redis store), plus the rate-limit HTTP headers. Every key it writes starts
// with the caller's prefix, and no key name carries personal data: e-mail
// addresses, IPs and tokens appear only as truncated hashes.
//
// It uses redis.UniversalClient, so a single node, Sentinel or Cluster
// (REDIS_CLUSTER_ADDRS) all work: every script touches one key, and each
// key's hash tag is its own value's hash (keys.go), which spreads a rush
// over every node of a cluster.
package redis
