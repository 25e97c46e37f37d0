package pow

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"
)

func hexSign(iss Issuer, challenge string) string { return hex.EncodeToString(iss.sign(challenge)) }

// FuzzVerify feeds arbitrary payloads to Verify: it must never panic, must
// fail with ErrInvalid or ErrExpired, and anything it accepts must really
// solve a challenge signed by the key.
func FuzzVerify(f *testing.F) {
	iss := Issuer{Key: testKey}
	// Deterministic, not New: fuzz workers run this setup in their own
	// processes and must all know the same signed challenge.
	const n = int64(321)
	c := Challenge{Algorithm: Algorithm, MaxNumber: 500,
		Salt: "00112233445566778899aabb?expires=" + strconv.FormatInt(t0.Add(DefaultTTL).Unix(), 10) + "&"}
	c.Challenge = hashHex(c.Salt, n)
	c.Signature = hexSign(iss, c.Challenge)
	valid := EncodePayload(c, n)
	f.Add(valid)
	f.Add(EncodePayload(c, n+1))
	f.Add("")
	f.Add("e30=") // {}
	f.Add(base64.StdEncoding.EncodeToString([]byte(`{"algorithm":"SHA-256","number":1e400}`)))
	f.Add(base64.StdEncoding.EncodeToString([]byte(`{"algorithm":"SHA-256","challenge":"` + c.Challenge + `","number":-1,"salt":"?&","signature":"00"}`)))
	f.Fuzz(func(t *testing.T, payload string) {
		s, err := iss.Verify(payload, t0)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) {
				t.Fatalf("error %v is neither ErrInvalid nor ErrExpired", err)
			}
			return
		}
		if s.Challenge != c.Challenge || s.Number != n {
			// Only c was ever signed: anything else means a forged signature.
			t.Fatalf("accepted %+v", s)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	iss := Issuer{Key: testKey}
	c, n := solved(b, iss, 1000)
	p := EncodePayload(c, n)
	now := t0.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.Verify(p, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	iss := Issuer{Key: testKey}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.New(t0, Difficulty(0)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSolveHashRate reports native SHA-256 attempts per second, the
// basis of the solve-time table on Difficulty.
func BenchmarkSolveHashRate(b *testing.B) {
	iss := Issuer{Key: testKey}
	c, err := iss.New(t0, 1)
	if err != nil {
		b.Fatal(err)
	}
	c.Challenge = "0000000000000000000000000000000000000000000000000000000000000000"
	c.MaxNumber = 100_000
	b.ResetTimer()
	for b.Loop() {
		_, _ = Solve(context.Background(), c) // unsolvable: tries all 100,001
	}
	b.ReportMetric(float64(b.N)*100_001/b.Elapsed().Seconds(), "hashes/s")
}
