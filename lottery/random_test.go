package lottery

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

// counter is a predictable random source: the bytes 0, 1, 2, ...
type counter struct{ n byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

type brokenReader struct{}

func (brokenReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func newRandomService(t *testing.T, r io.Reader) *Service {
	t.Helper()
	keys, err := NewKeys([]byte("random-test-secret-key-random-test-secret"))
	if err != nil {
		t.Fatal(err)
	}
	return NewService(nil, keys, &FixedClock{T: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}, nil, slog.New(slog.DiscardHandler),
		Config{Random: r})
}

// TestServiceRandomSource: the seed secret comes from the service's random
// source (Config.Random; staff credentials: lottery/staff's test), so a test can fix them; a failing source is an error,
// never a panic or a weak value.
func TestServiceRandomSource(t *testing.T) {
	s := newRandomService(t, &counter{})
	commit, err := s.newSeedCommit("demo")
	if err != nil {
		t.Fatal(err)
	}
	var want [32]byte
	for i := range want {
		want[i] = byte(i)
	}
	if sum := sha256.Sum256(want[:]); commit.Commitment != hex.EncodeToString(sum[:]) {
		t.Errorf("commitment %s is not of the source's first 32 bytes", commit.Commitment)
	}
	if plain, err := s.keys.Open(commit.Sealed, "seed:demo"); err != nil || string(plain) != string(want[:]) {
		t.Errorf("sealed seed = %x, %v; want %x", plain, err, want)
	}

	broken := newRandomService(t, brokenReader{})
	if _, err := broken.newSeedCommit("demo"); err == nil {
		t.Error("seed commit from a failing source")
	}
}
