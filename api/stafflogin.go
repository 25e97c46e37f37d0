package api

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/antibot/guard"
	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/lottery"
)

// GateStaffLogin rate-limits a staff login attempt so that it throttles
// the attacker, not the owner. The API and the console's login form both
// call it.
//
//  1. The requesting address (ClientKey) has its own budget (staff_login):
//     an address that keeps guessing is refused.
//  2. A device that signed in to the account before (its signed sl_device
//     cookie, checked in the database) has a budget of its own per account
//     (staff_device) that strangers cannot spend: the owner's right password
//     and code work while the account is under attack.
//  3. Every other device shares a short per-account window (staff_account,
//     5 a minute) that paces guesses from many addresses; it never locks the
//     account for longer than the window, so the owner on a new device waits
//     at most a minute.
//
// Each step counts only when the ones before it passed, so a refused
// attempt spends no other budget. client is the requester (Client), its
// DeviceID the signed device cookie's id or "".
func GateStaffLogin(c *gin.Context, g *guard.Guard, svc *lottery.Service, email string, client lottery.ClientInfo) (guard.RateLimit, error) {
	ctx := c.Request.Context()
	rl, err := g.Allow(ctx, abredis.Key{Kind: abredis.KindStaffLogin, Value: abredis.ClientKey(c.ClientIP())})
	if err != nil {
		return rl, err
	}
	known, err := svc.StaffDeviceKnown(ctx, email, client.DeviceID)
	if err != nil {
		return rl, err
	}
	account := strings.ToLower(strings.TrimSpace(email))
	key := abredis.Key{Kind: abredis.KindStaffAccount, Value: account}
	if known {
		key = abredis.Key{Kind: abredis.KindStaffDevice, Value: account + "|" + client.DeviceID}
	}
	return g.Allow(ctx, key)
}
