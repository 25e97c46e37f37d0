package registration

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/internal/testrand"
	"github.com/startline/startline/lottery"
)

// fakeStore keeps code requests and idempotency records in memory; methods
// a test does not use panic through the nil embedded interface.
type fakeStore struct {
	Store
	saved   []OTPRecord
	mails   []lottery.Mail
	refused []OTPRecord
	hashes  map[string][]byte // idempotency key → request hash
	err     error             // what IdempotencyHash fails with
}

func (f *fakeStore) SaveOTP(_ context.Context, o OTPRecord, m lottery.Mail) (int64, error) {
	f.saved, f.mails = append(f.saved, o), append(f.mails, m)
	return int64(len(f.mails)), nil
}

func (f *fakeStore) RefuseOTP(_ context.Context, o OTPRecord) error {
	f.refused = append(f.refused, o)
	return nil
}

func (f *fakeStore) IdempotencyHash(_ context.Context, _ int64, key string) ([]byte, bool, error) {
	h, ok := f.hashes[key]
	return h, ok, f.err
}

// fakeEvents serves one published event, open at testNow.
type fakeEvents struct{ ev lottery.Event }

func (e fakeEvents) PublicEvent(_ context.Context, slug string) (lottery.Event, error) {
	if slug != e.ev.Slug {
		return lottery.Event{}, lottery.ErrNotFound
	}
	return e.ev, nil
}
func (e fakeEvents) CachedEvent(ctx context.Context, slug string) (lottery.Event, error) {
	return e.PublicEvent(ctx, slug)
}
func (fakeEvents) Network(string) ipintel.Network { return ipintel.Network{} }

// fakeNotifier records the outbox ids it is asked to send.
type fakeNotifier struct {
	lottery.Notifier
	queued []int64
}

func (n *fakeNotifier) MailQueued(_ context.Context, id int64) error {
	n.queued = append(n.queued, id)
	return nil
}

var testNow = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

