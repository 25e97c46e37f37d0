// Package testrand holds the random sources tests fix a service's
// Config.Random with: a predictable one, so equal sources give equal
// secrets, and one that fails, so a test sees the error instead of a weak
// value. Only tests import it.
package testrand

import "errors"

// Counter is a predictable random source: the bytes 0, 1, 2, ... (wrapping
// at 255). It is not safe for concurrent use.
type Counter struct{ n byte }

// Read fills p with the next bytes of the count.
func (c *Counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

// ErrNoEntropy is what Broken answers.
var ErrNoEntropy = errors.New("no entropy")

// Broken is a random source that always fails.
type Broken struct{}

// Read fails with ErrNoEntropy.
func (Broken) Read([]byte) (int, error) { return 0, ErrNoEntropy }
