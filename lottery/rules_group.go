package lottery

import "strings"

// GroupCode checks a runner's group code against the event's group rule and
// returns it normalized (trimmed, lower case): empty means a solo entry. An
// event whose MaxGroupSize is below 2 takes no groups; a code is 1 to 64
// letters, digits and dashes.
func GroupCode(raw string, maxGroupSize int) (string, error) {
	group := strings.ToLower(strings.TrimSpace(raw))
	if group == "" {
		return "", nil
	}
	if maxGroupSize < 2 {
		return "", Fieldf("group_code", "this event does not take group entries")
	}
	if !groupRe.MatchString(group) {
		return "", Fieldf("group_code", "use 1 to 64 letters, digits and dashes")
	}
	return group, nil
}

// GroupMembers is how many live (not rejected) entries of one group are in
// one sub-queue.
type GroupMembers struct {
	SubQueueID int64
	Count      int
}

// CheckGroupJoin decides whether an entry for subQueueID may join a group
// whose live entries are members (one row per sub-queue): every member of
// a group applies to one sub-queue (a field error otherwise), and a group
// holds at most maxGroupSize live entries (ErrGroupFull). The store loads
// members under the group's lock, so joins to one group are decided one
// after another.
func CheckGroupJoin(members []GroupMembers, subQueueID int64, maxGroupSize int) error {
	total := 0
	for _, m := range members {
		if m.SubQueueID != subQueueID {
			return Fieldf("group_code", "this group applied to another course or pace group; all members share one")
		}
		total += m.Count
	}
	if total >= maxGroupSize {
		return ErrGroupFull
	}
	return nil
}
