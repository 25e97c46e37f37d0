package drawstats_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/drawstats"
)

// steps is a lottery.DrawSteps whose freeze succeeds or fails as told.
type steps struct {
	lottery.DrawSteps
	err error
}

func (s steps) Freeze(_ context.Context, ev lottery.Event, _ string, _ time.Time, _ lottery.Actor) (lottery.Event, error) {
	if s.err != nil {
		return lottery.Event{}, s.err
	}
	ev.Status = lottery.EventFrozen
	return ev, nil
}

// store answers FrozenPools (or fails it) and records saved snapshots; the
// freeze wrapper needs nothing else.
type store struct {
	drawstats.Store
	poolsErr error
	saved    []drawstats.Snapshot
}

func (s *store) FrozenPools(context.Context, int64) ([]drawstats.Pool, error) {
	return []drawstats.Pool{{SubQueueID: 7, Capacity: 1, Mode: lottery.ModeLottery}}, s.poolsErr
}

func (s *store) SaveSnapshots(_ context.Context, snaps []drawstats.Snapshot) error {
	s.saved = append(s.saved, snaps...)
	return nil
}

// FinalOnFreeze stores the final odds after a freeze; a freeze that fails
// stores none, and odds that fail leave the freeze standing.
func TestFinalOnFreeze(t *testing.T) {
	frozeErr := errors.New("freeze refused")
	tests := []struct {
		name      string
		freezeErr error
		poolsErr  error
		wantErr   error
		wantSaved int
	}{
		{"freeze and final odds", nil, nil, nil, 1},
		{"freeze refused", frozeErr, nil, frozeErr, 0},
		{"odds fail, freeze stands", nil, lottery.ErrUnavailable, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &store{poolsErr: tt.poolsErr}
			svc := drawstats.NewService(st, &lottery.FixedClock{T: time.Unix(0, 0)}, slog.New(slog.DiscardHandler), drawstats.Config{})
			ev, err := svc.FinalOnFreeze(steps{err: tt.freezeErr}).Freeze(context.Background(), lottery.Event{ID: 3, Slug: "e"}, "", time.Time{}, lottery.Actor{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("freeze: %v, want %v", err, tt.wantErr)
			}
			if err == nil && ev.Status != lottery.EventFrozen {
				t.Errorf("event %s, want frozen", ev.Status)
			}
			if len(st.saved) != tt.wantSaved {
				t.Fatalf("saved %d snapshots, want %d", len(st.saved), tt.wantSaved)
			}
			if tt.wantSaved > 0 && (!st.saved[0].Final || st.saved[0].Odds == nil || st.saved[0].EventID != 3) {
				t.Errorf("snapshot %+v, want final odds of event 3", st.saved[0])
			}
		})
	}
}
