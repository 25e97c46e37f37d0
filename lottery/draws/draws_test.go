package draws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"testing"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
)

// fakeStore keeps one sub-queue's draw in memory; methods a test does not
// use panic through the nil embedded interface.
type fakeStore struct {
	Store
	job      lottery.DrawJob
	saved    []lottery.StoredArtifact
	started  int
	revealed []string // secret hex of each RevealSeed
	lists    int      // DrawEntries calls
}

func (f *fakeStore) DrawJob(context.Context, int64) (lottery.DrawJob, error) { return f.job, nil }
func (f *fakeStore) StartDraw(context.Context, int64) error                  { f.started++; return nil }
func (f *fakeStore) SaveDraw(_ context.Context, _ int64, st lottery.StoredArtifact, _ fairdraw.Artifact) error {
	f.saved = append(f.saved, st)
	return nil
}
func (f *fakeStore) RevealSeed(_ context.Context, slug, secretHex, beacon string, _ lottery.Actor) (lottery.Event, error) {
	f.revealed = append(f.revealed, secretHex)
	return lottery.Event{Slug: slug, Beacon: beacon}, nil
}
func (f *fakeStore) DrawEntries(context.Context, int64) ([]fairdraw.Entry, error) {
	f.lists++
	return []fairdraw.Entry{{EntryID: "a", Tickets: 1}, {EntryID: "b", Tickets: 1}}, nil
}

type fakeEvents struct{ forgotten []string }

func (*fakeEvents) PublicEvent(context.Context, string) (lottery.Event, error) {
	return lottery.Event{}, lottery.ErrNotFound
}
func (*fakeEvents) EntryStatus(context.Context, string, string) (lottery.EntryView, error) {
	return lottery.EntryView{}, lottery.ErrNotFound
}
func (e *fakeEvents) ForgetEvent(slug string) { e.forgotten = append(e.forgotten, slug) }

