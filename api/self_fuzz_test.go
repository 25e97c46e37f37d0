package api

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/startline/startline/lottery"
)

// The self-service bodies go through the one JSON edge like every other.

func FuzzMeJSON(f *testing.F) {
	f.Add([]byte(`{"email":"a@example.com","otp":"123456"}`))
	f.Fuzz(func(t *testing.T, body []byte) { fuzzJSON[meEntriesBody](t, body) })
}

// FuzzAppealJSON goes on through the message rule: what it keeps is
// visible text of at most lottery.MaxAppealRunes characters, else a field
// error on message.
func FuzzAppealJSON(f *testing.F) {
	f.Add([]byte(`{"token":"t","message":"I am one person."}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, ok := fuzzJSON[appealBody](t, body)
		if !ok {
			return
		}
		msg, err := lottery.AppealMessage(b.Message)
		if err != nil {
			var e *lottery.Error
			if lottery.CodeOf(err) != lottery.CodeInvalidField || !errors.As(err, &e) || e.Field != "message" {
				t.Fatalf("message %q: %v", b.Message, err)
			}
			return
		}
		if !utf8.ValidString(msg) || utf8.RuneCountInString(msg) > lottery.MaxAppealRunes || msg == "" {
			t.Fatalf("kept %q", msg)
		}
	})
}
