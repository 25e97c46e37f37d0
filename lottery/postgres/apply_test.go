package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/registration"
)

// applyFixture is a published event open for entries, with two pace groups
// ("ten:a", "ten:b") and groups of up to three.
type applyFixture struct {
	store *postgres.Store
	svc   *lottery.Service
	draws *draws.Service
	clk   *lottery.FixedClock
	org   lottery.StaffAccount
	ev    lottery.Event
	now   time.Time // inside the window
}

func newApplyFixture(t testing.TB, paces ...lottery.PaceGroupSpec) *applyFixture {
	t.Helper()
	store, svc, dr, clk, org := drawService(t, nil)
	ctx := context.Background()
	if len(paces) == 0 {
		paces = []lottery.PaceGroupSpec{{Code: "a", Label: "A", Capacity: 10}, {Code: "b", Label: "B", Capacity: 10}}
	}
	if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "race", Name: "Race", DisputeWindow: "0s", OpensAt: clk.T,
		ClosesAt: clk.T.Add(time.Hour), MaxGroupSize: 3, OfferHold: "24h",
		Courses: []lottery.CourseSpec{{Code: "ten", Name: "10K", DistanceKM: 10, PaceGroups: paces}}}); err != nil {
		t.Fatal(err)
	}
	ev, err := svc.Transition(ctx, org, "race", lottery.ActionPublish, lottery.TransitionParams{})
	if err != nil {
		t.Fatal(err)
	}
	return &applyFixture{store: store, svc: svc, draws: dr, clk: clk, org: org, ev: ev, now: clk.T.Add(time.Minute)}
}

// subQueue returns the id of pace group code.
func (f *applyFixture) subQueue(t testing.TB, code string) int64 {
	t.Helper()
	sq, ok := f.ev.SubQueue("ten", code)
	if !ok {
		t.Fatalf("no pace group %s", code)
	}
	return sq.ID
}

// person is one runner's identity; n makes it unique.
func person(n int) (name, email, phone string, birth time.Time) {
	return fmt.Sprintf("Runner Number %d", n), fmt.Sprintf("runner%d@example.com", n),
		fmt.Sprintf("+8210%08d", n), time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)
}

// entry builds runner n's application to pace group code.
func (f *applyFixture) entry(t testing.TB, n int, code string) lottery.Entry {
	t.Helper()
	name, email, phone, birth := person(n)
	return lottery.Entry{ID: uuid.NewString(), EventID: f.ev.ID, SubQueueID: f.subQueue(t, code), SubQueue: "ten:" + code,
		Name: name, Email: email, EmailKey: email, Phone: phone, BirthDate: birth, Tickets: 1,
		Status: lottery.EntryReceived, PersonKey: identity.PersonKey(name, birth),
		Risk: antibot.Assessment{Decision: antibot.Accept, RulesVersion: "test"}}
}

// giveCode stores a fresh code for the address, as requesting one does,
// valid past the window's close (TestApplyWindow).
func (f *applyFixture) giveCode(t *testing.T, emailKey string) []byte {
	t.Helper()
	hash := []byte("code-of-" + emailKey)
	if err := f.store.DB().Exec(`INSERT INTO otp_codes (event_id, email_key, code_hash, attempts, expires_at)
		VALUES (?, ?, ?, 0, ?) ON CONFLICT (event_id, email_key) DO UPDATE SET code_hash = EXCLUDED.code_hash,
			attempts = 0, expires_at = EXCLUDED.expires_at, used_at = NULL, used_by = NULL`,
		f.ev.ID, emailKey, hash, f.clk.T.Add(2*time.Hour)).Error; err != nil {
		t.Fatal(err)
	}
	return hash
}

func (f *applyFixture) apply(e lottery.Entry, hash []byte) (registration.ApplyOutcome, error) {
	return f.store.Apply(context.Background(), registration.ApplyTx{Entry: e, OTPHash: hash,
		MaxOTPAttempts: lottery.OTPMaxAttempts, MaxGroupSize: f.ev.MaxGroupSize, Now: f.now})
}

