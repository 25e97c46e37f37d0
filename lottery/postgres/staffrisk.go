package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/startline/startline/lottery/staff"
)

// StaffLoginHistory reads an account's login attempts from the audit log.
// The window is measured on the database clock, the clock that stamps
// audit rows.
func (s *Store) StaffLoginHistory(ctx context.Context, staffID int64, window time.Duration) (staff.LoginHistory, error) {
	var row struct {
		Failures  int
		Logins    int
		Countries string
	}
	err := s.db.WithContext(ctx).Raw(`
SELECT count(*) FILTER (WHERE action IN ('staff.login_failed', 'staff.login_blocked')
                          AND created_at > now() - ? * interval '1 second') AS failures,
       count(*) FILTER (WHERE action = 'staff.login') AS logins,
       coalesce(string_agg(DISTINCT details->>'country', ',' ORDER BY details->>'country')
                FILTER (WHERE action = 'staff.login' AND details->>'country' <> ''), '') AS countries
  FROM audit_log
 WHERE staff_id = ? AND action IN ('staff.login', 'staff.login_failed', 'staff.login_blocked')`,
		window.Seconds(), staffID).Scan(&row).Error
	if err != nil {
		return staff.LoginHistory{}, fmt.Errorf("staff login history: %w", err)
	}
	h := staff.LoginHistory{Failures: row.Failures, LoggedInBefore: row.Logins > 0}
	if row.Countries != "" {
		h.Countries = strings.Split(row.Countries, ",")
	}
	return h, nil
}
