// Package pow issues and verifies ALTCHA v1 proof-of-work challenges
// (https://altcha.org), so that every apply costs the client a measurable
// amount of CPU while costing the server two hashes. It is pure: replay
// refusal of spent challenges lives in antibot/redis.
//
// The protocol: the server picks a random salt carrying "?expires=<unix>&" and
// a secret number n in [0, maxnumber], and sends
// challenge = hex(sha256(salt + decimal(n))) with
// signature = hex(hmac_sha256(key, challenge)). The client tries numbers until
// the hash matches and returns base64(JSON{algorithm, challenge, number, salt,
// signature}). The signature binds the challenge, the challenge binds salt and
// number, and the trailing "&" of the salt stops digits being moved between
// number and salt (which could otherwise stretch "expires").
package pow

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only ALTCHA hash algorithm issued and accepted.
const Algorithm = "SHA-256"

// DefaultTTL is how long a challenge stays solvable when Issuer.TTL is zero:
// long enough for a slow phone and a runner filling in the form, short enough
// that a stockpile of solved challenges goes stale.
const DefaultTTL = 10 * time.Minute

const (
	saltBytes     = 12   // random part of the salt, as in the ALTCHA libraries
	maxPayloadLen = 4096 // base64 payloads longer than this are refused unread
	maxSaltLen    = 512
)

// Errors returned by Verify, wrapped with the reason. Map both to the API code
// invalid_proof_of_work.
var (
	// ErrInvalid means the payload is malformed, forged or does not solve its challenge.
	ErrInvalid = errors.New("pow: invalid proof of work")
	// ErrExpired means the payload is a genuine solution whose challenge has expired.
	ErrExpired = errors.New("pow: proof of work expired")
)

// Challenge is what the ALTCHA widget fetches from the challenge route; its
// JSON is the wire format of POST /api/v1/events/{slug}/challenge.
type Challenge struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	MaxNumber int64  `json:"maxnumber"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// Solved describes a verified solution. Challenge is unique per issued
// challenge: spend it in a replay set (antibot/redis.Replay) until Expires so
// one solution buys one apply.
type Solved struct {
	Challenge string
	Expires   time.Time
	Number    int64
}

// Issuer creates and verifies challenges under one HMAC key. The zero TTL means
// DefaultTTL. Issuer is a value type and safe for concurrent use.
type Issuer struct {
	Key []byte
	TTL time.Duration
}

// payload is the JSON the client returns; unknown fields (the widget adds
// "took") are ignored.
type payload struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	Number    *int64 `json:"number"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

func (i Issuer) ttl() time.Duration {
	if i.TTL > 0 {
		return i.TTL
	}
	return DefaultTTL
}

// New issues a challenge that expires TTL after now, whose secret number is
// drawn uniformly from [0, maxNumber] with crypto/rand.
func (i Issuer) New(now time.Time, maxNumber int64) (Challenge, error) {
	if len(i.Key) == 0 {
		return Challenge{}, errors.New("pow: issuer has no key")
	}
	if maxNumber < 1 {
		return Challenge{}, fmt.Errorf("pow: maxnumber %d: must be at least 1", maxNumber)
	}
	var raw [saltBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Challenge{}, fmt.Errorf("pow: salt: %w", err)
	}
	n, err := rand.Int(rand.Reader, new(big.Int).Add(big.NewInt(maxNumber), big.NewInt(1)))
	if err != nil {
		return Challenge{}, fmt.Errorf("pow: number: %w", err)
	}
	expires := now.Add(i.ttl()).Unix()
	salt := hex.EncodeToString(raw[:]) + "?expires=" + strconv.FormatInt(expires, 10) + "&"
	challenge := hashHex(salt, n.Int64())
	return Challenge{
		Algorithm: Algorithm,
		Challenge: challenge,
		MaxNumber: maxNumber,
		Salt:      salt,
		Signature: hex.EncodeToString(i.sign(challenge)),
	}, nil
}

