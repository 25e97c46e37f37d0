package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/staff"
)

type staffRow struct {
	ID               int64 `gorm:"primaryKey"`
	Email            string
	Role             string
	PasswordHash     string
	TotpSecretSealed []byte
	CreatedAt        time.Time
	DisabledAt       *time.Time
	OrgID            int64
}

func (staffRow) TableName() string { return "staff" }

type staffTokenRow struct {
	ID         int64 `gorm:"primaryKey"`
	StaffID    int64
	TokenHash  []byte
	Prefix     string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (staffTokenRow) TableName() string { return "staff_tokens" }

func fromStaffRow(r staffRow) lottery.StaffAccount {
	return lottery.StaffAccount{ID: r.ID, Email: r.Email, Role: lottery.Role(r.Role), PasswordHash: r.PasswordHash,
		TOTPSealed: r.TotpSecretSealed, CreatedAt: r.CreatedAt, DisabledAt: r.DisabledAt, OrgID: r.OrgID}
}

func fromStaffTokenRow(r staffTokenRow) staff.Token {
	return staff.Token{ID: r.ID, Prefix: r.Prefix, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt}
}

// CreateStaff stores a staff account.
func (s *Store) CreateStaff(ctx context.Context, a lottery.StaffAccount) (lottery.StaffAccount, error) {
	r := staffRow{Email: a.Email, Role: string(a.Role), PasswordHash: a.PasswordHash, TotpSecretSealed: a.TOTPSealed,
		OrgID: a.OrgID}
	if r.OrgID == 0 {
		org, err := s.EnsureOrganization(ctx, lottery.DefaultOrg, "")
		if err != nil {
			return lottery.StaffAccount{}, err
		}
		r.OrgID = org.ID
	}
	if err := s.db.WithContext(ctx).Omit("ID", "CreatedAt", "DisabledAt").Create(&r).Error; err != nil {
		if isUnique(err, "") {
			return lottery.StaffAccount{}, lottery.ErrStaffExists
		}
		return lottery.StaffAccount{}, fmt.Errorf("create staff: %w", err)
	}
	return fromStaffRow(r), nil
}

// StaffByEmail returns a live staff account.
func (s *Store) StaffByEmail(ctx context.Context, email string) (lottery.StaffAccount, error) {
	var r staffRow
	if err := s.db.WithContext(ctx).Where("email = ? AND disabled_at IS NULL", email).Take(&r).Error; err != nil {
		return lottery.StaffAccount{}, notFound(err)
	}
	return fromStaffRow(r), nil
}

// StaffAccountByEmail returns an account, disabled or not.
func (s *Store) StaffAccountByEmail(ctx context.Context, email string) (lottery.StaffAccount, error) {
	var r staffRow
	if err := s.db.WithContext(ctx).Where("email = ?", email).Take(&r).Error; err != nil {
		return lottery.StaffAccount{}, notFound(err)
	}
	return fromStaffRow(r), nil
}

// CreateStaffToken stores a token hash with its audit record.
func (s *Store) CreateStaffToken(ctx context.Context, staffID int64, hash []byte, t staff.Token, a lottery.AuditRecord) (staff.Token, error) {
	r := staffTokenRow{StaffID: staffID, TokenHash: hash, Prefix: t.Prefix, ExpiresAt: t.ExpiresAt}
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Omit("ID", "CreatedAt", "LastUsedAt", "RevokedAt").Create(&r).Error; err != nil {
			return err
		}
		a.Details["token_id"] = r.ID
		return audit(tx, staffID, a.Action, a.Target, a.Details)
	})
	if err != nil {
		return staff.Token{}, fmt.Errorf("create staff token: %w", err)
	}
	return fromStaffTokenRow(r), nil
}

// tokenUseGranularity bounds how often a token's last_used_at is written:
// a script calling in a loop costs one UPDATE a minute, not one a request.
const tokenUseGranularity = time.Minute

// StaffByToken returns the enabled account holding a live token unexpired
// at now, and notes the token's use.
func (s *Store) StaffByToken(ctx context.Context, hash []byte, now time.Time) (lottery.StaffAccount, error) {
	var r staffRow
	err := s.db.WithContext(ctx).Table("staff s").Select("s.*").
		Joins("JOIN staff_tokens t ON t.staff_id = s.id").
		Where("t.token_hash = ? AND t.revoked_at IS NULL AND t.expires_at > ? AND s.disabled_at IS NULL", hash, now).
		Take(&r).Error
	if err != nil {
		return lottery.StaffAccount{}, notFound(err)
	}
	// Matches no row (and writes nothing) when the use was noted recently.
	err = s.db.WithContext(ctx).Exec(`UPDATE staff_tokens SET last_used_at = ?
 WHERE token_hash = ? AND (last_used_at IS NULL OR last_used_at <= ?)`, now, hash, now.Add(-tokenUseGranularity)).Error
	if err != nil {
		return lottery.StaffAccount{}, fmt.Errorf("note token use: %w", err)
	}
	return fromStaffRow(r), nil
}