func testEvent(t *testing.T) lottery.Event {
	t.Helper()
	ev, err := lottery.EventSpec{Slug: "spring", Name: "Spring", TimeZone: "Asia/Seoul", OpensAt: testNow.Add(-time.Hour),
		ClosesAt: testNow.Add(time.Hour), MaxGroupSize: 4, Courses: []lottery.CourseSpec{{Code: "half", Name: "Half",
			DistanceKM: 21.1, PaceGroups: []lottery.PaceGroupSpec{{Code: "open", Label: "Open", Capacity: 10}}}}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	ev.ID, ev.Status = 7, lottery.EventPublished
	return ev
}

func newTestService(t *testing.T, st Store, notify lottery.Notifier, r io.Reader) *Service {
	t.Helper()
	keys, err := lottery.NewKeys([]byte("registration-test-secret-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return NewService(st, fakeEvents{testEvent(t)}, keys, &lottery.FixedClock{T: testNow}, notify,
		slog.New(slog.DiscardHandler), lottery.Config{Random: r})
}

var browser = lottery.ClientInfo{IP: "203.0.113.9", AcceptLanguage: "ko-KR,ko;q=0.9",
	UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"}

// TestServiceRandomSource: e-mail codes and entry ids come from the
// service's random source (Config.Random), so a test can fix them; a
// failing source is an error, never a panic or a weak value.
func TestServiceRandomSource(t *testing.T) {
	a, b := newTestService(t, nil, nil, &testrand.Counter{}), newTestService(t, nil, nil, &testrand.Counter{})
	ca, errA := a.newOTPCode()
	cb, errB := b.newOTPCode()
	if errA != nil || errB != nil || ca != cb || len(ca) != lottery.OTPDigits {
		t.Errorf("newOTPCode = %q, %q (%v, %v); want equal %d-digit codes", ca, cb, errA, errB, lottery.OTPDigits)
	}
	ev := testEvent(t)
	req := validRequest()
	ea, errA := a.validate(&ev, req, testNow)
	eb, errB := b.validate(&ev, req, testNow)
	if errA != nil || errB != nil || ea.ID != eb.ID || ea.ID == "" {
		t.Errorf("entry ids %q, %q (%v, %v); want equal ids", ea.ID, eb.ID, errA, errB)
	}

	broken := newTestService(t, nil, nil, testrand.Broken{})
	if code, err := broken.newOTPCode(); err == nil {
		t.Errorf("code %q from a failing source", code)
	}
	if _, err := broken.validate(&ev, req, testNow); err == nil {
		t.Error("entry id from a failing source")
	}
}

// TestRequestOTP: the mailed code (to the address as given) is the one
// stored (as its keyed hash, under the normalized address),
// valid for OTPValidity, and its mail is handed to the notifier; a
// withheld request stores its refusal, with the reason, and mails nothing.
func TestRequestOTP(t *testing.T) {
	ctx := context.Background()
	st, n := &fakeStore{}, &fakeNotifier{}
	s := newTestService(t, st, n, &testrand.Counter{})
	code, _ := newTestService(t, nil, nil, &testrand.Counter{}).newOTPCode() // what the same source draws
	if err := s.RequestOTP(ctx, "spring", " Runner@Example.com ", "en", browser); err != nil {
		t.Fatal(err)
	}
	if len(st.saved) != 1 || len(st.refused) != 0 {
		t.Fatalf("saved %d, refused %d; want one saved code", len(st.saved), len(st.refused))
	}
	rec, m := st.saved[0], st.mails[0]
	if want := s.keys.OTPHash(7, "runner@example.com", code); string(rec.CodeHash) != string(want) {
		t.Errorf("stored hash is not the mailed code's")
	}
	if !rec.ExpiresAt.Equal(testNow.Add(lottery.OTPValidity)) || rec.EmailKey != "runner@example.com" {
		t.Errorf("record %+v", rec)
	}
	if m.To != "Runner@example.com" || m.Kind != "otp" || !strings.Contains(m.Body, code) {
		t.Errorf("mail to %q kind %q does not carry the code %s", m.To, m.Kind, code)
	}
	if len(n.queued) != 1 || n.queued[0] != 1 {
		t.Errorf("notifier got %v; want outbox id 1", n.queued)
	}

	if err := s.WithholdOTP(ctx, "spring", "runner@example.com", browser); err != nil {
		t.Fatal(err)
	}
	if len(st.saved) != 1 || len(st.refused) != 1 || len(n.queued) != 1 {
		t.Fatalf("withheld: saved %d, refused %d, queued %d; want 1, 1, 1", len(st.saved), len(st.refused), len(n.queued))
	}
	r := st.refused[0]
	if r.Risk.Decision != antibot.Reject || len(r.CodeHash) != 0 || !hasReason(r.Risk, "inbox_cap") {
		t.Errorf("withheld record: decision %s, hash %x, reasons %v", r.Risk.Decision, r.CodeHash, lottery.ReasonCodes(r.Risk))
	}

	for _, tt := range []struct {
		name, slug, email string
		want              error
	}{
		{"unknown event", "autumn", "runner@example.com", lottery.ErrNotFound},
		{"bad address", "spring", "not-an-address", lottery.ErrInvalidField},
	} {
		if err := s.RequestOTP(ctx, tt.slug, tt.email, "", browser); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func hasReason(a antibot.Assessment, code string) bool {
	for _, r := range a.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

func validRequest() ApplyRequest {
	prev := 2
	return ApplyRequest{Course: "half", PaceGroup: "open", Name: "Kim Minjun", Email: "runner@example.com",
		Phone: "010-1234-5678", BirthDate: "1990-05-17", OTP: "123456", GroupCode: "kim-family", PreviousApplications: &prev,
		Consents: map[string]string{"privacy": lottery.DefaultPrivacy.Version, "waiver": lottery.DefaultWaiver.Version}}
}

// TestValidate: the fields are checked in form order (the first bad one is
// the error), and a valid request becomes a normalized entry.
func TestValidate(t *testing.T) {
	s := newTestService(t, nil, nil, &testrand.Counter{})
	ev := testEvent(t)
	e, err := s.validate(&ev, validRequest(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "Kim Minjun" || e.EmailKey != "runner@example.com" || e.Phone != "+821012345678" ||
		e.SubQueue != "half:open" || e.GroupCode != "kim-family" || e.Tickets != 1 || e.PersonKey == "" ||
		len(e.Consents) != 2 || e.Consents[0].Version != lottery.DefaultPrivacy.Version || !e.Consents[0].AcceptedAt.Equal(testNow) {
		t.Errorf("entry %+v", e)
	}
	tests := []struct {
		name  string
		edit  func(r *ApplyRequest)
		field string
	}{
		{"course", func(r *ApplyRequest) { r.Course = "full" }, "course"},
		{"name before e-mail", func(r *ApplyRequest) { r.Name, r.Email = " ", "x" }, "name"},
		{"e-mail before phone", func(r *ApplyRequest) { r.Email, r.Phone = "x", "x" }, "email"},
		{"phone", func(r *ApplyRequest) { r.Phone = "12" }, "phone"},
		{"birth date before code", func(r *ApplyRequest) { r.BirthDate, r.OTP = "1990-13-01", "x" }, "birth_date"},
		{"answers after birth date", func(r *ApplyRequest) { r.BirthDate, r.Answers = "x", map[string]any{"shoe": "270"} }, "birth_date"},
		{"an answer to no question", func(r *ApplyRequest) { r.Answers = map[string]any{"shoe": "270"} }, "answers.shoe"},
		{"answers before consents", func(r *ApplyRequest) { r.Answers, r.Consents = map[string]any{"shoe": "1"}, nil }, "answers.shoe"},
		{"consent before code", func(r *ApplyRequest) { r.Consents, r.OTP = map[string]string{"privacy": "default-2"}, "x" }, "consents.waiver"},
		{"code", func(r *ApplyRequest) { r.OTP = "12345" }, "otp"},
		{"group", func(r *ApplyRequest) { r.GroupCode = "Kim Family" }, "group_code"},
		{"previous applications", func(r *ApplyRequest) { n := 101; r.PreviousApplications = &n }, "previous_applications"},
		{"signals", func(r *ApplyRequest) { r.Signals = make([]byte, 4097) }, "signals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := validRequest()
			tt.edit(&req)
			_, err := s.validate(&ev, req, testNow)
			var le *lottery.Error
			if !errors.As(err, &le) || le.Field != tt.field {
				t.Errorf("validate: %v; want a %s error", err, tt.field)
			}
		})
	}
}

// TestCheckIdempotencyKey: only a key stored with another body is refused
// (409), before anything is spent; the store is asked nothing for an empty
// or over-long key, and its failure is passed on.
func TestCheckIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	body := []byte(`{"name":"Kim Minjun"}`)
	st := &fakeStore{hashes: map[string][]byte{}}
	s := newTestService(t, st, nil, &testrand.Counter{})
	if err := s.CheckIdempotencyKey(ctx, "spring", "k1", body); err != nil {
		t.Fatalf("unused key: %v", err)
	}
	sum := sha256Of(body)
	st.hashes["k1"] = sum
	down := errors.New("connection refused")
	tests := []struct {
		name, slug, key string
		body            []byte
		storeErr        error
		want            error
	}{
		{"same body", "spring", "k1", body, nil, nil},
		{"other body", "spring", "k1", []byte(`{"name":"Lee"}`), nil, lottery.ErrIdempotencyMismatch},
		{"other key", "spring", "k2", []byte(`{"name":"Lee"}`), nil, nil},
		{"no key", "spring", "", []byte(`{}`), down, nil},
		{"over-long key (Apply refuses it)", "spring", strings.Repeat("k", 256), []byte(`{}`), down, nil},
		{"unknown event", "autumn", "k1", body, nil, lottery.ErrNotFound},
		{"store down", "spring", "k1", body, down, down},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st.err = tt.storeErr
			err := s.CheckIdempotencyKey(ctx, tt.slug, tt.key, tt.body)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("CheckIdempotencyKey: %v, want %v", err, tt.want)
			}
		})
	}
}

func sha256Of(b []byte) []byte { h := sha256.Sum256(b); return h[:] }
