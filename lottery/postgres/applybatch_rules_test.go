package postgres

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/registration"
)

func TestBatchable(t *testing.T) {
	tests := []struct {
		name string
		a    registration.ApplyTx
		want bool
	}{
		{"plain", registration.ApplyTx{}, true},
		{"idempotency key", registration.ApplyTx{IdempotencyKey: "k"}, true},
		{"group code", registration.ApplyTx{Entry: lottery.Entry{GroupCode: "crew"}}, false},
		{"card on file", registration.ApplyTx{Card: &lottery.SavedCard{}}, false},
		{"admission", registration.ApplyTx{Admission: &registration.AdmissionUse{TicketID: "t"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := batchable(tt.a); got != tt.want {
				t.Errorf("batchable = %t, want %t", got, tt.want)
			}
		})
	}
}

// call is an application for assemble's tests: event 1 unless ev is set.
func call(name, email, phone, person, idem string) *applyCall {
	return &applyCall{a: registration.ApplyTx{Entry: lottery.Entry{Name: name, EventID: 1, EmailKey: email, Phone: phone,
		PersonKey: person}, IdempotencyKey: idem}}
}

func TestAssemble(t *testing.T) {
	other := call("other-event", "a@x", "+1", "pa", "")
	other.a.Entry.EventID = 2
	tests := []struct {
		name      string
		queue     []*applyCall
		max       int
		wantBatch []string
		wantRest  []string
	}{
		{"empty", nil, 8, nil, nil},
		{"all distinct", []*applyCall{call("a", "a@x", "+1", "pa", ""), call("b", "b@x", "+2", "pb", "")}, 8,
			[]string{"a", "b"}, nil},
		{"max reached keeps order", []*applyCall{call("a", "a@x", "+1", "pa", ""), call("b", "b@x", "+2", "pb", ""),
			call("c", "c@x", "+3", "pc", "")}, 2, []string{"a", "b"}, []string{"c"}},
		{"same e-mail waits", []*applyCall{call("a", "a@x", "+1", "pa", ""), call("a2", "a@x", "+9", "p9", ""),
			call("b", "b@x", "+2", "pb", "")}, 8, []string{"a", "b"}, []string{"a2"}},
		{"same phone waits", []*applyCall{call("a", "a@x", "+1", "pa", ""), call("c", "c@x", "+1", "pc", "")}, 8,
			[]string{"a"}, []string{"c"}},
		{"same person waits", []*applyCall{call("a", "a@x", "+1", "pa", ""), call("c", "c@x", "+3", "pa", "")}, 8,
			[]string{"a"}, []string{"c"}},
		{"empty person keys never clash", []*applyCall{call("a", "a@x", "+1", "", ""), call("b", "b@x", "+2", "", "")}, 8,
			[]string{"a", "b"}, nil},
		{"same idempotency key waits", []*applyCall{call("a", "a@x", "+1", "pa", "k"), call("b", "b@x", "+2", "pb", "k")}, 8,
			[]string{"a"}, []string{"b"}},
		{"another event never clashes", []*applyCall{call("a", "a@x", "+1", "pa", ""), other}, 8,
			[]string{"a", "other-event"}, nil},
		{"rest after max keeps skipped first", []*applyCall{call("a", "a@x", "+1", "pa", ""), call("a2", "a@x", "+8", "p8", ""),
			call("b", "b@x", "+2", "pb", ""), call("c", "c@x", "+3", "pc", "")}, 2, []string{"a", "b"}, []string{"a2", "c"}},
	}
	names := func(cs []*applyCall) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.a.Entry.Name)
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch, rest := assemble(tt.queue, tt.max)
			if diff := cmp.Diff(tt.wantBatch, names(batch)); diff != "" {
				t.Errorf("batch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRest, names(rest)); diff != "" {
				t.Errorf("rest (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBatchOutcome(t *testing.T) {
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	live := now.Add(time.Hour)
	a := registration.ApplyTx{Entry: lottery.Entry{ID: "e1", Status: lottery.EntryReceived, SubQueue: "ten:a"},
		MaxOTPAttempts: 5, Now: now, RequestHash: []byte("h")}
	tests := []struct {
		name     string
		r        batchResult
		want     registration.ApplyOutcome
		wantErr  error // compared by code and message
		wantNext followUp
	}{
		{"replay", batchResult{Replayed: true, PrevHash: []byte("h"), PrevEntry: "e0", PrevStatus: "received", PrevSubQ: "ten:a"},
			registration.ApplyOutcome{EntryID: "e0", Status: lottery.EntryReceived, SubQueue: "ten:a", Replayed: true}, nil, answered},
		{"replay of another body", batchResult{Replayed: true, PrevHash: []byte("other"), PrevEntry: "e0"},
			registration.ApplyOutcome{}, lottery.ErrIdempotencyMismatch, answered},
		{"no code", batchResult{}, registration.ApplyOutcome{}, lottery.ErrNoCode, answered},
		{"inserted", batchResult{Found: true, Match: true, ExpiresAt: live, Consumes: true, Inserted: true,
			MailID: sql.NullInt64{Int64: 7, Valid: true}},
			registration.ApplyOutcome{EntryID: "e1", Status: lottery.EntryReceived, SubQueue: "ten:a", Mails: []int64{7}}, nil, answered},
		{"consumed, not inserted", batchResult{Found: true, Match: true, ExpiresAt: live, Consumes: true},
			registration.ApplyOutcome{}, nil, explainRefusal},
		{"right code used elsewhere", batchResult{Found: true, Match: true, Used: true, Attempts: 1, ExpiresAt: live},
			registration.ApplyOutcome{}, nil, explainUsed},
		{"right code at the cap", batchResult{Found: true, Match: true, Attempts: 5, ExpiresAt: live},
			registration.ApplyOutcome{}, nil, explainUsed},
		{"wrong code", batchResult{Found: true, Attempts: 1, ExpiresAt: live},
			registration.ApplyOutcome{}, &lottery.Error{Code: lottery.CodeInvalidOTP, Message: "the code is wrong"}, answered},
		{"expired", batchResult{Found: true, Match: true, ExpiresAt: now},
			registration.ApplyOutcome{}, &lottery.Error{Code: lottery.CodeInvalidOTP, Message: "the code has expired; request a new one"}, answered},
		{"too many", batchResult{Found: true, Attempts: 6, ExpiresAt: live},
			registration.ApplyOutcome{}, &lottery.Error{Code: lottery.CodeInvalidOTP, Message: "too many attempts; request a new code"}, answered},
		{"statement disagrees with the rule", batchResult{Found: true, Match: false, ExpiresAt: live, Consumes: true},
			registration.ApplyOutcome{}, errors.New("check otp: the statement and lottery.CodeConsumes disagree (consumed true)"), answered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := batchOutcome(a, tt.r)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if next != tt.wantNext {
				t.Errorf("follow-up %d, want %d", next, tt.wantNext)
			}
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
			case *lottery.Error:
				var e *lottery.Error
				if !errors.As(err, &e) || e.Code != want.Code || e.Message != want.Message {
					t.Errorf("error %v, want %s %q", err, want.Code, want.Message)
				}
			default:
				if err == nil || err.Error() != want.Error() {
					t.Errorf("error %v, want %v", err, want)
				}
			}
		})
	}
}

// TestToBatchRowReceipt: the batch owes the mail applyTx queues.
func TestToBatchRowReceipt(t *testing.T) {
	for _, tt := range []struct {
		status           lottery.EntryStatus
		kind, wantDetail string
	}{
		{lottery.EntryReceived, "entry.received", "received"},
		{lottery.EntryInReview, "entry.received", "in_review"},
		{lottery.EntryRejected, "entry.rejected", ""},
	} {
		r := toBatchRow(0, registration.ApplyTx{Entry: lottery.Entry{Status: tt.status}, OTPHash: []byte{0xab}})
		if r.MailKind != tt.kind || r.MailDetail != tt.wantDetail || r.OTPHash != `\xab` {
			t.Errorf("%s: mail %q %q hash %q, want %q %q", tt.status, r.MailKind, r.MailDetail, r.OTPHash, tt.kind, tt.wantDetail)
		}
	}
}