// ChangeStaffAccess applies an access change and its audit record in one
// transaction. The account row is locked first, so two changes to one
// account (say a reset and a disable) apply one after the other.
func (s *Store) ChangeStaffAccess(ctx context.Context, c staff.AccessChange) (staff.AccessResult, error) {
	var res staff.AccessResult
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		res = staff.AccessResult{}
		var id int64
		if err := tx.Raw(`SELECT id FROM staff WHERE id = ? FOR UPDATE`, c.StaffID).Scan(&id).Error; err != nil {
			return err
		}
		if id == 0 {
			return lottery.ErrNotFound
		}
		switch {
		case c.Disable:
			if err := tx.Exec(`UPDATE staff SET disabled_at = coalesce(disabled_at, now()) WHERE id = ?`, id).Error; err != nil {
				return err
			}
		case c.Enable:
			if err := tx.Exec(`UPDATE staff SET disabled_at = NULL WHERE id = ?`, id).Error; err != nil {
				return err
			}
		}
		if c.PasswordHash != "" && len(c.TOTPSealed) > 0 {
			if err := tx.Exec(`UPDATE staff SET password_hash = ?, totp_secret_sealed = ?, totp_last_step = 0 WHERE id = ?`,
				c.PasswordHash, c.TOTPSealed, id).Error; err != nil {
				return err
			}
		}
		switch {
		case c.RevokeTokens:
			q := tx.Exec(`UPDATE staff_tokens SET revoked_at = now() WHERE staff_id = ? AND revoked_at IS NULL`, id)
			if q.Error != nil {
				return q.Error
			}
			res.Tokens = int(q.RowsAffected)
		case c.TokenID != 0:
			q := tx.Exec(`UPDATE staff_tokens SET revoked_at = now() WHERE staff_id = ? AND id = ? AND revoked_at IS NULL`,
				id, c.TokenID)
			if q.Error != nil {
				return q.Error
			}
			if q.RowsAffected == 0 {
				return &lottery.Error{Code: lottery.CodeNotFound, Field: "id", Message: "no live token of this account has this id"}
			}
			res.Tokens = 1
		}
		if c.RevokeSessions {
			q := tx.Exec(`UPDATE staff_sessions SET revoked_at = now() WHERE staff_id = ? AND revoked_at IS NULL`, id)
			if q.Error != nil {
				return q.Error
			}
			res.Sessions = int(q.RowsAffected)
		}
		if c.ForgetDevices {
			if err := tx.Exec(`DELETE FROM staff_devices WHERE staff_id = ?`, id).Error; err != nil {
				return err
			}
		}
		d := map[string]any{}
		for k, v := range c.Audit.Details {
			d[k] = v
		}
		d["tokens_revoked"], d["sessions_ended"] = res.Tokens, res.Sessions
		return audit(tx, id, c.Audit.Action, c.Audit.Target, d)
	})
	if err != nil {
		return staff.AccessResult{}, fmt.Errorf("change staff access: %w", err)
	}
	return res, nil
}

// StaffTokens lists an account's tokens, newest first.
func (s *Store) StaffTokens(ctx context.Context, staffID int64) ([]staff.Token, error) {
	var rows []staffTokenRow
	if err := s.db.WithContext(ctx).Where("staff_id = ?", staffID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("staff tokens: %w", err)
	}
	out := make([]staff.Token, 0, len(rows))
	for _, r := range rows {
		out = append(out, fromStaffTokenRow(r))
	}
	return out, nil
}

// StaffDeviceKnown reports whether a device signed in to the enabled
// account with this address before.
func (s *Store) StaffDeviceKnown(ctx context.Context, email string, deviceHash []byte) (bool, error) {
	var known bool
	err := s.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM staff_devices d JOIN staff s ON s.id = d.staff_id
 WHERE s.email = ? AND s.disabled_at IS NULL AND d.device_hash = ?)`, email, deviceHash).Scan(&known).Error
	if err != nil {
		return false, fmt.Errorf("staff device: %w", err)
	}
	return known, nil
}

// RememberStaffDevice records a device's successful sign-in.
func (s *Store) RememberStaffDevice(ctx context.Context, staffID int64, deviceHash []byte, at time.Time) error {
	err := s.db.WithContext(ctx).Exec(`INSERT INTO staff_devices (staff_id, device_hash, first_seen_at, last_seen_at)
VALUES (?, ?, ?, ?) ON CONFLICT (staff_id, device_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
		staffID, deviceHash, at, at).Error
	if err != nil {
		return fmt.Errorf("remember staff device: %w", err)
	}
	return nil
}

// The store keeps every concept's persistence.
var _ staff.Store = (*Store)(nil)
