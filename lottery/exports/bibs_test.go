package exports

import (
	"errors"
	"time"

	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
)

func TestPlanBibs(t *testing.T) {
	half := BibRange{SubQueueID: 1, Key: "half:fast", First: 100, Last: 102}
	open := BibRange{SubQueueID: 2, Key: "half:open", First: 200, Last: 299}
	tenK := BibRange{SubQueueID: 3, Key: "10k:open"}
	h := func(id string, sq int64, course, pace int, name string, bib int) BibHolder {
		return BibHolder{EntryID: id, SubQueueID: sq, CoursePos: course, PacePos: pace, Name: name, Bib: bib}
	}
	tests := []struct {
		name      string
		ranges    []BibRange
		holders   []BibHolder
		want      map[string]int
		assigned  int
		wantField string
	}{
		{"by name within a sub-queue", []BibRange{half, open, tenK},
			[]BibHolder{h("c", 1, 0, 0, "Park", 0), h("a", 1, 0, 0, "Kim", 0), h("b", 2, 0, 1, "Ahn", 0)},
			map[string]int{"a": 100, "c": 101, "b": 200}, 3, ""},
		{"same name: by entry id", []BibRange{half},
			[]BibHolder{h("z", 1, 0, 0, "Lee", 0), h("y", 1, 0, 0, "Lee", 0)},
			map[string]int{"y": 100, "z": 101}, 2, ""},
		{"idempotent: kept bibs stay, a newcomer takes the lowest free", []BibRange{half},
			[]BibHolder{h("a", 1, 0, 0, "Kim", 101), h("b", 1, 0, 0, "Ahn", 0)},
			map[string]int{"a": 101, "b": 100}, 1, ""},
		{"a bib outside the (changed) range is renumbered", []BibRange{half},
			[]BibHolder{h("a", 1, 0, 0, "Kim", 7), h("b", 1, 0, 0, "Lee", 100)},
			map[string]int{"a": 101, "b": 100}, 1, ""},
		{"a duplicate kept bib goes to the first in order", []BibRange{half},
			[]BibHolder{h("a", 1, 0, 0, "Kim", 100), h("b", 1, 0, 0, "Ahn", 100)},
			map[string]int{"b": 100, "a": 101}, 1, ""},
		{"range exactly full", []BibRange{half},
			[]BibHolder{h("a", 1, 0, 0, "A", 0), h("b", 1, 0, 0, "B", 0), h("c", 1, 0, 0, "C", 0)},
			map[string]int{"a": 100, "b": 101, "c": 102}, 3, ""},
		{"range too small", []BibRange{half},
			[]BibHolder{h("a", 1, 0, 0, "A", 0), h("b", 1, 0, 0, "B", 0), h("c", 1, 0, 0, "C", 0), h("d", 1, 0, 0, "D", 0)},
			nil, 0, "bibs.half:fast.last"},
		{"no range for a sub-queue with entries", []BibRange{half, tenK},
			[]BibHolder{h("a", 3, 1, 0, "A", 0)}, nil, 0, "bibs.10k:open.first"},
		{"no holders, no ranges: nothing to do", []BibRange{tenK}, nil, map[string]int{}, 0, ""},
		{"overlapping ranges", []BibRange{half, {SubQueueID: 2, Key: "half:open", First: 102, Last: 150}},
			nil, nil, 0, "bibs.half:open.first"},
		{"last before first", []BibRange{{SubQueueID: 1, Key: "half:fast", First: 10, Last: 5}}, nil, nil, 0, "bibs.half:fast.last"},
		{"zero first with a last", []BibRange{{SubQueueID: 1, Key: "half:fast", First: 0, Last: 5}}, nil, nil, 0, "bibs.half:fast.first"},
		{"beyond the largest bib", []BibRange{{SubQueueID: 1, Key: "half:fast", First: 1, Last: MaxBib + 1}}, nil, nil, 0, "bibs.half:fast.last"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanBibs(tt.ranges, tt.holders)
			if tt.wantField != "" {
				var e *lottery.Error
				if !asError(err, &e) || e.Field != tt.wantField || e.Code != lottery.CodeInvalidField {
					t.Fatalf("err = %v, want a field error on %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Bibs); diff != "" {
				t.Errorf("bibs (-want +got):\n%s", diff)
			}
			if got.Assigned != tt.assigned {
				t.Errorf("assigned = %d, want %d", got.Assigned, tt.assigned)
			}
			again := tt.holders
			for i := range again {
				again[i].Bib = got.Bibs[again[i].EntryID]
			}
			if second, _ := PlanBibs(tt.ranges, again); second.Assigned != 0 || cmp.Diff(got.Bibs, second.Bibs) != "" {
				t.Errorf("a second run changed bibs: %+v", second)
			}
		})
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+8210": "'+8210", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "\rx": "'\rx", "Kim": "Kim", "": "", "a=b": "a=b", "김민준": "김민준",
	} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAmountCell(t *testing.T) {
	for _, tt := range []struct {
		minor int64
		cur   string
		want  string
	}{{50000, "krw", "50000"}, {1250, "usd", "12.50"}, {5, "usd", "0.05"}, {0, "usd", "0.00"}, {1234, "kwd", "1.234"}} {
		if got := amountCell(tt.minor, tt.cur); got != tt.want {
			t.Errorf("amountCell(%d, %s) = %q, want %q", tt.minor, tt.cur, got, tt.want)
		}
	}
}

func TestFilterOf(t *testing.T) {
	ev := lottery.Event{Courses: []lottery.Course{{Code: "half", PaceGroups: []lottery.PaceGroup{{ID: 7, Code: "open"}}}}}
	tests := []struct {
		name      string
		q         ListQuery
		want      ListFilter
		wantField string
	}{
		{"empty", ListQuery{}, ListFilter{Limit: PageSize}, ""},
		{"e-mail", ListQuery{Search: " Kim@Example.com "}, ListFilter{Text: "kim@example.com", EmailKey: "kim@example.com", Limit: PageSize}, ""},
		{"phone", ListQuery{Search: "010-5555-1001"}, ListFilter{Text: "010-5555-1001", Phone: "+821055551001",
			IDFrom: "01055551-0010-0000-0000-000000000000", IDTo: "01055551-001f-ffff-ffff-ffffffffffff", Limit: PageSize}, ""},
		{"id prefix", ListQuery{Search: "3f2a9c"}, ListFilter{Text: "3f2a9c", IDFrom: "3f2a9c00-0000-0000-0000-000000000000",
			IDTo: "3f2a9cff-ffff-ffff-ffff-ffffffffffff", Limit: PageSize}, ""},
		{"status and sub-queue", ListQuery{Status: "confirmed", SubQueue: "half:open"}, ListFilter{Status: "confirmed", SubQueueID: 7, Limit: PageSize}, ""},
		{"dashes are no id prefix", ListQuery{Search: "-----"}, ListFilter{Text: "-----", Limit: PageSize}, ""},
		{"unknown status", ListQuery{Status: "won"}, ListFilter{}, "status"},
		{"unknown sub-queue", ListQuery{SubQueue: "full:open"}, ListFilter{}, "subqueue"},
		{"broken cursor", ListQuery{After: "x"}, ListFilter{}, "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FilterOf(ev, tt.q, "KR")
			if tt.wantField != "" {
				var e *lottery.Error
				if !asError(err, &e) || e.Field != tt.wantField {
					t.Fatalf("err = %v, want field %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
		})
	}
	r := ListRow{ID: "3f2a9c00-0000-4000-8000-000000000001", CreatedAt: time.UnixMicro(1700000000123456).UTC()}
	f, err := FilterOf(ev, ListQuery{After: cursorOf(r)}, "KR")
	if err != nil || !f.AfterTime.Equal(r.CreatedAt) || f.AfterID != r.ID {
		t.Errorf("cursor round trip: %+v %v", f, err)
	}
}

func asError(err error, e **lottery.Error) bool { return errors.As(err, e) }