func testKeys(t *testing.T) *lottery.Keys {
	t.Helper()
	k, err := lottery.NewKeys([]byte("draws-unit-test-secret-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newTestService(t *testing.T, st *fakeStore) (*Service, *fakeEvents) {
	ev := &fakeEvents{}
	return NewService(st, ev, ev, testKeys(t), nil, slog.New(slog.NewTextHandler(io.Discard, nil))), ev
}

// frozenJob is a frozen sub-queue of three entries, revealed unless secret is nil.
func frozenJob(t *testing.T, secret []byte) lottery.DrawJob {
	t.Helper()
	entries := []fairdraw.Entry{{EntryID: "e1", Tickets: 1}, {EntryID: "e2", Tickets: 1}, {EntryID: "e3", Tickets: 1}}
	real := []byte("0123456789abcdef0123456789abcdef")
	return lottery.DrawJob{
		Event: lottery.Event{Slug: "race", Status: lottery.EventFrozen, Commitment: fairdraw.Commitment(real)},
		Info: lottery.DrawInfo{SubQueueID: 7, SubQueue: "10k:open", Status: lottery.DrawFrozen, Capacity: 2,
			EntriesRoot: fairdraw.NewTree(entries).Root()},
		Entries: entries, Secret: secret,
	}
}

func TestRunDraw(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	drawnRaw := []byte(`{"already":"drawn"}` + "\n")
	drawnStored, err := NewStoredArtifact(drawnRaw)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		job       func(*testing.T) lottery.DrawJob
		wantErr   error // errors.Is; nil: success
		anyErr    bool  // an uncoded error
		wantSaves int
		wantRaw   []byte // nil: any
	}{
		{name: "frozen and revealed: drawn and saved once", job: func(t *testing.T) lottery.DrawJob { return frozenJob(t, secret) }, wantSaves: 1},
		{name: "seed not revealed", job: func(t *testing.T) lottery.DrawJob { return frozenJob(t, nil) }, wantErr: lottery.ErrInvalidTransition},
		{name: "root does not match the inputs", job: func(t *testing.T) lottery.DrawJob {
			j := frozenJob(t, secret)
			j.Info.EntriesRoot = "00"
			return j
		}, anyErr: true},
		{name: "already drawn: the stored artifact stands", job: func(t *testing.T) lottery.DrawJob {
			j := frozenJob(t, secret)
			j.Info.Status = lottery.DrawDrawn
			j.Event.Status = lottery.EventDrawn
			j.ArtifactGzip = drawnStored.Gzip
			return j
		}, wantRaw: drawnRaw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{job: tc.job(t)}
			s, ev := newTestService(t, st)
			raw, err := s.RunDraw(context.Background(), 7)
			switch {
			case tc.wantErr != nil || tc.anyErr:
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if len(st.saved) != tc.wantSaves {
				t.Fatalf("saves = %d, want %d", len(st.saved), tc.wantSaves)
			}
			if tc.wantRaw != nil && !bytes.Equal(raw, tc.wantRaw) {
				t.Fatalf("raw = %q, want %q", raw, tc.wantRaw)
			}
			if tc.wantSaves == 1 {
				got, err := Gunzip(st.saved[0].Gzip)
				if err != nil || !bytes.Equal(got, raw) {
					t.Fatalf("stored artifact is not the returned one: %v", err)
				}
				if len(ev.forgotten) != 1 || ev.forgotten[0] != "race" {
					t.Fatalf("cached event not dropped after the draw: %v", ev.forgotten)
				}
				// Deterministic: the same inputs draw the same bytes.
				st2 := &fakeStore{job: tc.job(t)}
				s2, _ := newTestService(t, st2)
				again, err := s2.RunDraw(context.Background(), 7)
				if err != nil || !bytes.Equal(again, raw) {
					t.Fatalf("second draw differs (%v)", err)
				}
			}
		})
	}
}

func TestArtifactEncoding(t *testing.T) {
	raw, err := MarshalArtifact(fairdraw.Artifact{Algorithm: "x", EventID: "race", SubQueue: "10k:open"})
	if err != nil {
		t.Fatal(err)
	}
	if raw[len(raw)-1] != '\n' || bytes.Contains(raw[:len(raw)-1], []byte("\n")) {
		t.Fatalf("not compact JSON plus one newline: %q", raw)
	}
	st, err := NewStoredArtifact(raw)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if st.SHA256 != hex.EncodeToString(sum[:]) || st.Size != int64(len(raw)) {
		t.Fatalf("hash or size is not the JSON's: %+v", st)
	}
	back, err := Gunzip(st.Gzip)
	if err != nil || !bytes.Equal(back, raw) {
		t.Fatalf("round trip: %q, %v", back, err)
	}
	if _, err := Gunzip([]byte("not gzip")); err == nil {
		t.Fatal("garbage decompressed")
	}
}

func TestRevealChecksCommitment(t *testing.T) {
	keys := testKeys(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	sealed, err := keys.Seal(secret, "seed:race")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		ev         lottery.Event
		wantReveal bool
	}{
		{"matching commitment", lottery.Event{Slug: "race", SeedSealed: sealed, Commitment: fairdraw.Commitment(secret)}, true},
		{"commitment of another seed", lottery.Event{Slug: "race", SeedSealed: sealed, Commitment: fairdraw.Commitment([]byte("other"))}, false},
		{"seed sealed for another event", lottery.Event{Slug: "other", SeedSealed: sealed, Commitment: fairdraw.Commitment(secret)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{}
			s := NewService(st, &fakeEvents{}, &fakeEvents{}, keys, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			_, err := s.Reveal(context.Background(), tc.ev, "beacon", lottery.Actor{Label: "staff:1"})
			if tc.wantReveal {
				if err != nil || len(st.revealed) != 1 || st.revealed[0] != hex.EncodeToString(secret) {
					t.Fatalf("err %v, revealed %v", err, st.revealed)
				}
				return
			}
			if err == nil || len(st.revealed) != 0 {
				t.Fatalf("revealed a seed that does not match: err %v, revealed %v", err, st.revealed)
			}
		})
	}
}

func TestGroupAlias(t *testing.T) {
	s, _ := newTestService(t, &fakeStore{})
	race, other := s.groupAlias("race"), s.groupAlias("other")
	if race("") != "" {
		t.Fatal("a solo entry got a group alias")
	}
	if !regexp.MustCompile(`^g-[0-9a-f]{20}$`).MatchString(race("kim-family")) {
		t.Fatalf("alias %q", race("kim-family"))
	}
	if first, again := race("kim-family"), s.groupAlias("race")("kim-family"); first != again {
		t.Fatal("alias not stable within the event")
	}
	if race("kim-family") == other("kim-family") || race("kim-family") == race("lee-family") {
		t.Fatal("alias links groups across events or codes")
	}
}

func TestTreeCacheKeepsRecentTrees(t *testing.T) {
	st := &fakeStore{}
	var c treeCache
	ctx := context.Background()
	for id := int64(1); id <= maxCachedTrees; id++ {
		if _, err := c.get(ctx, id, st); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.get(ctx, 1, st); err != nil || st.lists != maxCachedTrees {
		t.Fatalf("cached tree rebuilt: %d lists", st.lists)
	}
	c.get(ctx, maxCachedTrees+1, st) // evicts the oldest
	c.get(ctx, 1, st)
	if st.lists != maxCachedTrees+2 {
		t.Fatalf("oldest tree not evicted: %d lists", st.lists)
	}
}
