package lottery

import "testing"

func TestMoneyString(t *testing.T) {
	tests := []struct {
		m    Money
		want string
	}{
		{Money{0, "krw"}, "₩0"},
		{Money{50000, "krw"}, "₩50,000"},
		{Money{1250, "usd"}, "$12.50"},
		{Money{5, "eur"}, "€0.05"},
		{Money{123456789, "chf"}, "CHF 1,234,567.89"},
		{Money{1500, "kwd"}, "KWD 1.500"},
		{Money{-1000, "KRW"}, "-₩1,000"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.m, got, tt.want)
		}
	}
}
