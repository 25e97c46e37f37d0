package fairdraw

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// parallelFor calls fn over consecutive ranges [lo, hi) that together cover
// [0, n), using up to GOMAXPROCS goroutines that claim ranges of at least
// minChunk indices. fn must only write state owned by its range, so the result
// is the same however the ranges are scheduled.
func parallelFor(n, minChunk int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(minChunk, 1))
	if workers <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	// Several chunks per worker even out the load when items cost
	// different amounts (an entry with 8 tickets costs 8 hashes).
	chunk := max(minChunk, n/(8*workers))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				fn(lo, min(lo+chunk, n))
			}
		})
	}
	wg.Wait()
}

// parallelSort sorts s by cmp, which must be a total order for the result to
// be deterministic: it sorts GOMAXPROCS slices concurrently and merges them
// pairwise. Each merge copies only its left run aside, so the scratch space
// is about half of s.
func parallelSort[T any](s []T, cmp func(a, b T) int) {
	const minChunk = 1 << 14
	workers := min(runtime.GOMAXPROCS(0), len(s)/minChunk)
	if workers <= 1 {
		slices.SortFunc(s, cmp)
		return
	}
	bounds := make([]int, workers+1)
	for w := range bounds {
		bounds[w] = len(s) * w / workers
	}
	var wg sync.WaitGroup
	for w := range workers {
		part := s[bounds[w]:bounds[w+1]]
		wg.Go(func() { slices.SortFunc(part, cmp) })
	}
	wg.Wait()

	var scratch []T
	for len(bounds) > 2 {
		// Pair up adjacent runs; the left run of each pair is copied
		// into its own stretch of scratch.
		need := 0
		for w := 0; w+2 < len(bounds); w += 2 {
			need += bounds[w+1] - bounds[w]
		}
		if cap(scratch) < need {
			scratch = make([]T, need)
		}
		next := []int{0}
		off := 0
		for w := 0; w+1 < len(bounds); w += 2 {
			if w+2 >= len(bounds) { // odd run out: stays as it is
				next = append(next, bounds[w+1])
				break
			}
			lo, mid, hi := bounds[w], bounds[w+1], bounds[w+2]
			left := scratch[off : off+mid-lo]
			off += mid - lo
			wg.Go(func() {
				copy(left, s[lo:mid])
				mergeInto(s[lo:hi], left, s[mid:hi], cmp)
			})
			next = append(next, hi)
		}
		wg.Wait()
		bounds = next
	}
}

// mergeInto merges the sorted a and the sorted tail b of dst into dst, taking
// from a on ties. Writes never overtake reads in b, and once a is used up the
// rest of b is already in place.
func mergeInto[T any](dst, a, b []T, cmp func(a, b T) int) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if cmp(b[j], a[i]) < 0 {
			dst[k] = b[j]
			j++
		} else {
			dst[k] = a[i]
			i++
		}
		k++
	}
	copy(dst[k:], a[i:])
}
