package fairdraw_test

import (
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery/fairdraw"
)

func unitOfSize(id string, size int, selected bool) fairdraw.OrderItem {
	it := fairdraw.OrderItem{UnitID: id, Selected: selected}
	for i := range size {
		it.EntryIDs = append(it.EntryIDs, id+"-"+itoa(i))
	}
	return it
}

func TestRelease(t *testing.T) {
	var (
		team3  = unitOfSize("team3", 3, false)
		team2  = unitOfSize("team2", 2, false)
		team2b = unitOfSize("team2b", 2, false)
		solo1  = unitOfSize("solo1", 1, false)
		solo2  = unitOfSize("solo2", 1, false)
		won    = unitOfSize("won", 1, true)
	)
	tests := []struct {
		name          string
		waitlist      []fairdraw.OrderItem
		freed         int
		wantOffered   []fairdraw.OrderItem
		wantRemaining int
	}{
		{"empty waitlist", nil, 2, nil, 2},
		{"nothing freed", []fairdraw.OrderItem{solo1}, 0, nil, 0},
		{"negative freed", []fairdraw.OrderItem{solo1}, -1, nil, -1},
		{"first unit fits", []fairdraw.OrderItem{solo1, solo2}, 1, []fairdraw.OrderItem{solo1}, 0},
		{"group fits exactly", []fairdraw.OrderItem{team3, solo1}, 3, []fairdraw.OrderItem{team3}, 0},
		{"group too big is skipped, later solo takes the slot", []fairdraw.OrderItem{team3, solo1, solo2}, 1, []fairdraw.OrderItem{solo1}, 0},
		{"group too big is skipped, two later solos fill", []fairdraw.OrderItem{team3, solo1, team2, solo2}, 2, []fairdraw.OrderItem{solo1, solo2}, 0},
		{"walk continues after a unit is offered", []fairdraw.OrderItem{team2, team3, solo1}, 3, []fairdraw.OrderItem{team2, solo1}, 0},
		{"nothing fits, slots stay free", []fairdraw.OrderItem{team2, team2b}, 1, nil, 1},
		{"more freed than waitlisted", []fairdraw.OrderItem{team2, solo1}, 10, []fairdraw.OrderItem{team2, solo1}, 7},
		{"selected units are skipped", []fairdraw.OrderItem{won, solo1}, 1, []fairdraw.OrderItem{solo1}, 0},
		{"empty unit is never offered", []fairdraw.OrderItem{{UnitID: "ghost"}, solo1}, 1, []fairdraw.OrderItem{solo1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offered, remaining := fairdraw.Release(tt.waitlist, tt.freed)
			if diff := gocmp.Diff(tt.wantOffered, offered); diff != "" {
				t.Errorf("offered (-want +got):\n%s", diff)
			}
			if remaining != tt.wantRemaining {
				t.Errorf("remaining = %d, want %d", remaining, tt.wantRemaining)
			}
		})
	}
}

// TestReleaseOnVector releases slots on the published "group skipped" draw,
// whose waitlist is team-0 (3), team-1 (3), then three solos.
func TestReleaseOnVector(t *testing.T) {
	var order []fairdraw.OrderItem
	for _, v := range loadVectors(t) {
		if v.Name == "group-skipped-later-unit-fits" {
			order = v.Order
		}
	}
	if order == nil {
		t.Fatal("vector group-skipped-later-unit-fits not found")
	}
	tests := []struct {
		freed         int
		wantUnits     []string
		wantRemaining int
	}{
		{1, []string{"0ac7f394-cdd3-eab6-6015-d64865e0eac1"}, 0},
		{2, []string{"0ac7f394-cdd3-eab6-6015-d64865e0eac1", "4e2e8220-da12-c9e5-7ac0-48228ee9035b"}, 0},
		{3, []string{"team-0"}, 0},
		{5, []string{"team-0", "0ac7f394-cdd3-eab6-6015-d64865e0eac1", "4e2e8220-da12-c9e5-7ac0-48228ee9035b"}, 0},
		{20, []string{"team-0", "team-1", "0ac7f394-cdd3-eab6-6015-d64865e0eac1", "4e2e8220-da12-c9e5-7ac0-48228ee9035b", "c4a9b0f6-9754-2bd4-6028-4612db50f03f"}, 11},
	}
	for _, tt := range tests {
		offered, remaining := fairdraw.Release(order, tt.freed)
		var got []string
		for _, it := range offered {
			got = append(got, it.UnitID)
		}
		if diff := gocmp.Diff(tt.wantUnits, got); diff != "" || remaining != tt.wantRemaining {
			t.Errorf("Release(freed=%d): remaining %d (want %d), offered (-want +got):\n%s", tt.freed, remaining, tt.wantRemaining, diff)
		}
	}
}
