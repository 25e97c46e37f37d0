package registration

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

func TestCleanName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"  Kim   Minjun ", "Kim Minjun", true},
		{"김민준", "김민준", true},
		{"\u200bA", "\u200bA", true},
		{"", "", false},
		{"\u200b\u200c\u200d\u2060", "", false},
		{"\u3164\u3164", "", false},
		{"Kim\x00", "", false},
	}
	for _, tt := range tests {
		got, ok := cleanName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("cleanName(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseBirthDate(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    string // the date, or "" for a birth_date error
		message string // part of the error's message
	}{
		{"1990-05-17", "1990-05-17", ""},
		{"2022-03-01", "2022-03-01", ""}, // five today
		{"2022-03-02", "", "between 5 and 120"},
		{"1907-03-02", "1907-03-02", ""},        // 120 tomorrow
		{"1907-03-01", "", "between 5 and 120"}, // 120 years before now's instant, not its day
		{"1990-5-17", "", "YYYY-MM-DD"},
		{"17.05.1990", "", "YYYY-MM-DD"},
		{"1990-02-30", "", "YYYY-MM-DD"},
		{"", "", "YYYY-MM-DD"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseBirthDate(tt.in, now)
			if tt.want != "" {
				if err != nil || got.Format(time.DateOnly) != tt.want {
					t.Errorf("parseBirthDate(%q) = %s, %v; want %s", tt.in, got.Format(time.DateOnly), err, tt.want)
				}
				return
			}
			var le *lottery.Error
			if !errors.As(err, &le) || le.Field != "birth_date" || !strings.Contains(le.Message, tt.message) {
				t.Errorf("parseBirthDate(%q) = %v; want a birth_date error saying %q", tt.in, err, tt.message)
			}
		})
	}
}
