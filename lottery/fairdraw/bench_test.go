package fairdraw_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/startline/startline/lottery/fairdraw"
)

// syntheticInput returns n entries shaped like a big sub-queue: random
// lowercase UUIDs in registration order, 1 to 8 tickets, half of the units
// groups of 2 to 4 (group members registered apart from each other). The
// entry_ids share one allocation laid out in input order, much as a database
// scan would leave them. The same arguments always give the same input.
func syntheticInput(n int, seed uint64) fairdraw.Input {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	entries := make([]fairdraw.Entry, n)
	for i := 0; i < n; {
		size := 1
		if r.IntN(2) == 1 {
			size = min(2+r.IntN(3), n-i)
		}
		group := ""
		if size > 1 {
			group = "g-" + strconv.Itoa(i)
		}
		for j := i; j < i+size; j++ {
			entries[j] = fairdraw.Entry{Tickets: 1 + r.IntN(8), Group: group}
		}
		i += size
	}
	r.Shuffle(n, func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })

	const hexdigits = "0123456789abcdef"
	var ids strings.Builder // one allocation for every entry_id, in input order
	ids.Grow(36 * n)
	for range n {
		hi, lo := r.Uint64(), r.Uint64()
		for i := range 32 {
			if i == 8 || i == 12 || i == 16 || i == 20 {
				ids.WriteByte('-')
			}
			w := hi
			if i >= 16 {
				w = lo
			}
			ids.WriteByte(hexdigits[(w>>(60-4*(i%16)))&0xf])
		}
	}
	all := ids.String()
	for j := range entries {
		entries[j].EntryID = all[36*j : 36*(j+1)]
	}
	secret := make([]byte, fairdraw.SecretSize)
	for i := range secret {
		secret[i] = byte(r.Uint32())
	}
	return fairdraw.Input{
		EventID:    "spring-marathon-2027",
		SubQueue:   "full:sub-330",
		Capacity:   n / 3,
		SeedSecret: secret,
		Entries:    entries,
	}
}

func BenchmarkDraw1M(b *testing.B) {
	in := syntheticInput(1_000_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fairdraw.Draw(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEntriesRoot1M(b *testing.B) {
	in := syntheticInput(1_000_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		fairdraw.EntriesRoot(in.Entries)
	}
}
