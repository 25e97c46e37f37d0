package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
)

type orgRow struct {
	ID        int64 `gorm:"primaryKey"`
	Slug      string
	Name      string
	CreatedAt time.Time
}

func (orgRow) TableName() string { return "organizations" }

func fromOrgRow(r orgRow) lottery.Organization {
	return lottery.Organization{ID: r.ID, Slug: r.Slug, Name: r.Name, CreatedAt: r.CreatedAt}
}

// EnsureOrganization returns the organization with the slug, creating it
// (named name, or the slug when name is empty) when missing.
func (s *Store) EnsureOrganization(ctx context.Context, slug, name string) (lottery.Organization, error) {
	if name == "" {
		name = slug
		if slug == lottery.DefaultOrg {
			name = "Default organization"
		}
	}
	var r orgRow
	err := s.db.WithContext(ctx).Raw(`INSERT INTO organizations (slug, name) VALUES (?, ?)
 ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id, slug, name, created_at`, slug, name).Scan(&r).Error
	if err != nil {
		return lottery.Organization{}, fmt.Errorf("ensure organization %s: %w", slug, err)
	}
	return fromOrgRow(r), nil
}

// OrganizationByID returns an organization; ErrNotFound.
func (s *Store) OrganizationByID(ctx context.Context, id int64) (lottery.Organization, error) {
	var r orgRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return lottery.Organization{}, notFound(err)
	}
	return fromOrgRow(r), nil
}

// orgOf is the organization a new event or series belongs to: the one given,
// else the acting staff member's, else (a seed or a script without an
// account) the default organization.
func orgOf(tx *gorm.DB, given int64, actor lottery.Actor) (int64, error) {
	if given != 0 {
		return given, nil
	}
	if actor.OrgID != 0 {
		return actor.OrgID, nil
	}
	var ids []int64
	err := tx.Raw(`SELECT COALESCE((SELECT org_id FROM staff WHERE id = ?),
 (SELECT id FROM organizations WHERE slug = ?))`, actor.StaffID, lottery.DefaultOrg).Scan(&ids).Error
	if err != nil {
		return 0, fmt.Errorf("organization of %s: %w", actor.Label, err)
	}
	if len(ids) == 0 || ids[0] == 0 {
		return 0, fmt.Errorf("organization of %s: none", actor.Label)
	}
	return ids[0], nil
}
