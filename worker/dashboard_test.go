package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/startline/startline/worker"
)

type folder struct {
	calls int
	err   error
}

func (f *folder) FoldTallies(context.Context) (int, error) { f.calls++; return 3, f.err }

// TestFoldTalliesPass: the dashboard pass folds through the store and
// reports its failure (the scheduler retries next minute).
func TestFoldTalliesPass(t *testing.T) {
	f := &folder{}
	p := &worker.Tallies{Store: f, Log: slog.New(slog.DiscardHandler)}
	if err := p.HandleFoldTallies(context.Background(), worker.NewFoldTalliesTask("q")); err != nil || f.calls != 1 {
		t.Fatalf("pass: %v, %d calls", err, f.calls)
	}
	f.err = errors.New("down")
	if err := p.HandleFoldTallies(context.Background(), nil); !errors.Is(err, f.err) {
		t.Fatalf("failure not reported: %v", err)
	}
	if task := worker.NewFoldTalliesTask("q"); task.Type() != worker.TypeFoldTallies {
		t.Errorf("task type %q", task.Type())
	}
}
