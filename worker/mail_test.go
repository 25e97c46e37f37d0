package worker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/worker"
)

// smtpSink is a real SMTP server on loopback that keeps what it receives.
type smtpSink struct {
	mu    sync.Mutex
	msgs  []received
	got   chan struct{}
	conns []*smtp.Conn // every session the sink opened, in order
}

type received struct {
	From string
	To   []string
	Data string
}

func (s *smtpSink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	return &sinkSession{sink: s}, nil
}

// sessions counts the connections opened to the sink.
func (s *smtpSink) sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// hangUp closes every open session from the server's side, as a relay
// does with idle ones.
func (s *smtpSink) hangUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

type sinkSession struct {
	sink *smtpSink
	cur  received
}

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error { s.cur.From = from; return nil }
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = string(b)
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, s.cur)
	s.sink.mu.Unlock()
	s.sink.got <- struct{}{}
	return nil
}
func (s *sinkSession) Reset()        { s.cur = received{} }
func (s *sinkSession) Logout() error { return nil }

func startSink(t testing.TB) (*smtpSink, string) {
	t.Helper()
	sink := &smtpSink{got: make(chan struct{}, 10)}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sink, ln.Addr().String()
}

func redisOpt(t *testing.T) asynq.RedisClientOpt {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return asynq.RedisClientOpt{Addr: o.Addr, Password: o.Password, DB: o.DB}
}