func (f *applyFixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.store.DB().Raw(query, args...).Row().Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantError fails unless err is a coded error with this code and field
// (and, when msg is set, this message).
func wantError(t *testing.T, err error, code, field, msg string) {
	t.Helper()
	var e *lottery.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want %s on %q", err, code, field)
	}
	if e.Code != code || e.Field != field || (msg != "" && e.Message != msg) {
		t.Fatalf("error %+v, want %s on %q %q", e, code, field, msg)
	}
}

// TestApplyStoresEntry: an application with the right code stores the
// entry, consumes the code for it and logs the creation.
func TestApplyStoresEntry(t *testing.T) {
	f := newApplyFixture(t)
	e := f.entry(t, 1, "a")
	out, err := f.apply(e, f.giveCode(t, e.EmailKey))
	if err != nil {
		t.Fatal(err)
	}
	if out.EntryID != e.ID || out.Status != lottery.EntryReceived || out.SubQueue != "ten:a" || out.Replayed {
		t.Errorf("outcome %+v", out)
	}
	got, err := f.store.Entry(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.EmailKey != e.EmailKey || got.Phone != e.Phone || got.PersonKey != e.PersonKey || got.Status != lottery.EntryReceived {
		t.Errorf("stored entry %+v", got)
	}
	if n := f.count(t, `SELECT count(*) FROM otp_codes WHERE used_by = ? AND attempts = 1`, e.ID); n != 1 {
		t.Errorf("code not consumed by the entry")
	}
	if n := f.count(t, `SELECT count(*) FROM event_log WHERE entry_id = ? AND kind = 'entry.created'`, e.ID); n != 1 {
		t.Errorf("%d entry.created records, want 1", n)
	}
}

// TestApplyDuplicate: one person, one entry per event, whichever identity
// key shows it; the runner is told which (lottery.DuplicateEntry), and
// nothing of the refused application is kept.
func TestApplyDuplicate(t *testing.T) {
	f := newApplyFixture(t)
	first := f.entry(t, 1, "a")
	if _, err := f.apply(first, f.giveCode(t, first.EmailKey)); err != nil {
		t.Fatal(err)
	}
	_, _, _, otherBirth := person(99)
	tests := []struct {
		name  string
		edit  func(e *lottery.Entry)
		field string
		msg   string
	}{
		{"same e-mail key", func(e *lottery.Entry) {
			e.Email, e.EmailKey = "Runner1@Example.com", first.EmailKey
		}, "email", lottery.ErrDuplicateEntry.Message},
		{"same phone", func(e *lottery.Entry) { e.Phone = first.Phone }, "phone",
			"an entry with this phone number exists for this event"},
		{"same name and birth date", func(e *lottery.Entry) {
			e.Name, e.BirthDate, e.PersonKey = first.Name, first.BirthDate, first.PersonKey
		}, "name", "an entry for this name and birth date exists for this event"},
		{"same e-mail and phone: e-mail named", func(e *lottery.Entry) {
			e.EmailKey, e.Phone = first.EmailKey, first.Phone
		}, "email", lottery.ErrDuplicateEntry.Message},
		{"same phone, other pace group", func(e *lottery.Entry) {
			e.Phone, e.SubQueueID, e.SubQueue = first.Phone, f.subQueue(t, "b"), "ten:b"
		}, "phone", "an entry with this phone number exists for this event"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := f.entry(t, 10+i, "a")
			e.BirthDate, e.PersonKey = otherBirth.AddDate(0, 0, i), identity.PersonKey(e.Name, otherBirth.AddDate(0, 0, i))
			tt.edit(&e)
			_, err := f.apply(e, f.giveCode(t, e.EmailKey))
			wantError(t, err, lottery.CodeDuplicateEntry, tt.field, tt.msg)
			if n := f.count(t, `SELECT count(*) FROM entries`); n != 1 {
				t.Errorf("%d entries stored, want 1", n)
			}
			if n := f.count(t, `SELECT count(*) FROM otp_codes WHERE used_by = ?`, e.ID); n != 0 {
				t.Errorf("the refused application consumed its code")
			}
		})
	}
}

