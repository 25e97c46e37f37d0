package lottery

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/startline/startline/internal/testrand"
)

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
	s := newRandomService(t, &testrand.Counter{})
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

	broken := newRandomService(t, testrand.Broken{})
	if _, err := broken.newSeedCommit("demo"); err == nil {
		t.Error("seed commit from a failing source")
	}
}
