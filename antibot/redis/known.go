package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Known remembers which devices have proved they read an e-mail address (an
// application made with the code mailed to it), so that a budget that
// protects the address from strangers can still let its owner through.
// Keys are prefix + "known:{" + a hash of the pair + "}", keyed like the
// limiter's (WithHashSecret), so they carry no address or device id.
type Known struct {
	rdb    goredis.UniversalClient
	prefix string
	secret []byte
}

// NewKnown returns the set; secret keys the hashes (nil: plain SHA-256).
func NewKnown(rdb goredis.UniversalClient, prefix string, secret []byte) *Known {
	return &Known{rdb: rdb, prefix: prefix + "known:", secret: append([]byte(nil), secret...)}
}

// Remember records that device reads address for ttl (one round trip).
func (k *Known) Remember(ctx context.Context, device, address string, ttl time.Duration) error {
	if device == "" || address == "" {
		return errors.New("known: empty device or address")
	}
	if err := k.rdb.Set(ctx, k.key(device, address), 1, ttl).Err(); err != nil {
		return fmt.Errorf("known: %w", err)
	}
	return nil
}

// Has reports whether device was remembered for address. An empty device
// is never known.
func (k *Known) Has(ctx context.Context, device, address string) (bool, error) {
	if device == "" || address == "" {
		return false, nil
	}
	n, err := k.rdb.Exists(ctx, k.key(device, address)).Result()
	if err != nil {
		return false, fmt.Errorf("known: %w", err)
	}
	return n == 1, nil
}

func (k *Known) key(device, address string) string {
	return tagged(k.prefix, hashValue(k.secret, device+"\x00"+address))
}
