package worker_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/worker"
)

// TestSMTPConnectionReused: messages share one signed-in session; after
// the relay hangs up an idle session, the next message opens a new one
// and is still delivered.
func TestSMTPConnectionReused(t *testing.T) {
	sink, addr := startSink(t)
	s, err := worker.NewSMTPSender("smtp://"+addr, "Startline <no-reply@startline.invalid>")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	send := func(i int) {
		t.Helper()
		m := lottery.Mail{To: fmt.Sprintf("runner%d@example.com", i), Subject: "Result", Body: "Your result.\n"}
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		<-sink.got
	}
	// The first message's dial opens a session or two (the STARTTLS try,
	// then plain to loopback); the next ones open none.
	send(0)
	first := sink.sessions()
	for i := 1; i < 5; i++ {
		send(i)
	}
	if n := sink.sessions(); n != first {
		t.Errorf("messages 2–5 opened %d more sessions, want 0", n-first)
	}
	sink.hangUp()
	send(5)
	if n := sink.sessions(); n != 2*first {
		t.Errorf("after the relay hung up: %d sessions, want %d (one new dial)", n, 2*first)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.msgs) != 6 || sink.msgs[5].To[0] != "runner5@example.com" {
		t.Errorf("delivered %d messages: %+v", len(sink.msgs), sink.msgs)
	}
}

// BenchmarkSMTPSend: one message to a loopback relay, on the pooled
// session (pooled) or a new session each (fresh, the sender before the
// pool). A real relay adds TLS and AUTH to every fresh session.
func BenchmarkSMTPSend(b *testing.B) {
	for _, mode := range []string{"pooled", "fresh"} {
		b.Run(mode, func(b *testing.B) {
			sink, addr := startSink(b)
			done := make(chan struct{})
			defer close(done)
			go func() {
				for {
					select {
					case <-sink.got:
					case <-done:
						return
					}
				}
			}()
			s, err := worker.NewSMTPSender("smtp://"+addr, "Startline <no-reply@startline.invalid>")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if mode == "fresh" {
				s.NoPool()
			}
			m := lottery.Mail{To: "runner@example.com", Subject: "Result", Body: "Your result.\n"}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Send(context.Background(), m); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
