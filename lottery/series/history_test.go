package series

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
)

func TestParseHistory(t *testing.T) {
	const header = "name,birth_date,email,phone,previous_applications,years\n"
	tests := []struct {
		name  string
		file  string
		want  []HistoryRow
		field string // the error's field, when the file is refused
	}{
		{"keys only", header + "Jane Doe,1985-02-03,Jane.Doe+x@Gmail.com,010-1234-5678,2,2024;2023\n",
			[]HistoryRow{{RowNo: 2, EmailKey: "janedoe@gmail.com", Phone: "+821012345678", PersonKey: "doe jane|1985-02-03",
				Applications: 2, Years: []int{2024, 2023}}}, ""},
		{"columns in any order, phone only, BOM", "\ufeffprevious_applications,phone,birth_date,name\n1,+82 10 1111 2222,1990-05-01,김 민준\n",
			[]HistoryRow{{RowNo: 2, Phone: "+821011112222", PersonKey: "김민준|1990-05-01", Applications: 1}}, ""},
		{"zero applications and blank lines are skipped", header + "A B,1990-01-01,a@example.com,,0,\n\nC D,1990-01-02,c@example.com,,1,\n",
			[]HistoryRow{{RowNo: 4, EmailKey: "c@example.com", PersonKey: "c d|1990-01-02", Applications: 1}}, ""},
		{"empty file", "", nil, "file"},
		{"only zeros", header + "A B,1990-01-01,a@example.com,,0,\n", nil, "file"},
		{"unknown column", "name,birth_date,email,count\n", nil, "rows[1]"},
		{"no contact column", "name,birth_date,previous_applications\n", nil, "rows[1]"},
		{"bad e-mail on line 3", header + "A B,1990-01-01,a@example.com,,1,\nC D,1990-01-02,not-an-address,,1,\n", nil, "rows[3].email"},
		{"bad date", header + "A B,01/02/1990,a@example.com,,1,\n", nil, "rows[2].birth_date"},
		{"no contact", header + "A B,1990-01-01,,,1,\n", nil, "rows[2].email"},
		{"count out of range", header + "A B,1990-01-01,a@example.com,,101,\n", nil, "rows[2].previous_applications"},
		{"more years than applications", header + "A B,1990-01-01,a@example.com,,1,2024;2023\n", nil, "rows[2].years"},
		{"bad year", header + "A B,1990-01-01,a@example.com,,1,24\n", nil, "rows[2].years"},
		{"no name", header + ",1990-01-01,a@example.com,,1,\n", nil, "rows[2].name"},
		{"broken quoting", header + "\"A B,1990-01-01,a@example.com,,1,\n", nil, "rows[2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHistory(strings.NewReader(tt.file), "KR")
			if tt.field != "" {
				e, ok := err.(*lottery.Error)
				if !ok || e.Field != tt.field || e.Code != lottery.CodeInvalidField {
					t.Fatalf("err %v, want %s on %s", err, lottery.CodeInvalidField, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseHistory (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseHistory(f *testing.F) {
	f.Add("name,birth_date,email,phone,previous_applications,years\nJane Doe,1985-02-03,jane@gmail.com,,2,2024;2023\n")
	f.Fuzz(func(t *testing.T, s string) {
		rows, err := ParseHistory(strings.NewReader(s), "KR")
		if err != nil {
			if _, ok := err.(*lottery.Error); !ok {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		for _, r := range rows {
			if r.PersonKey == "" || (r.EmailKey == "" && r.Phone == "") || r.Applications < 1 || r.Applications > 100 {
				t.Fatalf("bad row %+v", r)
			}
		}
	})
}
