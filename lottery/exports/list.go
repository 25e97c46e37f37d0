package exports

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/lottery"
)

// PageSize is how many entries a page of the console's list shows.
const PageSize = 50

// ListQuery is what the organizer asked of the entries list: a search
// (e-mail, name, entry id prefix or phone), a status, a sub-queue (by key),
// and the cursor of the page to show ("" for the first).
type ListQuery struct {
	Search   string
	Status   string
	SubQueue string
	After    string
	Limit    int
}

// ListFilter is a ListQuery as the store runs it. The search matches an
// entry when any of its set parts do: Text in the name or e-mail (case
// folded), EmailKey the whole address, Phone the E.164 number, or the id
// within [IDFrom, IDTo] (an id prefix).
type ListFilter struct {
	Text       string
	EmailKey   string
	Phone      string
	IDFrom     string
	IDTo       string
	Status     string
	SubQueueID int64
	// Keyset: entries created before AfterTime, or at it with a smaller
	// id (newest first); a zero AfterTime is the first page.
	AfterTime time.Time
	AfterID   string
	Limit     int
}

// ListRow is one line of the entries list.
type ListRow struct {
	ID           string
	CreatedAt    time.Time
	Name         string
	Email        string
	Phone        string
	Status       lottery.EntryStatus
	SubQueueID   int64
	RiskScore    int
	RiskDecision string
	Bib          int
}

// Flagged reports whether the entry was ever flagged for review (the
// list links it to its review page).
func (r ListRow) Flagged() bool {
	return r.RiskDecision != "accept" || r.Status == lottery.EntryInReview
}

// ReviewState is ReviewState of the row.
func (r ListRow) ReviewState() string { return ReviewState(r.RiskDecision, r.Status) }

// ListPage is a page of the list and the cursor of the next ("" when it
// is the last).
type ListPage struct {
	Rows []ListRow
	Next string
}

// Statuses are the entry statuses the list filters by.
var Statuses = []lottery.EntryStatus{lottery.EntryReceived, lottery.EntryInReview, lottery.EntryRejected, lottery.EntryEligible,
	lottery.EntrySelected, lottery.EntryWaitlisted, lottery.EntryOffered, lottery.EntryConfirmed, lottery.EntryDeclined,
	lottery.EntryExpired, lottery.EntryWithdrawn, lottery.EntryTransferred, lottery.EntryDeferred}

var hexPrefixRe = regexp.MustCompile(`^[0-9a-f-]{4,36}$`)

// MaxSearchRunes bounds a search.
const MaxSearchRunes = 200

// FilterOf turns the organizer's query into the store's filter: the
// search read as every kind of key it could be, the status and sub-queue
// checked against the event, the cursor decoded. A bad value is a field
// error (search, status, subqueue, after).
func FilterOf(ev lottery.Event, q ListQuery, phoneRegion string) (ListFilter, error) {
	f := ListFilter{Limit: q.Limit}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = PageSize
	}
	s := strings.TrimSpace(q.Search)
	if len([]rune(s)) > MaxSearchRunes {
		return ListFilter{}, lottery.Fieldf("q", "a search is at most %d characters", MaxSearchRunes)
	}
	if s != "" {
		f.Text = strings.ToLower(s)
		if strings.Contains(s, "@") {
			f.EmailKey = strings.ToLower(s)
		}
		if p, err := identity.NormalizePhone(s, phoneRegion); err == nil && strings.ContainsAny(s, "0123456789") {
			f.Phone = p
		}
		if l := strings.ToLower(s); hexPrefixRe.MatchString(l) && len(strings.ReplaceAll(l, "-", "")) >= 4 {
			f.IDFrom, f.IDTo = uuidBounds(l)
		}
	}
	if q.Status != "" {
		ok := false
		for _, st := range Statuses {
			ok = ok || string(st) == q.Status
		}
		if !ok {
			return ListFilter{}, lottery.Fieldf("status", "choose one of the statuses")
		}
		f.Status = q.Status
	}
	if q.SubQueue != "" {
		sq, ok := ev.SubQueue(splitKey(q.SubQueue))
		if !ok {
			return ListFilter{}, lottery.Fieldf("subqueue", "choose one of the event's pace groups")
		}
		f.SubQueueID = sq.ID
	}
	if q.After != "" {
		t, id, err := parseCursor(q.After)
		if err != nil {
			return ListFilter{}, lottery.Fieldf("after", "this page link is broken; start from the first page")
		}
		f.AfterTime, f.AfterID = t, id
	}
	return f, nil
}

// uuidBounds is the smallest and largest UUID starting with the hex prefix
// (dashes in it ignored): an id prefix search as a range of the primary key.
func uuidBounds(prefix string) (string, string) {
	hex := strings.ReplaceAll(prefix, "-", "")
	if len(hex) > 32 {
		hex = hex[:32]
	}
	lo := hex + strings.Repeat("0", 32-len(hex))
	hi := hex + strings.Repeat("f", 32-len(hex))
	dash := func(h string) string { return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] }
	return dash(lo), dash(hi)
}

// cursorOf is the cursor after row: its creation time (microseconds, the
// database's precision) and id.
func cursorOf(r ListRow) string {
	return strconv.FormatInt(r.CreatedAt.UnixMicro(), 10) + "_" + r.ID
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func parseCursor(s string) (time.Time, string, error) {
	us, id, ok := strings.Cut(s, "_")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || n <= 0 || !uuidRe.MatchString(id) {
		return time.Time{}, "", fmt.Errorf("bad cursor %q", s)
	}
	return time.UnixMicro(n).UTC(), id, nil
}

// List returns a page of the event's entries, newest first, by keyset
// (stable while entries arrive; cheap on any page of a million).
func (s *Service) List(ctx context.Context, ev lottery.Event, q ListQuery) (ListPage, error) {
	f, err := FilterOf(ev, q, s.phoneRegion)
	if err != nil {
		return ListPage{}, err
	}
	want := f.Limit
	f.Limit++
	rows, err := s.store.ListEntries(ctx, ev.ID, f)
	if err != nil {
		return ListPage{}, fmt.Errorf("list entries of %s: %w", ev.Slug, err)
	}
	page := ListPage{Rows: rows}
	if len(rows) > want {
		page.Rows = rows[:want]
		page.Next = cursorOf(rows[want-1])
	}
	return page, nil
}

// ConfirmedBySubQueue counts the event's entries due a bib by sub-queue id.
func (s *Service) ConfirmedBySubQueue(ctx context.Context, ev lottery.Event) (map[int64]int, error) {
	n, err := s.store.ConfirmedBySubQueue(ctx, ev.ID)
	if err != nil {
		return nil, fmt.Errorf("confirmed entries of %s: %w", ev.Slug, err)
	}
	return n, nil
}

// splitKey splits a sub-queue key into course and pace codes.
func splitKey(key string) (string, string) {
	c, p, _ := strings.Cut(key, ":")
	return c, p
}
