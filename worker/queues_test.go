package worker

import (
	"maps"
	"slices"
	"testing"
)

func TestQueuesFor(t *testing.T) {
	tests := []struct {
		base string
		want Queues
	}{
		{"startline", Queues{Critical: "startline", Mail: "startline-mail", Background: "startline-background"}},
		{"test-ab12", Queues{Critical: "test-ab12", Mail: "test-ab12-mail", Background: "test-ab12-background"}},
	}
	for _, tt := range tests {
		q := QueuesFor(tt.base)
		if q != tt.want {
			t.Errorf("QueuesFor(%q) = %+v, want %+v", tt.base, q, tt.want)
		}
		if got := q.Names(); !slices.Equal(got, []string{tt.want.Critical, tt.want.Mail, tt.want.Background}) {
			t.Errorf("Names() = %v", got)
		}
		w := q.Weights()
		if !slices.Equal(slices.Sorted(maps.Keys(w)), slices.Sorted(slices.Values(q.Names()))) {
			t.Errorf("Weights() %v does not weigh exactly the queues %v", w, q.Names())
		}
		// critical work goes first, recomputable passes last; none starve
		if !(w[q.Critical] > w[q.Mail] && w[q.Mail] > w[q.Background] && w[q.Background] > 0) {
			t.Errorf("Weights() = %v, want critical > mail > background > 0", w)
		}
	}
}