// Verify checks a base64 ALTCHA payload as submitted by the widget: the
// algorithm, the signature under Key, that sha256(salt+number) is the
// challenge, and that the salt's expires is not before now. Errors wrap
// ErrInvalid or ErrExpired. Verify does not refuse replays: spend
// Solved.Challenge in a replay set.
func (i Issuer) Verify(payloadB64 string, now time.Time) (Solved, error) {
	if len(i.Key) == 0 {
		return Solved{}, errors.New("pow: issuer has no key")
	}
	if payloadB64 == "" {
		return Solved{}, fmt.Errorf("%w: empty payload", ErrInvalid)
	}
	if len(payloadB64) > maxPayloadLen {
		return Solved{}, fmt.Errorf("%w: payload longer than %d bytes", ErrInvalid, maxPayloadLen)
	}
	raw, err := decodeBase64(strings.TrimSpace(payloadB64))
	if err != nil {
		return Solved{}, fmt.Errorf("%w: payload is not base64", ErrInvalid)
	}
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Solved{}, fmt.Errorf("%w: payload is not the ALTCHA JSON object", ErrInvalid)
	}
	if p.Algorithm != Algorithm {
		return Solved{}, fmt.Errorf("%w: algorithm must be %s", ErrInvalid, Algorithm)
	}
	if p.Number == nil || *p.Number < 0 {
		return Solved{}, fmt.Errorf("%w: number missing or negative", ErrInvalid)
	}
	if !isLowerHex(p.Challenge, sha256.Size) {
		return Solved{}, fmt.Errorf("%w: challenge is not a SHA-256 hex digest", ErrInvalid)
	}
	sig, err := hex.DecodeString(p.Signature)
	if err != nil || !hmac.Equal(sig, i.sign(p.Challenge)) {
		return Solved{}, fmt.Errorf("%w: bad signature", ErrInvalid)
	}
	if len(p.Salt) > maxSaltLen || !strings.HasSuffix(p.Salt, "&") {
		return Solved{}, fmt.Errorf("%w: malformed salt", ErrInvalid)
	}
	if hashHex(p.Salt, *p.Number) != p.Challenge {
		return Solved{}, fmt.Errorf("%w: number does not solve the challenge", ErrInvalid)
	}
	expires, err := saltExpires(p.Salt)
	if err != nil {
		return Solved{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if now.After(expires) {
		return Solved{}, fmt.Errorf("%w: expired at %s", ErrExpired, expires.UTC().Format(time.RFC3339))
	}
	return Solved{Challenge: p.Challenge, Expires: expires, Number: *p.Number}, nil
}

// EncodePayload returns the base64 payload an ALTCHA client submits for c
// solved by number: what the widget puts in the "altcha" form field.
func EncodePayload(c Challenge, number int64) string {
	b, _ := json.Marshal(struct {
		Algorithm string `json:"algorithm"`
		Challenge string `json:"challenge"`
		Number    int64  `json:"number"`
		Salt      string `json:"salt"`
		Signature string `json:"signature"`
	}{c.Algorithm, c.Challenge, number, c.Salt, c.Signature})
	return base64.StdEncoding.EncodeToString(b)
}

// Solve finds the number of c by brute force from 0 to c.MaxNumber, as the
// widget does, for tests and the bot simulator. It stops early when ctx is
// done.
func Solve(ctx context.Context, c Challenge) (int64, error) {
	if c.Algorithm != Algorithm {
		return 0, fmt.Errorf("pow: solve: unsupported algorithm %q", c.Algorithm)
	}
	want, err := hex.DecodeString(c.Challenge)
	if err != nil || len(want) != sha256.Size {
		return 0, fmt.Errorf("pow: solve: challenge is not a SHA-256 hex digest")
	}
	var target [sha256.Size]byte
	copy(target[:], want)
	buf := make([]byte, 0, len(c.Salt)+20)
	buf = append(buf, c.Salt...)
	for n := int64(0); n <= c.MaxNumber; n++ {
		if n&0xfff == 0 {
			if err := ctx.Err(); err != nil {
				return 0, fmt.Errorf("pow: solve: %w", err)
			}
		}
		if sha256.Sum256(strconv.AppendInt(buf, n, 10)) == target {
			return n, nil
		}
	}
	return 0, fmt.Errorf("pow: solve: no number in [0, %d] solves the challenge", c.MaxNumber)
}

// Difficulty is the maxnumber to issue for a risk score (antibot scores:
// review at 50, reject at 100). It rises linearly from 50,000 at risk 0 to
// 1,000,000 at risk 100 and above. A client tries maxnumber/2 numbers on
// average and maxnumber at worst.
//
// Solve times (average / worst) follow from the hash rate. Native Go
// measures ~10M SHA-256/s on one idle core of the CI machine
// (BenchmarkSolveHashRate, SHA extensions); for browsers running the ALTCHA v1 widget we
// assume ~100k/s on a mid-range phone and ~500k/s on a laptop, which real
// devices should confirm (the widget reports "took" in its payload):
//
//	risk   0:    50,000  phone 0.25 s / 0.5 s   laptop 0.05 s / 0.1 s   Go 2.5 ms / 5 ms
//	risk  50:   525,000  phone 2.6 s / 5.3 s    laptop 0.5 s / 1.1 s    Go 26 ms / 53 ms
//	risk 100: 1,000,000  phone 5 s / 10 s       laptop 1 s / 2 s        Go 50 ms / 0.1 s
//
// The widget can start solving when the form gains focus, so a runner who
// spends 30 s typing rarely waits; a bot pays the full cost per apply. Note
// that the cost to a native bot stays small: proof of work rate-limits a
// farm's throughput, it does not stop a single determined client.
func Difficulty(risk int) int64 {
	const low, high, top = 50_000, 1_000_000, 100
	switch {
	case risk <= 0:
		return low
	case risk >= top:
		return high
	}
	return low + int64(risk)*(high-low)/top
}

func (i Issuer) sign(challenge string) []byte {
	m := hmac.New(sha256.New, i.Key)
	m.Write([]byte(challenge))
	return m.Sum(nil)
}

func hashHex(salt string, n int64) string {
	buf := make([]byte, 0, len(salt)+20)
	buf = append(buf, salt...)
	sum := sha256.Sum256(strconv.AppendInt(buf, n, 10))
	return hex.EncodeToString(sum[:])
}

// saltExpires reads the single expires parameter of an ALTCHA salt
// ("<hex>?expires=<unix>&").
func saltExpires(salt string) (time.Time, error) {
	_, query, ok := strings.Cut(salt, "?")
	if !ok {
		return time.Time{}, errors.New("salt has no parameters")
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return time.Time{}, errors.New("salt parameters are malformed")
	}
	vals := params["expires"]
	if len(vals) != 1 {
		return time.Time{}, errors.New("salt must carry exactly one expires")
	}
	sec, err := strconv.ParseInt(vals[0], 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, errors.New("salt expires is not a unix time")
	}
	return time.Unix(sec, 0), nil
}

// decodeBase64 accepts standard base64 (what btoa and the widget produce)
// and, leniently, its unpadded and URL-safe variants.
func decodeBase64(s string) ([]byte, error) {
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func isLowerHex(s string, size int) bool {
	if len(s) != 2*size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