// TestApplyWindow: outside the event's window the insert is refused and
// the runner told why (Event.CheckOpen), even with a valid code.
func TestApplyWindow(t *testing.T) {
	f := newApplyFixture(t)
	tests := []struct {
		name string
		at   time.Time
		code string
	}{
		{"before the window", f.clk.T.Add(-time.Second), lottery.CodeRegistrationNotOpen},
		{"at the close", f.clk.T.Add(time.Hour), lottery.CodeRegistrationClosed},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := f.entry(t, i+1, "a")
			hash := f.giveCode(t, e.EmailKey)
			_, err := f.store.Apply(context.Background(), registration.ApplyTx{Entry: e, OTPHash: hash,
				MaxOTPAttempts: lottery.OTPMaxAttempts, MaxGroupSize: 3, Now: tt.at})
			wantError(t, err, tt.code, "", "")
		})
	}
}

// TestApplyCodeAttemptCap: wrong codes count, and after the fifth the
// right code no longer works; no code at all is refused.
func TestApplyCodeAttemptCap(t *testing.T) {
	f := newApplyFixture(t)
	e := f.entry(t, 1, "a")
	right := f.giveCode(t, e.EmailKey)
	wrong := []byte("a wrong code")
	const (
		msgWrong   = "the code is wrong"
		msgTooMany = "too many attempts; request a new code"
	)
	steps := []struct {
		hash     []byte
		msg      string // the invalid_otp message
		attempts int    // counted after the step
	}{
		{wrong, msgWrong, 1},
		{wrong, msgWrong, 2},
		{wrong, msgWrong, 3},
		{wrong, msgWrong, 4},
		{wrong, msgWrong, 5},
		// The right code on the sixth try: refused, and not counted.
		{right, lottery.ErrCodeUsed.Message, 5},
		{wrong, msgTooMany, 6},
		{right, msgTooMany, 7},
	}
	for i, s := range steps {
		e.ID = uuid.NewString()
		_, err := f.apply(e, s.hash)
		wantError(t, err, lottery.CodeInvalidOTP, "otp", s.msg)
		if n := f.count(t, `SELECT attempts FROM otp_codes WHERE email_key = ?`, e.EmailKey); n != s.attempts {
			t.Fatalf("step %d: %d attempts counted, want %d", i+1, n, s.attempts)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM entries`); n != 0 {
		t.Errorf("%d entries stored, want none", n)
	}

	other := f.entry(t, 2, "a")
	_, err := f.apply(other, right)
	wantError(t, err, lottery.CodeInvalidOTP, "otp", lottery.ErrNoCode.Message)
}

// TestApplyCodeRuleAgrees: the apply statement consumes a code exactly
// when lottery.CodeConsumes says so, and the runner gets
// lottery.CheckCode's answer, for codes in every state.
func TestApplyCodeRuleAgrees(t *testing.T) {
	f := newApplyFixture(t)
	right := []byte("the right code")
	wrong := []byte("a wrong code")
	live, gone := f.now.Add(time.Minute), f.now.Add(-time.Microsecond)
	earlier := uuid.NewString() // a request that consumed the code and made no entry
	n := 0
	for _, used := range []bool{false, true} {
		for _, attempts := range []int{0, 3, 4, 5, 6} {
			for _, expires := range []time.Time{live, gone, f.now} {
				for _, match := range []bool{true, false} {
					n++
					try := lottery.CodeTry{Match: match, Used: used, Attempts: attempts, ExpiresAt: expires}
					name := fmt.Sprintf("match=%t used=%t attempts=%d expired=%t", match, used, attempts, !f.now.Before(expires))
					t.Run(name, func(t *testing.T) {
						e := f.entry(t, n, "a")
						var usedBy any
						if used {
							usedBy = earlier
						}
						if err := f.store.DB().Exec(`INSERT INTO otp_codes (event_id, email_key, code_hash, attempts, expires_at,
								used_at, used_by) VALUES (?, ?, ?, ?, ?, CASE WHEN ?::uuid IS NULL THEN NULL ELSE now() END, ?::uuid)`,
							f.ev.ID, e.EmailKey, right, attempts, expires, usedBy, usedBy).Error; err != nil {
							t.Fatal(err)
						}
						given := wrong
						if match {
							given = right
						}
						_, err := f.apply(e, given)
						want := lottery.CheckCode(try, f.now, lottery.OTPMaxAttempts)
						consumed := f.count(t, `SELECT count(*) FROM otp_codes WHERE used_by = ?`, e.ID) == 1
						if consumed != lottery.CodeConsumes(try, f.now, lottery.OTPMaxAttempts) {
							t.Fatalf("the statement consumed the code: %t; lottery.CodeConsumes: %t", consumed, !consumed)
						}
						counted := f.count(t, `SELECT attempts FROM otp_codes WHERE email_key = ?`, e.EmailKey) - attempts
						switch {
						case want.Consumed:
							if err != nil || counted != 1 {
								t.Fatalf("apply: %v, %d attempts counted; want the entry and 1", err, counted)
							}
						case want.UsedElsewhere:
							wantError(t, err, lottery.CodeInvalidOTP, "otp", lottery.ErrCodeUsed.Message)
							if counted != 0 {
								t.Fatalf("%d attempts counted, want 0 (rolled back)", counted)
							}
						default:
							wantError(t, err, lottery.CodeInvalidOTP, "otp", want.Err.Message)
							if counted != 1 {
								t.Fatalf("%d attempts counted, want 1 (kept)", counted)
							}
						}
					})
				}
			}
		}
	}
}

// TestApplyCodeUsedByDuplicate: the right code that another request
// consumed for its entry answers duplicate_entry.
func TestApplyCodeUsedByDuplicate(t *testing.T) {
	f := newApplyFixture(t)
	e := f.entry(t, 1, "a")
	hash := f.giveCode(t, e.EmailKey)
	if _, err := f.apply(e, hash); err != nil {
		t.Fatal(err)
	}
	again := f.entry(t, 1, "a") // the same runner, a new request
	_, err := f.apply(again, hash)
	wantError(t, err, lottery.CodeDuplicateEntry, "", lottery.ErrDuplicateEntry.Message)
}

// TestApplyGroupLimits: a group holds at most MaxGroupSize live entries,
// all in one sub-queue; rejected members do not count.
func TestApplyGroupLimits(t *testing.T) {
	f := newApplyFixture(t)
	join := func(n int, code string, status lottery.EntryStatus) error {
		e := f.entry(t, n, code)
		e.GroupCode, e.Status = "team", status
		_, err := f.apply(e, f.giveCode(t, e.EmailKey))
		return err
	}
	if err := join(1, "a", lottery.EntryRejected); err != nil {
		t.Fatal(err)
	}
	for n := 2; n <= 4; n++ {
		if err := join(n, "a", lottery.EntryReceived); err != nil {
			t.Fatalf("member %d: %v", n, err)
		}
	}
	wantError(t, join(5, "a", lottery.EntryReceived), lottery.CodeGroupFull, "group_code", "")
	wantError(t, join(6, "b", lottery.EntryReceived), lottery.CodeInvalidField, "group_code",
		"this group applied to another course or pace group; all members share one")
	if n := f.count(t, `SELECT count(*) FROM entries WHERE group_code = 'team'`); n != 4 {
		t.Errorf("%d group entries stored, want 4", n)
	}
	// Another group is not affected.
	e := f.entry(t, 7, "b")
	e.GroupCode = "other"
	if _, err := f.apply(e, f.giveCode(t, e.EmailKey)); err != nil {
		t.Errorf("a new group in pace b: %v", err)
	}
}
