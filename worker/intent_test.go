package worker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/worker"
)

// captureSender keeps what it is asked to send.
type captureSender struct {
	mu   sync.Mutex
	sent []lottery.Mail
}

func (c *captureSender) Send(_ context.Context, m lottery.Mail) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, m)
	return nil
}

// TestOfferIntentRenderedOnSend: an offer's mail is queued as an intent
// (no text) and the worker renders it from lottery/mails when it sends it:
// the event's name and time zone, and an absolute link under the public URL
// with the entry's receipt token. The dev outbox renders it the same way.
func TestOfferIntentRenderedOnSend(t *testing.T) {
	store, _ := pgtest.NewStore(t)
	ctx := context.Background()
	b := make([]byte, 4)
	rand.Read(b)
	queue := "test-intent-" + hex.EncodeToString(b)
	opt := redisOpt(t)
	t.Cleanup(func() {
		insp := asynq.NewInspector(opt)
		deleteQueues(insp, queue)
		insp.Close()
	})
	client := worker.NewClient(opt, queue)
	defer client.Close()
	clk := &testClock{t: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	drawnWithOffers(t, store, client, clk)
	if err := store.DB().Exec("UPDATE events SET time_zone = 'Asia/Seoul' WHERE slug = 'w'").Error; err != nil {
		t.Fatal(err)
	}
	var id int64
	var offerID, entryID, email string
	if err := store.DB().Raw(`SELECT m.id, m.offer_id::text, m.entry_id::text, m.to_addr FROM outbox m
		WHERE m.intent = 'offer.issued' ORDER BY m.id LIMIT 1`).Row().Scan(&id, &offerID, &entryID, &email); err != nil {
		t.Fatalf("no offer intent: %v", err)
	}
	keys, _ := lottery.NewKeys([]byte("worker-test-secret-key-worker-test-key"))
	renderer := lottery.NewMailRenderer(store, keys, "https://run.example/")
	sender := &captureSender{}
	mailer := &worker.Mailer{Store: store, Renderer: renderer, Sender: sender, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	// The dev outbox shows the rendered mail before it is sent.
	dev, err := lottery.RenderingOutbox{MailStore: store, Renderer: renderer}.OutboxFor(ctx, email, 10)
	if err != nil || len(dev) == 0 {
		t.Fatalf("dev outbox: %v %v", dev, err)
	}
	o, err := store.Offer(ctx, offerID)
	if err != nil {
		t.Fatal(err)
	}
	seoul, _ := time.LoadLocation("Asia/Seoul")
	wantSubject := "You have a place in W: accept by " + o.ExpiresAt.In(seoul).Format("2 Jan 15:04") + " KST"
	link := "https://run.example/entries/" + entryID + "?lang=en&token=" + keys.ReceiptToken(entryID)
	if dev[0].Subject != wantSubject || !strings.Contains(dev[0].Body, "before then. If you do nothing, the slot goes to "+
		"the next runner on the waitlist when the hold ends.\n"+link+"\n") || strings.Contains(dev[0].Body, "수락") ||
		!strings.Contains(dev[0].HTML, `<a href="`+strings.ReplaceAll(link, "&", "&amp;")+`">`) {
		t.Errorf("dev outbox mail %q\n%s", dev[0].Subject, dev[0].Body)
	}

	task, _ := worker.NewSendMailTask(id, queue)
	if err := mailer.HandleSendMail(ctx, task); err != nil {
		t.Fatal(err)
	}
	if len(sender.sent) != 1 {
		t.Fatalf("%d mails sent", len(sender.sent))
	}
	got := sender.sent[0]
	if got.To != email || got.Subject != wantSubject || got.Body != dev[0].Body || got.HTML != dev[0].HTML {
		t.Errorf("sent %q to %s:\n%s", got.Subject, got.To, got.Body)
	}
	if !strings.Contains(got.Body, o.ExpiresAt.In(seoul).Format("Mon 2 Jan 2006, 15:04")+" KST") {
		t.Errorf("hold end not in the event's zone:\n%s", got.Body)
	}
	if m, _ := store.Mail(ctx, id); m.SentAt == nil {
		t.Error("intent not marked sent")
	}

	// An intent whose offer does not exist can never render: it is
	// recorded as failed, not retried, and not swept again.
	var ghost int64
	if err := store.DB().Raw(`INSERT INTO outbox (to_addr, subject, body, kind, intent, offer_id)
		VALUES ('x@example.com', '', '', 'offer', 'offer.issued', gen_random_uuid()) RETURNING id`).Row().Scan(&ghost); err != nil {
		t.Fatal(err)
	}
	task, _ = worker.NewSendMailTask(ghost, queue)
	if err := mailer.HandleSendMail(ctx, task); err == nil || !strings.Contains(err.Error(), asynq.SkipRetry.Error()) {
		t.Errorf("ghost intent: %v, want SkipRetry", err)
	}
	if m, _ := store.Mail(ctx, ghost); m.Attempts != 10 || m.SentAt != nil || len(sender.sent) != 1 {
		t.Errorf("ghost intent after a try: %+v, %d sent", m, len(sender.sent))
	}
	if unsent, _ := store.UnsentMail(ctx, time.Now().Add(time.Hour), 0, 100); slices.Contains(unsent, ghost) {
		t.Error("the sweep would retry an intent that can never render")
	}
}

// TestErasedAddressAbandoned: mail to an erased entry's address (the
// reserved .invalid domain anonymizing gives it) is never sent nor
// retried; it is recorded as abandoned.
func TestErasedAddressAbandoned(t *testing.T) {
	store, _ := pgtest.NewStore(t)
	ctx := context.Background()
	id, err := store.QueueMail(ctx, lottery.Mail{To: "erased-1@erased.invalid", Subject: "s", Body: "b", Kind: "entry"})
	if err != nil {
		t.Fatal(err)
	}
	sender := &captureSender{}
	mailer := &worker.Mailer{Store: store, Sender: sender, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	task, err := worker.NewSendMailTask(id, "q")
	if err != nil {
		t.Fatal(err)
	}
	if err := mailer.HandleSendMail(ctx, task); err == nil || !strings.Contains(err.Error(), asynq.SkipRetry.Error()) {
		t.Errorf("send to an erased address: %v, want a skip-retry error", err)
	}
	if len(sender.sent) != 0 {
		t.Errorf("sent %d mails to an erased address", len(sender.sent))
	}
	unsent, err := store.UnsentMail(ctx, time.Now().Add(time.Hour), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(unsent) != 0 {
		t.Errorf("the abandoned mail is still due: %+v", unsent)
	}
}
