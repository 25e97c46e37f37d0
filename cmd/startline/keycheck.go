package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres"
)

// errKeyMismatch: the node's STARTLINE_SECRET_KEY is not the one the
// database's secrets were sealed with.
var errKeyMismatch = errors.New("STARTLINE_SECRET_KEY is not the key this database's secrets were sealed with " +
	"(every node must share one key: staff TOTP secrets, draw seeds, sessions' CSRF tokens, receipts, " +
	"waiting-room tickets and cookies are sealed or signed with it)")

// checkSecretKey opens the first staff member's sealed TOTP secret with
// the configured key. A node started with another key than its peers
// (a dev key generated in another directory, a typo in one node's
// environment) would refuse every session, receipt and ticket the others
// issued and answer every staff sign-in with an internal error; this says
// so at start instead. A database without staff has nothing to check.
func checkSecretKey(ctx context.Context, store *postgres.Store, secret []byte) error {
	var rows []struct {
		Email            string
		TotpSecretSealed []byte
	}
	if err := store.DB().WithContext(ctx).Raw(`SELECT email, totp_secret_sealed FROM staff
		WHERE totp_secret_sealed IS NOT NULL ORDER BY id LIMIT 1`).Scan(&rows).Error; err != nil {
		return fmt.Errorf("check secret key: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	keys, err := lottery.NewKeys(secret)
	if err != nil {
		return err
	}
	if _, err := keys.Open(rows[0].TotpSecretSealed, "totp:"+rows[0].Email); err != nil {
		return errKeyMismatch
	}
	return nil
}
