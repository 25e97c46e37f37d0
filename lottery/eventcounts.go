package lottery

import (
	"context"
	"fmt"
)

// EventCounts are an event's key numbers on the organizer's events list:
// entries so far, the capacity of all its pace groups, live or paid offers
// and paid ones.
type EventCounts struct {
	Entries  int64
	Capacity int64
	Offered  int64 // offers pending, accepted or paid
	Paid     int64
}

// EventCounter is the store's aggregate behind EventCounts: one query for a
// page of events, never one per entry.
type EventCounter interface {
	// EventCounts returns the numbers by event id; an event with none is
	// absent.
	EventCounts(ctx context.Context, eventIDs []int64) (map[int64]EventCounts, error)
}

// EventCounts returns the key numbers of events the actor manages (the
// others are left out), by event id. A store without the aggregate answers
// an empty map.
func (s *Service) EventCounts(ctx context.Context, actor StaffAccount, evs []Event) (map[int64]EventCounts, error) {
	counter, ok := s.store.(EventCounter)
	if !ok {
		return map[int64]EventCounts{}, nil
	}
	ids := make([]int64, 0, len(evs))
	for _, e := range evs {
		if MayManage(actor, e) {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		return map[int64]EventCounts{}, nil
	}
	out, err := counter.EventCounts(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("event counts: %w", err)
	}
	return out, nil
}
