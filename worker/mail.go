package worker

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/hibiken/asynq"

	"github.com/startline/startline/lottery"
)

// SweepAfter is how old unsent mail is before the outbox sweep enqueues it.
const SweepAfter = 10 * time.Second

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, m lottery.Mail) error
}

// SMTPSender delivers mail over SMTP. smtp:// requires STARTTLS except to a
// loopback host (a local relay or a test server); smtps:// is implicit TLS.
type SMTPSender struct {
	Addr      string
	From      string
	Auth      sasl.Client
	implicit  bool
	plainOK   bool
	tlsConfig *tls.Config
	// idle keeps open, signed-in connections between messages (smtppool.go):
	// a results day sends hundreds of thousands of mails, and a fresh
	// connection per message pays TCP, TLS and AUTH every time.
	idle chan pooledConn
}

// NewSMTPSender reads SMTP_URL: smtp://user:pass@host:port or smtps://...
func NewSMTPSender(rawURL, from string) (*SMTPSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("SMTP_URL: want smtp://user:pass@host:port or smtps://user:pass@host:port")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"smtp": "587", "smtps": "465"}[u.Scheme]
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	s := &SMTPSender{Addr: net.JoinHostPort(host, port), From: from, implicit: u.Scheme == "smtps",
		plainOK: host == "localhost" || (ip != nil && ip.IsLoopback()), tlsConfig: &tls.Config{ServerName: host},
		idle: make(chan pooledConn, smtpPoolSize)}
	if u.User != nil {
		pass, _ := u.User.Password()
		s.Auth = sasl.NewPlainClient("", u.User.Username(), pass)
	}
	return s, nil
}

func (s *SMTPSender) dial() (*smtp.Client, error) {
	if s.implicit {
		return smtp.DialTLS(s.Addr, s.tlsConfig)
	}
	c, err := smtp.DialStartTLS(s.Addr, s.tlsConfig)
	if err != nil && s.plainOK {
		// A loopback relay or test server without TLS.
		return smtp.Dial(s.Addr)
	}
	return c, err
}