// queueOTP stores an event and a code, queuing its mail, and returns the outbox id.
func queueOTP(t *testing.T, store *postgres.Store, to string) int64 {
	t.Helper()
	ctx := context.Background()
	ev, err := store.CreateEvent(ctx, lottery.Event{Slug: "mail-test", Name: "Mail Test", TimeZone: "UTC",
		OpensAt: time.Now(), ClosesAt: time.Now().Add(time.Hour), Status: lottery.EventDraft, OfferHold: time.Hour,
		MaxGroupSize: 1, TicketRule: "none", UnreviewedPolicy: lottery.PolicyBlock, Courses: []lottery.Course{{Code: "5k", Name: "5K", DistanceKM: 5,
			PaceGroups: []lottery.PaceGroup{{Code: "open", Label: "Open", Capacity: 1, Mode: lottery.ModeLottery}}}}},
		lottery.Actor{Label: "system"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := store.SaveOTP(ctx, registration.OTPRecord{EventID: ev.ID, EmailKey: to, CodeHash: []byte{1},
		ExpiresAt: time.Now().Add(time.Minute)}, lottery.Mail{To: to, Subject: "Your code: 123456 / 인증 코드",
		Body: "Your code is 123456.\n", Kind: "otp"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestMailThroughAsynqAndSMTP sends an outbox message through the real
// path: Asynq on Redis, the worker's handler, SMTP to a loopback server.
func TestMailThroughAsynqAndSMTP(t *testing.T) {
	store, _ := pgtest.NewStore(t)
	sink, addr := startSink(t)
	sender, err := worker.NewSMTPSender("smtp://"+addr, "Startline <no-reply@startline.test>")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	queue := "test-mail-" + hex.EncodeToString(b)
	opt := redisOpt(t)
	t.Cleanup(func() {
		insp := asynq.NewInspector(opt)
		deleteQueues(insp, queue)
		insp.Close()
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	client := worker.NewClient(opt, queue)
	defer client.Close()
	mailer := &worker.Mailer{Store: store, Sender: sender, Client: client, Redact: true, Log: log}
	srv, err := worker.NewServer(worker.Options{Redis: opt, Queue: queue, Log: log, Mailer: mailer, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()

	id := queueOTP(t, store, "runner@example.com")
	if err := client.MailQueued(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if err := client.MailQueued(context.Background(), id); err != nil { // idempotent enqueue
		t.Fatal(err)
	}
	select {
	case <-sink.got:
	case <-time.After(20 * time.Second):
		t.Fatal("no mail reached the SMTP server")
	}
	sink.mu.Lock()
	m := sink.msgs[0]
	sink.mu.Unlock()
	if m.From != "no-reply@startline.test" || len(m.To) != 1 || m.To[0] != "runner@example.com" {
		t.Errorf("envelope: %+v", m)
	}
	if !strings.Contains(m.Data, "Your code is 123456.") || !strings.Contains(m.Data, "Subject: =?utf-8?") {
		t.Errorf("message: %q", m.Data)
	}
	// Delivery is recorded and the body (it held a code) is redacted.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := store.Mail(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got.SentAt != nil {
			if strings.Contains(got.Body, "123456") {
				t.Errorf("delivered body kept: %q", got.Body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("mail not marked sent")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Handling the task again sends nothing twice.
	task, _ := worker.NewSendMailTask(id, queue)
	if err := mailer.HandleSendMail(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sink.got:
		t.Error("mail sent twice")
	case <-time.After(300 * time.Millisecond):
	}
}

func TestMailFailureIsRetriedAndSwept(t *testing.T) {
	store, _ := pgtest.NewStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Nothing listens on this port: delivery fails and is recorded.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	sender, _ := worker.NewSMTPSender("smtp://"+dead, "no-reply@startline.test")
	failures := 0
	mailer := &worker.Mailer{Store: store, Sender: sender, Log: log, OnSendFailure: func() { failures++ }}
	id := queueOTP(t, store, "runner@example.com")
	task, _ := worker.NewSendMailTask(id, "q")
	if err := mailer.HandleSendMail(context.Background(), task); err == nil {
		t.Fatal("delivery to a closed port succeeded")
	}
	// The metrics hear the failure, and the backlog gauge counts the mail.
	if failures != 1 {
		t.Errorf("OnSendFailure heard %d failures, want 1", failures)
	}
	if c, err := store.OpsCounts(context.Background()); err != nil || c.OutboxUnsent != 1 {
		t.Errorf("OpsCounts: %+v %v, want 1 unsent", c, err)
	}
	got, _ := store.Mail(context.Background(), id)
	if got.SentAt != nil || got.Attempts != 1 {
		t.Errorf("after failure: sent=%v attempts=%d", got.SentAt, got.Attempts)
	}
	unsent, err := store.UnsentMail(context.Background(), time.Now().Add(time.Minute), 0, 10)
	if err != nil || len(unsent) != 1 || unsent[0] != id {
		t.Errorf("sweeper would not find the unsent mail: %v %v", unsent, err)
	}
	bad := asynq.NewTask(worker.TypeSendMail, []byte("{"))
	if err := mailer.HandleSendMail(context.Background(), bad); err == nil || !strings.Contains(err.Error(), asynq.SkipRetry.Error()) {
		t.Errorf("bad payload: %v, want SkipRetry", err)
	}
}

// TestSMTPMultipart: a mail with an HTML part goes out as
// multipart/alternative, text first, both quoted-printable, and decodes to
// exactly what was rendered (Korean and long lines included).
func TestSMTPMultipart(t *testing.T) {
	sink, addr := startSink(t)
	sender, err := worker.NewSMTPSender("smtp://"+addr, "Startline <no-reply@startline.test>")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mails.Render(mails.OfferIssued, "ko", mails.EntryData{Event: "한강 10K", Name: "김민지", SubQueue: "10 km · Open",
		Link: "https://run.example/entries/e1?token=" + strings.Repeat("t", 120), Amount: "₩50,000",
		ExpiresAt: time.Date(2027, 3, 3, 15, 30, 0, 0, time.FixedZone("KST", 9*3600))})
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Send(context.Background(), lottery.Mail{To: "runner@example.com", Subject: m.Subject, Body: m.Body, HTML: m.HTML}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sink.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no mail")
	}
	sink.mu.Lock()
	data := sink.msgs[0].Data
	sink.mu.Unlock()
	for _, line := range strings.Split(data, "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line of %d bytes", len(line))
		}
	}
	msg, err := netmail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("subject %q (%v), want %q", subject, err, m.Subject)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q %v", mt, err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var types, bodies []string
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		types = append(types, p.Header.Get("Content-Type"))
		bodies = append(bodies, strings.ReplaceAll(string(b), "\r\n", "\n"))
	}
	if len(types) != 2 || types[0] != "text/plain; charset=utf-8" || types[1] != "text/html; charset=utf-8" {
		t.Fatalf("parts %v", types)
	}
	if bodies[0] != m.Body || bodies[1] != m.HTML {
		t.Errorf("parts do not decode to the rendered mail:\n%q\n%q", bodies[0], m.Body)
	}
}
