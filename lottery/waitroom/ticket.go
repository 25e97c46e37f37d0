package waitroom

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"

	"github.com/google/uuid"
)

// Tickets are MACed, so a poll needs no lookup to trust a ticket's place.
const ticketLen = 16 + 8 + 8 + 16 // id, sub-queue, place, MAC

func (s *Service) ticketString(id string, subqueueID, place int64) string {
	u := uuid.MustParse(id)
	b := make([]byte, 0, ticketLen)
	b = append(b, u[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(subqueueID))
	b = binary.BigEndian.AppendUint64(b, uint64(place))
	b = append(b, s.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) parseTicket(t string) (id string, subqueueID, place int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) != ticketLen || !hmac.Equal(b[32:], s.mac(b[:32])) {
		return "", 0, 0, false
	}
	u, _ := uuid.FromBytes(b[:16])
	return u.String(), int64(binary.BigEndian.Uint64(b[16:24])), int64(binary.BigEndian.Uint64(b[24:32])), true
}

func (s *Service) mac(msg []byte) []byte {
	m := hmac.New(sha256.New, s.ticketKey)
	m.Write(msg)
	return m.Sum(nil)[:16]
}

// SealAddress seals an e-mail address for a link (the waiting page's link
// to the form), so the address never appears in a URL in the clear.
func (s *Service) SealAddress(addr string) string {
	b, err := s.keys.Seal([]byte(addr), "queue/address")
	if err != nil {
		return "" // the form simply starts without the address
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// OpenAddress opens a SealAddress value; "" for anything else.
func (s *Service) OpenAddress(sealed string) string {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || sealed == "" {
		return ""
	}
	addr, err := s.keys.Open(b, "queue/address")
	if err != nil {
		return ""
	}
	return string(addr)
}
