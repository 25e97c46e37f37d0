package gate

import (
	"github.com/gin-gonic/gin"

	"github.com/startline/startline/antibot/identity"
	abredis "github.com/startline/startline/antibot/redis"
)

// meKeys are the budgets of a "my entries" request for email: the client's
// own keys and, under kind, the address paired with the requester (the
// apply routes' pairs, marked "me|" so the two never spend each other). No
// event valve: the route is not about one event.
func (g *Gate) meKeys(c *gin.Context, kind abredis.Kind, addrKey string) []abredis.Key {
	return append(g.ClientKeys(c), abredis.Key{Kind: kind, Value: "me|" + requester(c) + "|" + addrKey})
}

// MeCode counts a "my entries" code request as Code counts an apply code
// request (rate_limited past the requester's budgets; past the address's
// inbox cap, shared with the apply codes since it protects the same inbox,
// it reports not to mail unless this device applied with the address).
// An address that does not parse counts nothing: the service refuses it
// first. A refused request spends no budget (AllowCapped takes it back).
func (g *Gate) MeCode(c *gin.Context, email string) (mail bool, err error) {
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return true, nil
	}
	rl, err := g.allow(c, []abredis.Key{{Kind: abredis.KindOTPInbox, Value: addr.Key}},
		g.meKeys(c, abredis.KindOTPEmail, addr.Key)...)
	if err != nil || !rl.Result.Capped {
		return true, err
	}
	dev, _ := g.Guard.Device(c.Request)
	return g.Guard.KnowsAddress(c.Request.Context(), dev, addr.Key), nil
}

// MeEntries counts a try of a "my entries" code under the client's keys and
// the (requester, address) pair of the apply budget (email kind): guessing
// is bounded by the code's attempts, this bounds the load. An address that
// does not parse counts nothing.
func (g *Gate) MeEntries(c *gin.Context, email string) error {
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return nil
	}
	_, err = g.allow(c, nil, g.meKeys(c, abredis.KindEmail, addr.Key)...)
	return err
}
