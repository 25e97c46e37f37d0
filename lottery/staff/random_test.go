package staff

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/startline/startline/internal/testrand"
	"github.com/startline/startline/lottery"
)

func newRandomService(t *testing.T, r io.Reader) *Service {
	t.Helper()
	keys, err := lottery.NewKeys([]byte("random-test-secret-key-random-test-secret"))
	if err != nil {
		t.Fatal(err)
	}
	return NewService(nil, nil, keys, &lottery.FixedClock{T: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}, nil,
		slog.New(slog.DiscardHandler), Config{Random: r})
}

// TestServiceRandomSource: staff tokens, generated passwords and TOTP
// secrets come from the service's random source (Config.Random), so a test
// can fix them; a failing source is an error, never a panic or a weak value.
func TestServiceRandomSource(t *testing.T) {
	// Two services on equal sources make equal tokens and credentials.
	a, b := newRandomService(t, &testrand.Counter{}), newRandomService(t, &testrand.Counter{})
	for _, n := range []int{15, 32} {
		ta, errA := a.randomToken(n)
		tb, errB := b.randomToken(n)
		if errA != nil || errB != nil || ta != tb || ta == "" {
			t.Errorf("randomToken(%d) = %q, %q (%v, %v); want equal tokens", n, ta, tb, errA, errB)
		}
	}
	ca, errA := a.newCredentials("org@example.com", "")
	cb, errB := b.newCredentials("org@example.com", "")
	if errA != nil || errB != nil || ca.generated != cb.generated || ca.totpURL != cb.totpURL {
		t.Errorf("credentials differ on equal sources: %q %q, %q %q (%v, %v)", ca.generated, cb.generated, ca.totpURL, cb.totpURL, errA, errB)
	}

	broken := newRandomService(t, testrand.Broken{})
	if tok, err := broken.randomToken(32); err == nil {
		t.Errorf("token %q from a failing source", tok)
	}
	if _, err := broken.newCredentials("org@example.com", ""); err == nil {
		t.Error("credentials from a failing source")
	}
}
