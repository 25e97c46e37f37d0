package redis

import (
	"fmt"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// keySlot is Redis Cluster's slot of a key (the cluster spec's
// HASH_SLOT): CRC16/XMODEM of the hash tag, the text between the first "{"
// and the next "}" when that is not empty, else of the whole key, modulo
// 16384. go-redis keeps its own in an internal package.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc % 16384)
}

// TestKeySlot checks the helper against the spec's examples and answers of
// Redis 7.0's CLUSTER KEYSLOT.
func TestKeySlot(t *testing.T) {
	tests := []struct {
		key  string
		want int
	}{
		{"123456789", 0x31C3}, // the spec's CRC16 check value
		{"foo", 12182},
		{"bar", 5061},
		{"{user1000}.following", keySlot("user1000")},
		{"foo{}{bar}", 8363}, // an empty first tag: the whole key
		{"foo{{bar}}zap", 4015},
		{"foo{bar}{zap}", 5061},
		{"startline:rl:ip:60s:{0123abcd}", 2550},
	}
	for _, tt := range tests {
		if got := keySlot(tt.key); got != tt.want {
			t.Errorf("keySlot(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

// keysOf are the Redis keys the production limiter (DefaultRules, a hash
// secret, the "startline:" prefix) counts keys under.
func keysOf(t *testing.T, keys ...Key) []string {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { rdb.Close() })
	l, err := NewLimiter(rdb, "startline:", DefaultRules(), true, nil, WithHashSecret([]byte("deployment secret")))
	if err != nil {
		t.Fatal(err)
	}
	checks, err := l.checks(nil, keys)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.key
	}
	return out
}

// TestMultiKeyOperationsShareASlot: the keys an operation may name
// together (in one script, MULTI or WATCH on Redis Cluster) hash to one
// slot. Those are the windows of one value, and the kinds that count one
// value; a replay id and a known pair are one key each, tagged by their
// own hash.
func TestMultiKeyOperationsShareASlot(t *testing.T) {
	ip := ClientKey("175.223.10.7")
	pair := "ip:" + ip + "|runner@example.com"
	tests := []struct {
		name string
		keys []string
	}{
		{"the windows of one client address", keysOf(t, Key{KindIP, ip})},
		{"one client address under every kind that counts it", keysOf(t, Key{KindIP, ip}, Key{KindStaffLogin, ip})},
		{"the windows of one device", keysOf(t, Key{KindDevice, "dev-7f3a"})},
		{"the code-mail windows of one (requester, address) pair", keysOf(t, Key{KindOTPEmail, pair})},
		{"the inbox cap's windows of one address", keysOf(t, Key{KindOTPInbox, "runner@example.com"})},
		{"the staff login windows of one address", keysOf(t, Key{KindStaffLogin, ip})},
		{"an event's valve", keysOf(t, Key{KindEvent, "seoul-marathon-2027"})},
		{"a spent proof", []string{NewReplay(nil, "startline:").key("challenge-salt?expires=1")}},
		{"a known (device, address)", []string{NewKnown(nil, "startline:", []byte("s")).key("dev-7f3a", "runner@example.com")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.keys) == 0 {
				t.Fatal("no keys")
			}
			for _, k := range tt.keys {
				if !strings.HasPrefix(k, "startline:") || strings.Count(k, "{") != 1 || !strings.HasSuffix(k, "}") {
					t.Errorf("key %q: want the prefix and one hash tag at the end", k)
				}
				if got, want := keySlot(k), keySlot(tt.keys[0]); got != want {
					t.Errorf("%q is in slot %d, %q in %d", k, got, tt.keys[0], want)
				}
			}
		})
	}
}

// TestKeysSpreadOverTheCluster: a rush of different clients lands evenly
// on a three-node cluster's slot ranges (as redis-cli --cluster create
// splits them), not on one node, as a per-event tag would.
func TestKeysSpreadOverTheCluster(t *testing.T) {
	const clients = 3000
	var keys []Key
	for i := range clients {
		keys = append(keys, Key{KindIP, ClientKey(fmt.Sprintf("175.223.%d.%d", i/250, i%250))})
	}
	perNode := [3]int{}
	slots := map[int]bool{}
	for _, k := range keysOf(t, keys...) {
		s := keySlot(k)
		slots[s] = true
		switch {
		case s <= 5460:
			perNode[0]++
		case s <= 10922:
			perNode[1]++
		default:
			perNode[2]++
		}
	}
	total := perNode[0] + perNode[1] + perNode[2]
	t.Logf("%d keys per node of three: %v", total, perNode)
	for i, n := range perNode {
		if share := float64(n) / float64(total); share < 0.28 || share > 0.39 {
			t.Errorf("node %d holds %.0f%% of the keys (%v)", i, 100*share, perNode)
		}
	}
	// Two windows per client share a slot: ~3000 clients, few collisions.
	if len(slots) < clients*9/10 {
		t.Errorf("%d clients' keys in %d slots", clients, len(slots))
	}
}
