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
