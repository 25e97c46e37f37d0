package stripe

import (
	"testing"

	"github.com/startline/startline/lottery/payments/stripe/stripemock"
)

// startStripeMock runs a stripe-mock of the test's own (stripemock.Start:
// found or installed at the pinned version, on a free loopback port,
// killed when the test ends) and returns its base URL. stripe-mock is
// stateless: it validates each request against Stripe's OpenAPI spec and
// answers with fixture objects.
func startStripeMock(t *testing.T) string {
	t.Helper()
	return stripemock.Start(t).URL
}
