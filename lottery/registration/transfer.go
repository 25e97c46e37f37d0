package registration

import (
	"context"
	"fmt"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/internal/textin"
	"github.com/startline/startline/lottery"
)

// TransferOTP e-mails a transfer's recipient a code for the event, as
// RequestOTP does for an application (the same scoring of the request, the
// same code, store and mail), without the registration window: a
// transfer happens after the draw. The caller has checked the transfer's
// link; email is the address the giver named.
func (s *Service) TransferOTP(ctx context.Context, ev lottery.Event, email, lang string, client lottery.ClientInfo) error {
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return lottery.Fieldf("email", "give a valid e-mail address")
	}
	now := s.clock.Now()
	a := ev.Scorer(s.scorer).AssessOTP(antibot.OTPInput{UserAgent: client.UserAgent,
		DisposableMail: s.cfg.Disposable.IsDisposable(addr.Domain), Network: s.events.Network(client.IP)})
	rec := OTPRecord{EventID: ev.ID, EmailKey: addr.Key, RequestedAt: now, Risk: a, ClientIP: client.IP,
		UserAgent: textin.Cut(client.UserAgent, 512)}
	if a.Decision == antibot.Reject {
		return s.store.RefuseOTP(ctx, rec)
	}
	if err := s.sendOTP(ctx, ev, addr, lang, rec, now); err != nil {
		return fmt.Errorf("transfer otp %s: %w", ev.Slug, err)
	}
	return nil
}

// TransferEntry builds a transfer recipient's entry from their form, as
// Apply does (the same fields, questions, documents and scoring), in the
// giver's sub-queue (req.Course, req.PaceGroup), with the hash of the code
// they give for the store to check. Its status is TransferRecipientStatus
// of the scoring: offered (they may pay), in review (the transfer waits
// for a reviewer, the reason ReasonTransferRecipient added), or refused.
func (s *Service) TransferEntry(ctx context.Context, ev lottery.Event, req ApplyRequest, client lottery.ClientInfo) (lottery.Entry, []byte, error) {
	req.GroupCode, req.PreviousApplications, req.ClaimNote = "", nil, ""
	now := s.clock.Now()
	e, err := s.validate(&ev, req, now)
	if err != nil {
		return lottery.Entry{}, nil, err
	}
	if err := s.countTickets(ctx, &ev, req, &e); err != nil {
		return lottery.Entry{}, nil, err
	}
	e.Risk = s.assess(&ev, req, client, e)
	st, err := TransferRecipientStatus(e.Risk.Decision)
	if err != nil {
		s.log.InfoContext(ctx, "transfer recipient refused by scoring", "event", ev.Slug, "score", e.Risk.Score,
			"reasons", lottery.ReasonCodes(e.Risk))
		return lottery.Entry{}, nil, err
	}
	if st == lottery.EntryInReview {
		e.Risk.Reasons = append(e.Risk.Reasons, antibot.Reason{Code: lottery.ReasonTransferRecipient})
	}
	e.Status = st
	e.ClientIP, e.DeviceID, e.UserAgent = client.IP, client.DeviceID, textin.Cut(client.UserAgent, 512)
	return e, s.keys.OTPHash(ev.ID, e.EmailKey, req.OTP), nil
}

// TransferRecipientStatus is the rule for a transfer recipient's scored
// form: accepted, their entry is offered (they pay next); a review score
// holds the transfer for a reviewer (in_review); a reject score refuses it
// (forbidden: the giver keeps the place and may name someone else).
func TransferRecipientStatus(d antibot.Decision) (lottery.EntryStatus, error) {
	switch d {
	case antibot.Accept:
		return lottery.EntryOffered, nil
	case antibot.Review:
		return lottery.EntryInReview, nil
	}
	return "", &lottery.Error{Code: lottery.CodeForbidden, Message: "this transfer cannot be accepted automatically; contact the organizer"}
}
