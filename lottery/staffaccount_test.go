package lottery

import "testing"

func TestMayManageAndReview(t *testing.T) {
	ev := Event{OrgID: 7}
	for _, tc := range []struct {
		name           string
		acct           StaffAccount
		manage, review bool
	}{
		{"organizer of the event's organization", StaffAccount{Role: RoleOrganizer, OrgID: 7}, true, true},
		{"organizer of another organization", StaffAccount{Role: RoleOrganizer, OrgID: 8}, false, false},
		{"reviewer of the event's organization", StaffAccount{Role: RoleReviewer, OrgID: 7}, false, true},
		{"reviewer of another organization", StaffAccount{Role: RoleReviewer, OrgID: 8}, false, false},
		{"account without an organization", StaffAccount{Role: RoleOrganizer}, false, false},
		{"unknown role", StaffAccount{Role: "runner", OrgID: 7}, false, false},
	} {
		if got := MayManage(tc.acct, ev); got != tc.manage {
			t.Errorf("%s: MayManage = %v, want %v", tc.name, got, tc.manage)
		}
		if got := MayReview(tc.acct, ev); got != tc.review {
			t.Errorf("%s: MayReview = %v, want %v", tc.name, got, tc.review)
		}
	}
	if (MayManage(StaffAccount{Role: RoleOrganizer}, Event{})) {
		t.Error("an account and an event without organizations must not match")
	}
}

func TestMayOperate(t *testing.T) {
	operator := Organization{ID: 1, Slug: DefaultOrg}
	club := Organization{ID: 2, Slug: "harbour-club"}
	for _, tc := range []struct {
		name string
		acct StaffAccount
		org  Organization
		want bool
	}{
		{"organizer of the operating organization", StaffAccount{Role: RoleOrganizer, OrgID: 1}, operator, true},
		{"reviewer of the operating organization", StaffAccount{Role: RoleReviewer, OrgID: 1}, operator, true},
		{"organizer of a race organization", StaffAccount{Role: RoleOrganizer, OrgID: 2}, club, false},
		{"organization looked up for another account", StaffAccount{Role: RoleOrganizer, OrgID: 2}, operator, false},
		{"no organization", StaffAccount{Role: RoleOrganizer}, Organization{Slug: DefaultOrg}, false},
		{"unknown role", StaffAccount{Role: "runner", OrgID: 1}, operator, false},
	} {
		if got := MayOperate(tc.acct, tc.org); got != tc.want {
			t.Errorf("%s: MayOperate = %v, want %v", tc.name, got, tc.want)
		}
	}
}
