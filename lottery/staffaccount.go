package lottery

import (
	"fmt"
	"time"
)

// Role is a staff member's permission set.
type Role string

// Staff roles.
const (
	RoleOrganizer Role = "organizer"
	RoleReviewer  Role = "reviewer"
)

// StaffAccount is an organizer or reviewer. How one is created, signs in
// and is locked out is lottery/staff's; every concept checks its Role.
type StaffAccount struct {
	ID           int64
	Email        string
	Role         Role
	PasswordHash string
	TOTPSealed   []byte
	CreatedAt    time.Time
	DisabledAt   *time.Time // set while the account is disabled
	// OrgID is the organization the account works for: an organizer sees
	// and changes only its events, a reviewer reviews only its entries.
	OrgID int64
}

// DefaultOrg is the organization of accounts added without one (and of
// everything made before organizations existed, migration 00027).
const DefaultOrg = "default"

// Organization is a race organizer's company or club: the unit that owns
// events, series and staff accounts.
type Organization struct {
	ID        int64
	Slug      string
	Name      string
	CreatedAt time.Time
}

// MayManage reports whether an account may see and change an event: an
// organizer of the event's organization. The console and every admin route
// answer others as if the event did not exist.
func MayManage(a StaffAccount, ev Event) bool {
	return a.Role == RoleOrganizer && a.OrgID != 0 && a.OrgID == ev.OrgID
}

// MayReview reports whether an account may review an event's entries: staff
// who review, of the event's organization.
func MayReview(a StaffAccount, ev Event) bool {
	return CanReview(a.Role) && a.OrgID != 0 && a.OrgID == ev.OrgID
}

// MayOperate reports whether an account may see the platform's own tools
// (the queue monitor): staff of the operating organization, DefaultOrg.
// The monitor shows every organization's tasks, so a race organizer's
// staff, who see only their own events elsewhere, may not.
func MayOperate(a StaffAccount, org Organization) bool {
	return CanReview(a.Role) && a.OrgID != 0 && org.ID == a.OrgID && org.Slug == DefaultOrg
}

// Actor returns the log identity of the account.
func (s StaffAccount) Actor() Actor {
	return Actor{StaffID: s.ID, OrgID: s.OrgID, Label: fmt.Sprintf("staff:%d", s.ID)}
}

// AuditRecord is one append-only audit_log row written in the same
// transaction as the change it records.
type AuditRecord struct {
	Action  string // e.g. "staff.disabled"
	Target  string // the account's address
	Details map[string]any
}

// CanReview reports whether a role may work the review queue.
func CanReview(r Role) bool { return r == RoleReviewer || r == RoleOrganizer }
