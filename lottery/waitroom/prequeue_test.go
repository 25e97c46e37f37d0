package waitroom

import (
	"strings"
	"testing"
)

// A public id is stable for a ticket, 32 lowercase hex characters, and
// neither its ticket id nor computable without the service key.
func TestPublicID(t *testing.T) {
	s := testService(t, "ticket-test-secret-key-0123456789abcd")
	other := testService(t, "another-secret-key-another-secret-key")
	const id = "6f9b2c1e-4d3a-4b5c-8e7f-0123456789ab"
	got := s.publicID(id)
	tests := []struct {
		name string
		ok   bool
	}{
		{"stable", s.publicID(id) == got},
		{"32 lowercase hex", len(got) == 32 && strings.Trim(got, "0123456789abcdef") == ""},
		{"not the ticket id", !strings.Contains(strings.ReplaceAll(id, "-", ""), got) && !strings.Contains(got, "6f9b2c1e")},
		{"another ticket, another id", s.publicID("6f9b2c1e-4d3a-4b5c-8e7f-0123456789ac") != got},
		{"another key, another id", other.publicID(id) != got},
		{"not a ticket: none", s.publicID("not-a-uuid") == ""},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: publicID(%s) = %s", tt.name, id, got)
		}
	}
}
