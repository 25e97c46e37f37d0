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
}

// Actor returns the log identity of the account.
func (s StaffAccount) Actor() Actor {
	return Actor{StaffID: s.ID, Label: fmt.Sprintf("staff:%d", s.ID)}
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
