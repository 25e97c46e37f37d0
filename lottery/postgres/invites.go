package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/staff"
)

// Staff invitations (staff.InviteStore, migration 00028).

type inviteRow struct {
	ID             int64
	OrgID          int64
	Email          string
	Role           string
	InvitedBy      int64
	InvitedByEmail string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	AcceptedAt     *time.Time
	RevokedAt      *time.Time
}

func (r inviteRow) toInvite() staff.Invite {
	return staff.Invite{ID: r.ID, OrgID: r.OrgID, Email: r.Email, Role: lottery.Role(r.Role), InvitedBy: r.InvitedBy,
		InvitedByEmail: r.InvitedByEmail, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		AcceptedAt: r.AcceptedAt, RevokedAt: r.RevokedAt}
}

const inviteSelect = `SELECT i.id, i.org_id, i.email, i.role, i.invited_by, s.email AS invited_by_email, i.created_at,
	i.expires_at, i.accepted_at, i.revoked_at
	FROM staff_invites i JOIN staff s ON s.id = i.invited_by `

// CreateInvite stores an invitation, its audit row and its mail in one
// transaction.
func (s *Store) CreateInvite(ctx context.Context, inv staff.Invite, tokenHash []byte, m lottery.Mail) (staff.Invite, int64, error) {
	var mailID int64
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var id int64
		if err := tx.Raw(`INSERT INTO staff_invites (org_id, email, role, token_hash, invited_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, inv.OrgID, inv.Email, string(inv.Role), tokenHash, inv.InvitedBy,
			inv.CreatedAt, inv.ExpiresAt).Scan(&id).Error; err != nil {
			return fmt.Errorf("store invite: %w", err)
		}
		inv.ID = id
		var err error
		if mailID, err = insertMail(tx, m); err != nil {
			return err
		}
		return audit(tx, inv.InvitedBy, "staff.invited", inv.Email, map[string]any{"invite_id": id, "role": inv.Role,
			"org_id": inv.OrgID, "expires_at": inv.ExpiresAt})
	})
	if err != nil {
		return staff.Invite{}, 0, fmt.Errorf("create invite: %w", err)
	}
	return inv, mailID, nil
}

// OrgInvites lists an organization's open (or expired) invitations.
func (s *Store) OrgInvites(ctx context.Context, orgID int64, limit int) ([]staff.Invite, error) {
	var rows []inviteRow
	if err := s.db.WithContext(ctx).Raw(inviteSelect+`WHERE i.org_id = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL
		ORDER BY i.created_at DESC, i.id DESC LIMIT ?`, orgID, limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("org invites: %w", err)
	}
	out := make([]staff.Invite, len(rows))
	for i, r := range rows {
		out[i] = r.toInvite()
	}
	return out, nil
}

// lockInvite loads an invitation under a row lock.
func lockInvite(tx *gorm.DB, where string, args ...any) (staff.Invite, error) {
	var rows []inviteRow
	if err := tx.Raw(inviteSelect+"WHERE "+where+" FOR UPDATE OF i", args...).Scan(&rows).Error; err != nil {
		return staff.Invite{}, fmt.Errorf("lock invite: %w", err)
	}
	if len(rows) == 0 {
		return staff.Invite{}, lottery.ErrNotFound
	}
	return rows[0].toInvite(), nil
}

// RevokeInvite revokes an organization's invitation once allow passes.
func (s *Store) RevokeInvite(ctx context.Context, orgID, id int64, by lottery.StaffAccount, now time.Time,
	allow func(staff.Invite) error) (staff.Invite, error) {
	var out staff.Invite
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		inv, err := lockInvite(tx, "i.id = ? AND i.org_id = ?", id, orgID)
		if err != nil {
			return err
		}
		if err := allow(inv); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE staff_invites SET revoked_at = ? WHERE id = ?`, now, id).Error; err != nil {
			return fmt.Errorf("revoke invite: %w", err)
		}
		inv.RevokedAt, out = &now, inv
		return audit(tx, by.ID, "staff.invite_revoked", inv.Email, map[string]any{"invite_id": id, "role": inv.Role})
	})
	return out, err
}

// InviteByToken returns the invitation with the token's hash.
func (s *Store) InviteByToken(ctx context.Context, tokenHash []byte) (staff.Invite, error) {
	var rows []inviteRow
	if err := s.db.WithContext(ctx).Raw(inviteSelect+"WHERE i.token_hash = ?", tokenHash).Scan(&rows).Error; err != nil {
		return staff.Invite{}, fmt.Errorf("invite: %w", err)
	}
	if len(rows) == 0 {
		return staff.Invite{}, lottery.ErrNotFound
	}
	return rows[0].toInvite(), nil
}

// AcceptInvite creates the invited account and marks the invitation used,
// in one transaction under the invitation's lock.
func (s *Store) AcceptInvite(ctx context.Context, tokenHash []byte, a lottery.StaffAccount, now time.Time,
	allow func(staff.Invite) error) (lottery.StaffAccount, error) {
	var out lottery.StaffAccount
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		inv, err := lockInvite(tx, "i.token_hash = ?", tokenHash)
		if err != nil {
			return err
		}
		if err := allow(inv); err != nil {
			return err
		}
		r := staffRow{Email: inv.Email, Role: string(inv.Role), PasswordHash: a.PasswordHash, TotpSecretSealed: a.TOTPSealed,
			OrgID: inv.OrgID}
		if err := tx.Omit("ID", "CreatedAt", "DisabledAt").Create(&r).Error; err != nil {
			if isUnique(err, "") {
				return lottery.ErrStaffExists
			}
			return fmt.Errorf("create staff: %w", err)
		}
		if err := tx.Exec(`UPDATE staff_invites SET accepted_at = ?, staff_id = ? WHERE id = ?`, now, r.ID, inv.ID).Error; err != nil {
			return fmt.Errorf("accept invite: %w", err)
		}
		if err := tx.Raw(`SELECT * FROM staff WHERE id = ?`, r.ID).Scan(&r).Error; err != nil {
			return fmt.Errorf("load staff: %w", err)
		}
		out = fromStaffRow(r)
		return audit(tx, r.ID, "staff.created", inv.Email, map[string]any{"role": inv.Role, "via": "invite",
			"invite_id": inv.ID, "invited_by": inv.InvitedBy, "org_id": inv.OrgID})
	})
	if err != nil {
		return lottery.StaffAccount{}, err
	}
	return out, nil
}

// OrgStaff lists an organization's accounts by address.
func (s *Store) OrgStaff(ctx context.Context, orgID int64) ([]lottery.StaffAccount, error) {
	var rows []staffRow
	if err := s.db.WithContext(ctx).Where("org_id = ?", orgID).Order("email").Limit(1000).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("org staff: %w", err)
	}
	out := make([]lottery.StaffAccount, len(rows))
	for i, r := range rows {
		out[i] = fromStaffRow(r)
	}
	return out, nil
}
