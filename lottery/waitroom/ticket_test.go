package waitroom

import (
	"encoding/base64"
	"testing"

	"github.com/startline/startline/lottery"
)

func testService(t *testing.T, secret string) *Service {
	t.Helper()
	keys, err := lottery.NewKeys([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return NewService(nil, nil, keys, lottery.SystemClock{}, nil, nil, lottery.Config{})
}

// A ticket carries its id, sub-queue and place, and any change to it (or a
// ticket signed with another key) is refused: polls trust it unread.
func TestTicketCodec(t *testing.T) {
	s := testService(t, "ticket-test-secret-key-0123456789abcd")
	other := testService(t, "another-secret-key-another-secret-key")
	const id = "6f9b2c1e-4d3a-4b5c-8e7f-0123456789ab"
	tok := s.ticketString(id, 42, 1234)
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	tampered := append([]byte(nil), raw...)
	tampered[31]++ // the place
	tests := []struct {
		name   string
		svc    *Service
		ticket string
		ok     bool
	}{
		{"as issued", s, tok, true},
		{"place changed", s, base64.RawURLEncoding.EncodeToString(tampered), false},
		{"other key", other, tok, false},
		{"truncated", s, tok[:len(tok)-1], false},
		{"not base64", s, "***", false},
		{"empty", s, "", false},
	}
	for _, tt := range tests {
		gotID, sq, place, ok := tt.svc.parseTicket(tt.ticket)
		if ok != tt.ok {
			t.Errorf("%s: ok = %v, want %v", tt.name, ok, tt.ok)
			continue
		}
		if ok && (gotID != id || sq != 42 || place != 1234) {
			t.Errorf("%s: got (%s, %d, %d)", tt.name, gotID, sq, place)
		}
	}
}

// A sealed address opens to itself and nothing else opens.
func TestSealAddress(t *testing.T) {
	s := testService(t, "ticket-test-secret-key-0123456789abcd")
	other := testService(t, "another-secret-key-another-secret-key")
	sealed := s.SealAddress("runner@example.com")
	for _, tt := range []struct {
		name, sealed, want string
		svc                *Service
	}{
		{"as sealed", sealed, "runner@example.com", s},
		{"other key", sealed, "", other},
		{"garbage", "not-a-seal", "", s},
		{"empty", "", "", s},
	} {
		if got := tt.svc.OpenAddress(tt.sealed); got != tt.want {
			t.Errorf("%s: OpenAddress = %q, want %q", tt.name, got, tt.want)
		}
	}
}
