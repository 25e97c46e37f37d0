package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/startline/startline/lottery"
)

type staffRow struct {
	ID               int64 `gorm:"primaryKey"`
	Email            string
	Role             string
	PasswordHash     string
	TotpSecretSealed []byte
	CreatedAt        time.Time
	DisabledAt       *time.Time
}

func (staffRow) TableName() string { return "staff" }

type staffTokenRow struct {
	ID        int64 `gorm:"primaryKey"`
	StaffID   int64
	TokenHash []byte
	CreatedAt time.Time
	RevokedAt *time.Time
}

func (staffTokenRow) TableName() string { return "staff_tokens" }

func fromStaffRow(r staffRow) lottery.StaffAccount {
	return lottery.StaffAccount{ID: r.ID, Email: r.Email, Role: lottery.Role(r.Role), PasswordHash: r.PasswordHash,
		TOTPSealed: r.TotpSecretSealed, CreatedAt: r.CreatedAt}
}

// CreateStaff stores a staff account.
func (s *Store) CreateStaff(ctx context.Context, a lottery.StaffAccount) (lottery.StaffAccount, error) {
	r := staffRow{Email: a.Email, Role: string(a.Role), PasswordHash: a.PasswordHash, TotpSecretSealed: a.TOTPSealed}
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

// CreateStaffToken stores a token hash.
func (s *Store) CreateStaffToken(ctx context.Context, staffID int64, hash []byte) error {
	r := staffTokenRow{StaffID: staffID, TokenHash: hash}
	if err := s.db.WithContext(ctx).Omit("ID", "CreatedAt", "RevokedAt").Create(&r).Error; err != nil {
		return fmt.Errorf("create staff token: %w", err)
	}
	return nil
}

// StaffByToken returns the live account holding a live token.
func (s *Store) StaffByToken(ctx context.Context, hash []byte) (lottery.StaffAccount, error) {
	var r staffRow
	err := s.db.WithContext(ctx).Table("staff s").Select("s.*").
		Joins("JOIN staff_tokens t ON t.staff_id = s.id").
		Where("t.token_hash = ? AND t.revoked_at IS NULL AND s.disabled_at IS NULL", hash).Take(&r).Error
	if err != nil {
		return lottery.StaffAccount{}, notFound(err)
	}
	return fromStaffRow(r), nil
}
