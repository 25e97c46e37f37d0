package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres"
)

// TestWaitingLines: the metrics' waiting-room gauges come from the line's
// place sequence less admitted_through, for lines whose window is open;
// before the opening and after the close the line is not shown.
func TestWaitingLines(t *testing.T) {
	svc, store, clk := queueBench(t, false)
	ctx := context.Background()
	for i := range 3 {
		if _, err := svc.JoinQueue(ctx, "drop", lottery.JoinRequest{Course: "10k", PaceGroup: "fcfs",
			Email: fmt.Sprintf("w%d@example.com", i)}, browser); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.WaitingLines(ctx, clk.T)
	if err != nil {
		t.Fatal(err)
	}
	want := []postgres.WaitingLine{{EventSlug: "drop", SubQueueKey: "10k:fcfs", Waiting: 3}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("before admissions (-want +got):\n%s", diff)
	}
	// One admission pass a minute later admits all three (600 a minute).
	clk.T = clk.T.Add(time.Minute)
	if _, err := svc.AdmitQueues(ctx); err != nil {
		t.Fatal(err)
	}
	got, err = store.WaitingLines(ctx, clk.T)
	if err != nil {
		t.Fatal(err)
	}
	want = []postgres.WaitingLine{{EventSlug: "drop", SubQueueKey: "10k:fcfs", Waiting: 0, Admitted: 3}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after admissions (-want +got):\n%s", diff)
	}
	for _, at := range []time.Time{clk.T.Add(-time.Hour), clk.T.Add(2 * time.Hour)} {
		if got, err := store.WaitingLines(ctx, at); err != nil || len(got) != 0 {
			t.Errorf("lines at %v (window closed): %+v %v", at, got, err)
		}
	}
}
