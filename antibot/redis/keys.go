package redis

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// hashLen is how many bytes of the digest name a key: 128 bits make
// collisions (two people sharing a budget) practically impossible while
// keeping key names short.
const hashLen = 16

// hashValue returns the hex of the first hashLen bytes of sha256(v), or of
// hmac_sha256(secret, v) when secret is set. The keyed form stops anyone who
// can list Redis keys from testing guesses (an IPv4 address or a known
// e-mail) against them.
func hashValue(secret []byte, v string) string {
	var sum []byte
	if len(secret) > 0 {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(v))
		sum = m.Sum(nil)
	} else {
		s := sha256.Sum256([]byte(v))
		sum = s[:]
	}
	return hex.EncodeToString(sum[:hashLen])
}

// Key names and Redis Cluster. A cluster keeps a key in one of 16384 slots
// by the CRC16 of its hash tag (the text between the first "{" and the next
// "}") or, without one, of the whole name, and refuses a command or script
// naming keys of different slots (CROSSSLOT). Every key here carries its
// own value's hash as the tag:
//
//	limiter counter  prefix + "rl:" + kind + ":" + period + ":{" + hash + "}"
//	spent proof      prefix + "replay:{" + hash + "}"
//	known device     prefix + "known:{" + hash + "}"
//
// So the windows of one value (ip's 20/min and 300/h) share a slot and one
// script may count them together, as may the kinds that count the same
// value (ip and staff_login of one address). Not an event's tag: all of an
// event's runners spend its budgets at once, so a tag gathering an event's
// keys would put its whole rush on one slot of one node however many nodes
// there are. Not a request's: a request's keys (its address, device,
// address pair, event, proof) are each shared with other requests, so one
// slot per request exists only as one slot for everything. Per-value tags
// spread the keys evenly; the one key a whole event spends is its valve
// (kind event, one counter per window), a single INCR per request, far
// within one Redis core against the PostgreSQL commit rate it protects.
// A request's keys go out as one pipeline of single-key scripts, which the
// cluster client splits per node and sends concurrently: still one round
// trip. The prefix must not contain "{", or it would be the tag.

// counterKey is a limiter counter's name (hash = hashValue of the key's
// value). ulule's Redis store, with prefix + "rl" as its prefix, reads it
// under the id tag + ":{" + hash + "}".
func counterKey(prefix, tag, hash string) string { return prefix + tag + ":{" + hash + "}" }

// tagged is a single-use or remembered id's name: its hash as the tag.
func tagged(prefix, hash string) string { return prefix + "{" + hash + "}" }
