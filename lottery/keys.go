package lottery

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// Keys derives independent purpose keys from STARTLINE_SECRET_KEY, so a
// leaked cookie key reveals nothing about receipt tokens or sealed seeds.
type Keys struct {
	receipt []byte
	otp     []byte
	seal    cipher.AEAD
	cookie  []byte
}

// NewKeys derives the purpose keys from a master secret of at least 32 bytes.
func NewKeys(master []byte) (*Keys, error) {
	if len(master) < 32 {
		return nil, errors.New("secret key: need at least 32 bytes")
	}
	block, err := aes.NewCipher(derive(master, "seal"))
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Keys{receipt: derive(master, "receipt"), otp: derive(master, "otp"), seal: aead,
		cookie: derive(master, "cookie")}, nil
}

func derive(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("startline/v1/" + purpose))
	return m.Sum(nil)
}

// Derive returns an independent key for an adapter's own purpose
// (proof-of-work signatures, rate-limit key hashing).
func (k *Keys) Derive(purpose string) []byte { return derive(k.cookie, purpose) }

// CookieKey is the key for signing the device cookie.
func (k *Keys) CookieKey() []byte { return k.cookie }

// ReceiptToken is the runner's secret for an entry: an HMAC of its id, so it
// needs no storage and an idempotent replay can return it again.
func (k *Keys) ReceiptToken(entryID string) string {
	m := hmac.New(sha256.New, k.receipt)
	m.Write([]byte(entryID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// CheckReceipt compares a presented token with the entry's in constant time.
func (k *Keys) CheckReceipt(entryID, token string) bool {
	return subtle.ConstantTimeCompare([]byte(k.ReceiptToken(entryID)), []byte(token)) == 1
}

// OTPHash is what the store keeps instead of an e-mail code: keyed, so a
// database dump cannot be brute-forced over the million 6-digit codes.
func (k *Keys) OTPHash(eventID int64, emailKey, code string) []byte {
	m := hmac.New(sha256.New, k.otp)
	fmt.Fprintf(m, "%d|%s|%s", eventID, emailKey, code)
	return m.Sum(nil)
}

// Seal encrypts a secret (a draw seed, a TOTP secret) with AES-GCM; the
// label is authenticated so a sealed value cannot be moved to another row.
func (k *Keys) Seal(plain []byte, label string) ([]byte, error) {
	nonce := make([]byte, k.seal.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return k.seal.Seal(nonce, nonce, plain, []byte(label)), nil
}

// Open decrypts what Seal produced under the same label.
func (k *Keys) Open(sealed []byte, label string) ([]byte, error) {
	n := k.seal.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("open: sealed value too short")
	}
	plain, err := k.seal.Open(nil, sealed[:n], sealed[n:], []byte(label))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", label, err)
	}
	return plain, nil
}

// GroupAlias returns the public pseudonym of a group code in an event's
// frozen entry list: stable within the event, unlinkable to the code
// without the server key. An empty code stays empty.
func (k *Keys) GroupAlias(slug, group string) string {
	if group == "" {
		return ""
	}
	m := hmac.New(sha256.New, k.receipt)
	m.Write([]byte("group|" + slug + "|" + group))
	return "g-" + hex.EncodeToString(m.Sum(nil)[:10])
}
