package pow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	testKey = []byte("test-key-0123456789abcdef0123456789")
	t0      = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
)

// solved issues a small challenge at t0 and solves it.
func solved(t testing.TB, iss Issuer, maxNumber int64) (Challenge, int64) {
	t.Helper()
	c, err := iss.New(t0, maxNumber)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	n, err := Solve(context.Background(), c)
	if err != nil {
		t.Fatalf("Solve: %v", err)
	}
	return c, n
}

// rawPayload encodes arbitrary JSON fields as a base64 payload.
func rawPayload(t testing.TB, fields map[string]any) string {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func fieldsOf(c Challenge, n int64) map[string]any {
	return map[string]any{"algorithm": c.Algorithm, "challenge": c.Challenge, "number": n, "salt": c.Salt, "signature": c.Signature}
}

func TestNewChallengeFormat(t *testing.T) {
	iss := Issuer{Key: testKey}
	c, err := iss.New(t0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if c.Algorithm != "SHA-256" || c.MaxNumber != 1000 {
		t.Errorf("algorithm/maxnumber = %q/%d", c.Algorithm, c.MaxNumber)
	}
	wantSuffix := "?expires=" + strconv.FormatInt(t0.Add(DefaultTTL).Unix(), 10) + "&"
	if !strings.HasSuffix(c.Salt, wantSuffix) || len(c.Salt) != 2*saltBytes+len(wantSuffix) {
		t.Errorf("salt = %q, want 24 hex chars + %q", c.Salt, wantSuffix)
	}
	if !isLowerHex(c.Challenge, 32) || !isLowerHex(c.Signature, 32) {
		t.Errorf("challenge/signature not hex: %q %q", c.Challenge, c.Signature)
	}
	b, _ := json.Marshal(c)
	for _, f := range []string{`"algorithm"`, `"challenge"`, `"maxnumber"`, `"salt"`, `"signature"`} {
		if !strings.Contains(string(b), f) {
			t.Errorf("JSON %s lacks %s", b, f)
		}
	}
	c2, _ := iss.New(t0, 1000)
	if c2.Salt == c.Salt {
		t.Error("two challenges share a salt")
	}
}

func TestNewRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		iss Issuer
		max int64
	}{
		"no key":   {Issuer{}, 10},
		"zero max": {Issuer{Key: testKey}, 0},
		"negative": {Issuer{Key: testKey}, -1},
	} {
		if _, err := tc.iss.New(t0, tc.max); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestNumberUniform(t *testing.T) {
	// maxnumber 3: each of 0..3 should show up; numbers never exceed max.
	iss := Issuer{Key: testKey}
	seen := map[int64]int{}
	for range 200 {
		c, err := iss.New(t0, 3)
		if err != nil {
			t.Fatal(err)
		}
		n, err := Solve(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		seen[n]++
	}
	for n := int64(0); n <= 3; n++ {
		if seen[n] < 20 { // expected 50 each; < 20 has probability ~1e-7
			t.Errorf("number %d drawn %d times of 200: %v", n, seen[n], seen)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		ttl       time.Duration
		maxNumber int64
		at        time.Duration // verify at t0 + at
	}{
		{"default ttl, immediately", 0, 5000, 0},
		{"default ttl, just before expiry", 0, 5000, DefaultTTL},
		{"short ttl", 30 * time.Second, 100, 29 * time.Second},
		{"maxnumber 1", time.Minute, 1, 0},
		{"risk 0 difficulty", 0, Difficulty(0), time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iss := Issuer{Key: testKey, TTL: tc.ttl}
			c, n := solved(t, iss, tc.maxNumber)
			got, err := iss.Verify(EncodePayload(c, n), t0.Add(tc.at))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			ttl := tc.ttl
			if ttl == 0 {
				ttl = DefaultTTL
			}
			want := Solved{Challenge: c.Challenge, Expires: time.Unix(t0.Add(ttl).Unix(), 0), Number: n}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// TestWidgetPayload checks what a real widget sends: extra fields ("took"),
// unpadded or URL-safe base64 and surrounding whitespace are all fine.
func TestWidgetPayload(t *testing.T) {
	iss := Issuer{Key: testKey}
	c, n := solved(t, iss, 2000)
	f := fieldsOf(c, n)
	f["took"] = 412
	p := rawPayload(t, f)
	for name, s := range map[string]string{
		"with took": p,
		"raw std":   strings.TrimRight(p, "="),
		"url":       strings.NewReplacer("+", "-", "/", "_").Replace(p),
		"newline":   p + "\n",
	} {
		if _, err := iss.Verify(s, t0); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	iss := Issuer{Key: testKey}
	c, n := solved(t, iss, 5000)
	other, _ := solved(t, iss, 5000)

	mutate := func(f func(map[string]any)) string {
		m := fieldsOf(c, n)
		f(m)
		return rawPayload(t, m)
	}
	flip := func(s string) string { // change the last hex digit
		last := s[len(s)-1]
		repl := byte('0')
		if last == '0' {
			repl = '1'
		}
		return s[:len(s)-1] + string(repl)
	}
	expiresAt := t0.Add(DefaultTTL)

	tests := []struct {
		name    string
		payload string
		key     []byte
		now     time.Time
		want    error
	}{
		{"wrong number", EncodePayload(c, n+1), nil, t0, ErrInvalid},
		{"negative number", EncodePayload(c, -n-1), nil, t0, ErrInvalid},
		{"number as string", mutate(func(m map[string]any) { m["number"] = strconv.FormatInt(n, 10) }), nil, t0, ErrInvalid},
		{"number missing", mutate(func(m map[string]any) { delete(m, "number") }), nil, t0, ErrInvalid},
		{"fractional number", mutate(func(m map[string]any) { m["number"] = float64(n) + 0.5 }), nil, t0, ErrInvalid},
		{"tampered salt", mutate(func(m map[string]any) { m["salt"] = "00" + c.Salt[2:] }), nil, t0, ErrInvalid},
		{"extended expires", mutate(func(m map[string]any) {
			m["salt"] = strings.Replace(c.Salt, "?expires=", "?expires=9", 1)
		}), nil, t0, ErrInvalid},
		{"salt without delimiter", mutate(func(m map[string]any) { m["salt"] = strings.TrimSuffix(c.Salt, "&") }), nil, t0, ErrInvalid},
		// Moving the number's first digit into the salt keeps salt+number, so
		// the hash still matches: the trailing "&" rule must refuse it.
		{"digit spliced into salt", func() string {
			s := strconv.FormatInt(n, 10)
			if len(s) < 2 {
				return EncodePayload(c, n+1) // nothing to splice; still invalid
			}
			rest, _ := strconv.ParseInt(s[1:], 10, 64)
			return mutate(func(m map[string]any) { m["salt"] = c.Salt + s[:1]; m["number"] = rest })
		}(), nil, t0, ErrInvalid},
		{"tampered signature", mutate(func(m map[string]any) { m["signature"] = flip(c.Signature) }), nil, t0, ErrInvalid},
		{"signature not hex", mutate(func(m map[string]any) { m["signature"] = "zz" }), nil, t0, ErrInvalid},
		{"tampered challenge", mutate(func(m map[string]any) { m["challenge"] = flip(c.Challenge) }), nil, t0, ErrInvalid},
		{"uppercase challenge", mutate(func(m map[string]any) { m["challenge"] = strings.ToUpper(c.Challenge) }), nil, t0, ErrInvalid},
		{"other challenge's signature", mutate(func(m map[string]any) { m["signature"] = other.Signature }), nil, t0, ErrInvalid},
		{"algorithm SHA-1", mutate(func(m map[string]any) { m["algorithm"] = "SHA-1" }), nil, t0, ErrInvalid},
		{"algorithm lower case", mutate(func(m map[string]any) { m["algorithm"] = "sha-256" }), nil, t0, ErrInvalid},
		{"algorithm missing", mutate(func(m map[string]any) { delete(m, "algorithm") }), nil, t0, ErrInvalid},
		{"different key", EncodePayload(c, n), []byte("another key"), t0, ErrInvalid},
		{"expired", EncodePayload(c, n), nil, expiresAt.Add(time.Second), ErrExpired},
		{"long expired", EncodePayload(c, n), nil, expiresAt.Add(24 * time.Hour), ErrExpired},
		{"empty", "", nil, t0, ErrInvalid},
		{"not base64", "!!!not base64!!!", nil, t0, ErrInvalid},
		{"base64 of garbage", base64.StdEncoding.EncodeToString([]byte("hello")), nil, t0, ErrInvalid},
		{"json array", base64.StdEncoding.EncodeToString([]byte(`[1,2,3]`)), nil, t0, ErrInvalid},
		{"json null", base64.StdEncoding.EncodeToString([]byte(`null`)), nil, t0, ErrInvalid},
		{"json trailing garbage", base64.StdEncoding.EncodeToString(append(mustJSON(t, fieldsOf(c, n)), 'x')), nil, t0, ErrInvalid},
		{"oversized", strings.Repeat("A", maxPayloadLen+4), nil, t0, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := iss
			if tc.key != nil {
				v.Key = tc.key
			}
			_, err := v.Verify(tc.payload, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if tc.want == ErrInvalid && errors.Is(err, ErrExpired) {
				t.Fatalf("Verify = %v: both invalid and expired", err)
			}
		})
	}
}

// TestForgedSaltWithoutExpires: with the key, a challenge lacking expires
// could be signed; Verify must still refuse it, so no challenge lives forever.
func TestForgedSaltWithoutExpires(t *testing.T) {
	iss := Issuer{Key: testKey}
	for _, salt := range []string{"abcd&", "abcd?foo=1&", "abcd?expires=1&expires=2&", "abcd?expires=soon&", "abcd?expires=-5&"} {
		c := Challenge{Algorithm: Algorithm, Salt: salt, MaxNumber: 10}
		c.Challenge = hashHex(salt, 7)
		c.Signature = hexSign(iss, c.Challenge)
		if _, err := iss.Verify(EncodePayload(c, 7), t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("salt %q: Verify = %v, want ErrInvalid", salt, err)
		}
	}
}

func TestVerifyNoKey(t *testing.T) {
	c, n := solved(t, Issuer{Key: testKey}, 100)
	if _, err := (Issuer{}).Verify(EncodePayload(c, n), t0); err == nil {
		t.Fatal("Verify without a key succeeded")
	}
}

func TestSolve(t *testing.T) {
	iss := Issuer{Key: testKey}
	c, err := iss.New(t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	bad := c
	bad.Challenge = strings.Repeat("0", 64)
	if _, err := Solve(context.Background(), bad); err == nil {
		t.Error("Solve of an unsolvable challenge succeeded")
	}
	bad = c
	bad.Algorithm = "SHA-512"
	if _, err := Solve(context.Background(), bad); err == nil {
		t.Error("Solve of SHA-512 succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	big := c
	big.MaxNumber = 1 << 40
	big.Challenge = strings.Repeat("0", 64)
	if _, err := Solve(ctx, big); !errors.Is(err, context.Canceled) {
		t.Errorf("Solve with a cancelled context = %v", err)
	}
}

func TestDifficulty(t *testing.T) {
	tests := []struct {
		risk int
		want int64
	}{
		{-10, 50_000}, {0, 50_000}, {10, 145_000}, {50, 525_000}, {99, 990_500}, {100, 1_000_000}, {1000, 1_000_000},
	}
	prev := int64(0)
	for _, tc := range tests {
		got := Difficulty(tc.risk)
		if got != tc.want {
			t.Errorf("Difficulty(%d) = %d, want %d", tc.risk, got, tc.want)
		}
		if got < prev {
			t.Errorf("Difficulty not monotone at %d", tc.risk)
		}
		prev = got
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
