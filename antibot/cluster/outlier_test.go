package cluster

import (
	"fmt"
	"testing"
)

// crowd builds n members of one class, the first k mismatched.
func crowd(class string, n, k int) []Member {
	ms := make([]Member, n)
	for i := range ms {
		ms[i] = Member{ID: fmt.Sprintf("%s-%03d", class, i), Class: class, Mismatch: i < k}
	}
	return ms
}

func TestMismatchOutliers(t *testing.T) {
	tests := []struct {
		name    string
		members []Member
		want    map[string]int // class → mismatched ids flagged
	}{
		{"no mismatches", append(crowd("iphone", 40, 0), crowd("galaxy", 20, 0)...), nil},
		{"a few travellers on a common phone", append(crowd("iphone", 40, 2), crowd("galaxy", 20, 0)...), nil},
		{"farm of 100 through proxies", append(append(crowd("farm", 100, 100), crowd("iphone", 40, 1)...),
			crowd("galaxy", 200, 3)...), map[string]int{"farm": 100}},
		// The farm copies the most common phone: its class is mostly
		// mismatched where the rest of the event is not.
		{"farm hiding in a popular class", append(append(crowd("iphone", 40, 1), crowd("galaxy", 200, 2)...),
			Member{ID: "f1", Class: "iphone", Mismatch: true}, Member{ID: "f2", Class: "iphone", Mismatch: true},
			Member{ID: "f3", Class: "iphone", Mismatch: true}, Member{ID: "f4", Class: "iphone", Mismatch: true},
			Member{ID: "f5", Class: "iphone", Mismatch: true}, Member{ID: "f6", Class: "iphone", Mismatch: true}),
			map[string]int{"iphone": 7}},
		// Where many runners are abroad (an international race), the same
		// share in one class is the event's normal, not an outlier.
		{"international field", append(crowd("iphone", 400, 120), crowd("galaxy", 400, 115)...), nil},
		{"below the minimum", crowd("rare", 2, 2), nil},
		{"no fingerprint never groups", []Member{{ID: "a", Mismatch: true}, {ID: "b", Mismatch: true},
			{ID: "c", Mismatch: true}, {ID: "d", Mismatch: true}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MismatchOutliers(tt.members, 3)
			if len(got) != len(tt.want) {
				t.Fatalf("outliers = %+v, want classes %v", got, tt.want)
			}
			for _, o := range got {
				if len(o.Mismatched) != tt.want[o.Class] {
					t.Errorf("%s: %d flagged, want %d", o.Class, len(o.Mismatched), tt.want[o.Class])
				}
			}
		})
	}
}

// The result depends on the set of members, not their order.
func TestMismatchOutliersOrder(t *testing.T) {
	ms := append(append(crowd("farm", 30, 30), crowd("iphone", 40, 1)...), crowd("galaxy", 50, 0)...)
	want := fmt.Sprint(MismatchOutliers(ms, 3))
	for i := range 5 {
		rev := make([]Member, len(ms))
		for j := range ms {
			rev[(j*7+i)%len(ms)] = ms[j]
		}
		if got := fmt.Sprint(MismatchOutliers(rev, 3)); got != want {
			t.Fatalf("order changed the result:\n%s\n%s", got, want)
		}
	}
}
