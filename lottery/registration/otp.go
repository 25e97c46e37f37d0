package registration

import (
	"context"
	"encoding/base32"
	"fmt"
	"io"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/internal/textin"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

// RequestOTP e-mails a fresh 6-digit code for applying to an event. It
// answers the same whether or not the address is known, so it cannot be used
// to find out who applied.
func (s *Service) RequestOTP(ctx context.Context, slug, email string, lang string, client lottery.ClientInfo) error {
	return s.requestOTP(ctx, slug, email, lang, client, false)
}

// WithholdOTP answers a code request exactly as RequestOTP does (the same
// checks, the same errors) but mails nothing: the address had its share of
// codes from anyone (the inbox cap) and this requester is not known to read
// it. The request is recorded as refused with the reason "inbox_cap".
func (s *Service) WithholdOTP(ctx context.Context, slug, email string, client lottery.ClientInfo) error {
	return s.requestOTP(ctx, slug, email, "", client, true)
}

func (s *Service) requestOTP(ctx context.Context, slug, email string, lang string, client lottery.ClientInfo, withhold bool) error {
	ev, err := s.events.PublicEvent(ctx, slug)
	if err != nil {
		return err
	}
	if err := ev.CheckOpen(s.clock.Now()); err != nil {
		return err
	}
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return lottery.Fieldf("email", "give a valid e-mail address")
	}
	now := s.clock.Now()
	a := ev.Scorer(s.scorer).AssessOTP(antibot.OTPInput{UserAgent: client.UserAgent,
		DisposableMail: s.cfg.Disposable.IsDisposable(addr.Domain), Network: s.events.Network(client.IP)})
	if withhold {
		a.Reasons = append(a.Reasons, antibot.Reason{Code: "inbox_cap",
			Detail: "the address had its share of codes; this requester has not applied with one before"})
		a.Decision = antibot.Reject
	}
	rec := OTPRecord{EventID: ev.ID, EmailKey: addr.Key, RequestedAt: now, Risk: a, ClientIP: client.IP,
		UserAgent: textin.Cut(client.UserAgent, 512)}
	if a.Decision == antibot.Reject {
		// Same answer as a sent code: nothing is revealed, nothing is
		// mailed; the stored assessment explains the refusal later.
		s.log.InfoContext(ctx, "otp request refused", "event", slug, "score", a.Score, "reasons", lottery.ReasonCodes(a),
			"rules", a.RulesVersion)
		if err := s.store.RefuseOTP(ctx, rec); err != nil {
			return fmt.Errorf("request otp %s: %w", slug, err)
		}
		return nil
	}
	if err := s.sendOTP(ctx, ev, addr, lang, rec, now); err != nil {
		return fmt.Errorf("request otp %s: %w", slug, err)
	}
	return nil
}

// sendOTP draws a code, stores its hash on rec with the code mail, and
// hands the mail to the outbox notifier: the one way a code is sent, for
// applying and for taking a transferred place.
func (s *Service) sendOTP(ctx context.Context, ev lottery.Event, addr identity.Email, lang string, rec OTPRecord, now time.Time) error {
	code, err := s.newOTPCode()
	if err != nil {
		return err
	}
	m, err := otpMail(ev, addr.Address, code, lang)
	if err != nil {
		return err
	}
	rec.CodeHash, rec.ExpiresAt = s.keys.OTPHash(ev.ID, addr.Key, code), now.Add(lottery.OTPValidity)
	id, err := s.store.SaveOTP(ctx, rec, m)
	if err != nil {
		return err
	}
	s.notifyMails(ctx, []int64{id})
	return nil
}

// newOTPCode draws a code with pquerna/otp's HOTP over a fresh random secret:
// a uniformly random 6-digit code with the library's standard truncation.
func (s *Service) newOTPCode() (string, error) {
	secret := make([]byte, 20)
	if _, err := io.ReadFull(s.random, secret); err != nil {
		return "", err
	}
	return hotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), 0,
		hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// otpMail renders the code mail at write time: the plain code exists only
// here and in the mail, never as an intent to render later.
func otpMail(ev lottery.Event, to, code, lang string) (lottery.Mail, error) {
	m, err := mails.Render(mails.OTPCode, lang, mails.OTPData{Event: ev.Name, Code: code})
	if err != nil {
		return lottery.Mail{}, err
	}
	return lottery.Mail{To: to, Subject: m.Subject, Body: m.Body, HTML: m.HTML, Kind: "otp", Intent: mails.OTPCode}, nil
}
