package worker

import (
	"bytes"
	"time"

	"github.com/emersion/go-smtp"
)

// The SMTP connection pool: a message goes out on an idle connection that
// still answers RSET (one round trip, where a new session costs five or six
// and a TLS handshake), else on a new one (dial, STARTTLS, AUTH). At most
// smtpPoolSize connections wait idle, none longer than smtpIdleFor (relays
// drop idle sessions after a minute or more), and each carries at most
// smtpPerConn messages (relays cap messages per session).
const (
	smtpPoolSize = 16
	smtpIdleFor  = 30 * time.Second
	smtpPerConn  = 100
)

type pooledConn struct {
	c    *smtp.Client
	used time.Time
	sent int
}

// deliver sends one message; a connection that failed is closed, never
// pooled.
func (s *SMTPSender) deliver(from, to string, msg []byte) error {
	pc, err := s.conn()
	if err != nil {
		return err
	}
	if err := pc.c.SendMail(from, []string{to}, bytes.NewReader(msg)); err != nil {
		pc.c.Close()
		return err
	}
	pc.sent++
	pc.used = time.Now()
	s.release(pc)
	return nil
}

// conn takes an idle connection that is fresh enough and answers RSET,
// else opens one.
func (s *SMTPSender) conn() (pooledConn, error) {
	for {
		select {
		case pc := <-s.idle:
			if time.Since(pc.used) > smtpIdleFor || pc.c.Reset() != nil {
				pc.c.Close()
				continue
			}
			return pc, nil
		default:
			c, err := s.open()
			return pooledConn{c: c}, err
		}
	}
}

// release pools a connection, or ends its session when it has carried
// its share or the pool is full.
func (s *SMTPSender) release(pc pooledConn) {
	if pc.sent < smtpPerConn {
		select {
		case s.idle <- pc:
			return
		default:
		}
	}
	if err := pc.c.Quit(); err != nil {
		pc.c.Close()
	}
}

// open dials and signs in.
func (s *SMTPSender) open() (*smtp.Client, error) {
	c, err := s.dial()
	if err != nil {
		return nil, err
	}
	if s.Auth != nil {
		if err := c.Auth(s.Auth); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Close ends the idle sessions (at shutdown).
func (s *SMTPSender) Close() {
	for {
		select {
		case pc := <-s.idle:
			if err := pc.c.Quit(); err != nil {
				pc.c.Close()
			}
		default:
			return
		}
	}
}