// Send delivers m: multipart/alternative with the text and the HTML made
// from it (lottery/mails), or the text alone for a mail without HTML. Both
// parts are quoted-printable, so no line is longer than SMTP allows.
func (s *SMTPSender) Send(ctx context.Context, m lottery.Mail) error {
	msg, err := buildMessage(s.From, m, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("smtp send: %w", err)
	}
	from := s.From
	if a, err := mail.ParseAddress(s.From); err == nil {
		from = a.Address
	}
	done := make(chan error, 1)
	go func() { done <- s.deliver(from, m.To, msg) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("smtp send: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Mailer delivers outbox messages. With no Sender (dev mode without
// SMTP_URL) messages stay in the outbox, readable at /dev/outbox. Intents
// (an offer's mail: kind + ids) are rendered by Renderer from lottery/mails
// just before they are sent.
type Mailer struct {
	Store    lottery.MailStore
	Renderer *lottery.MailRenderer
	Sender   Sender
	Client   *Client
	Redact   bool // drop delivered bodies (they may hold codes); off in dev
	Log      *slog.Logger
	// OnSendFailure hears each delivery the Sender refused (the metrics
	// count them); nil: nobody.
	OnSendFailure func()
}

// HandleSendMail delivers one outbox message; delivering twice is prevented
// by the sent_at check.
func (m *Mailer) HandleSendMail(ctx context.Context, t *asynq.Task) error {
	var p SendMailPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.OutboxID <= 0 {
		return fmt.Errorf("mail payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	if m.Sender == nil {
		return nil
	}
	msg, err := m.Store.Mail(ctx, p.OutboxID)
	if errors.Is(err, lottery.ErrNotFound) {
		return fmt.Errorf("mail %d: %w", p.OutboxID, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	if msg.SentAt != nil {
		return nil
	}
	if undeliverable(msg.To) {
		// An erased entry's address (…@erased.invalid, RFC 2606): nobody
		// can receive it, so it is abandoned rather than tried ten times.
		if ferr := m.Store.AbandonMail(ctx, msg.ID, "address erased"); ferr != nil {
			m.Log.ErrorContext(ctx, "record mail failure", "outbox_id", msg.ID, "err", ferr)
		}
		return fmt.Errorf("mail %d to an erased address: %w", msg.ID, asynq.SkipRetry)
	}
	if msg.Pending() {
		if m.Renderer == nil {
			return fmt.Errorf("mail %d is a %s intent and the mailer has no renderer", msg.ID, msg.Intent)
		}
		rendered, err := m.Renderer.Render(ctx, msg)
		if errors.Is(err, lottery.ErrUnrenderable) {
			// Never retried: an erased entry's intents would otherwise
			// crowd the sweep.
			if ferr := m.Store.AbandonMail(ctx, msg.ID, err.Error()); ferr != nil {
				m.Log.ErrorContext(ctx, "record mail failure", "outbox_id", msg.ID, "err", ferr)
			}
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		if err != nil {
			return err
		}
		msg = rendered
	}
	if err := m.Sender.Send(ctx, msg); err != nil {
		if m.OnSendFailure != nil {
			m.OnSendFailure()
		}
		if ferr := m.Store.MarkMailFailed(ctx, msg.ID, err.Error()); ferr != nil {
			m.Log.ErrorContext(ctx, "record mail failure", "outbox_id", msg.ID, "err", ferr)
		}
		return fmt.Errorf("deliver mail %d: %w", msg.ID, err)
	}
	if err := m.Store.MarkMailSent(ctx, msg.ID, time.Now().UTC(), m.Redact); err != nil {
		return err
	}
	m.Log.InfoContext(ctx, "mail delivered", "outbox_id", msg.ID, "kind", msg.Kind, "intent", msg.Intent)
	return nil
}

// HandleSweepOutbox enqueues mail that was never sent and is older than a
// few seconds: mail whose delivery task was lost, and the intents a change
// queued without enqueueing them (reviews, payments, the draw's waitlist).
// Enqueueing is idempotent by task id, so a mail whose task is still
// pending is not doubled. It pages through the backlog by id until it is
// through, sweepBudget has passed or sweepMax are enqueued: a draw's
// hundreds of thousands of result mails go out at the senders' pace, not
// one page per sweep.
func (m *Mailer) HandleSweepOutbox(ctx context.Context, _ *asynq.Task) error {
	if m.Sender == nil {
		return nil
	}
	start := time.Now()
	before := start.Add(-SweepAfter)
	var after int64
	n := 0
	for n < sweepMax && time.Since(start) < sweepBudget {
		ids, err := m.Store.UnsentMail(ctx, before, after, sweepPage)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := m.Client.MailQueued(ctx, id); err != nil {
				return err
			}
		}
		n += len(ids)
		if len(ids) < sweepPage {
			break
		}
		after = ids[len(ids)-1]
	}
	if n > 0 {
		m.Log.InfoContext(ctx, "outbox sweep enqueued mail", "count", n, "ms", time.Since(start).Milliseconds())
	}
	return nil
}

// The sweep's pages: within the 15 s between sweeps (server.go) and its
// 14 s uniqueness, and at most sweepMax tasks waiting in Redis from one
// pass (a few hundred bytes each).
const (
	sweepPage   = 2000
	sweepBudget = 10 * time.Second
	sweepMax    = 100_000
)

// buildMessage writes m as an RFC 5322 message with CRLF line ends.
func buildMessage(from string, m lottery.Mail, now time.Time) ([]byte, error) {
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\n",
		from, m.To, mime.QEncoding.Encode("utf-8", m.Subject), now.Format(time.RFC1123Z))
	if m.HTML == "" {
		msg.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		if err := writeQP(&msg, m.Body); err != nil {
			return nil, err
		}
		return msg.Bytes(), nil
	}
	w := multipart.NewWriter(&msg)
	fmt.Fprintf(&msg, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", w.Boundary())
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Body}, {"text/html", m.HTML}} {
		pw, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		if err := writeQP(pw, part.body); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return msg.Bytes(), nil
}

func writeQP(w io.Writer, body string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
		return err
	}
	return qp.Close()
}

// undeliverable reports an address in the reserved .invalid domain, which
// anonymizing an entry gives it.
func undeliverable(to string) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimSpace(to)), ".invalid")
}
