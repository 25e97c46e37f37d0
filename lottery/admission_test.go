package lottery

import "testing"

// An admission token is accepted only for the sub-queue and e-mail address
// it was issued for, with the flag it was issued with.
func TestAdmissionCodec(t *testing.T) {
	keys, err := NewKeys([]byte("admission-test-secret-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewKeys([]byte("another-secret-key-another-secret-key"))
	c := NewAdmissionCodec(keys)
	const ticket = "6f9b2c1e-4d3a-4b5c-8e7f-0123456789ab"
	for _, review := range []bool{false, true} {
		tok := c.Token(ticket, 7, "runner@example.com", review)
		tests := []struct {
			name     string
			codec    AdmissionCodec
			token    string
			subqueue int64
			emailKey string
			ok       bool
		}{
			{"as issued", c, tok, 7, "runner@example.com", true},
			{"other sub-queue", c, tok, 8, "runner@example.com", false},
			{"other address", c, tok, 7, "other@example.com", false},
			{"other key", NewAdmissionCodec(other), tok, 7, "runner@example.com", false},
			{"truncated", c, tok[:len(tok)-2], 7, "runner@example.com", false},
			{"not base64", c, "!!!", 7, "runner@example.com", false},
			{"empty", c, "", 7, "runner@example.com", false},
		}
		for _, tt := range tests {
			id, gotReview, ok := tt.codec.Check(tt.token, tt.subqueue, tt.emailKey)
			if ok != tt.ok {
				t.Errorf("review=%v %s: ok = %v, want %v", review, tt.name, ok, tt.ok)
				continue
			}
			if ok && (id != ticket || gotReview != review) {
				t.Errorf("review=%v %s: got (%s, %v), want (%s, %v)", review, tt.name, id, gotReview, ticket, review)
			}
		}
	}
}
