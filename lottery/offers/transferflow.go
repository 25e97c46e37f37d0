package offers

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/registration"
)

// TransferApplicant is the registration a transfer's recipient goes
// through (lottery/registration.Service): the code mail and the entry form
// with its scoring.
type TransferApplicant interface {
	TransferOTP(ctx context.Context, ev lottery.Event, email, lang string, client lottery.ClientInfo) error
	TransferEntry(ctx context.Context, ev lottery.Event, req registration.ApplyRequest, client lottery.ClientInfo) (lottery.Entry, []byte, error)
}

// UseTransfers enables face-value transfers: the recipient registers
// through reg; links in mails are under publicURL (empty: site-relative).
func (s *Service) UseTransfers(reg TransferApplicant, publicURL string) {
	s.applicant, s.publicURL = reg, strings.TrimRight(publicURL, "/")
}

// TransferLink is the recipient's page for a transfer token.
func (s *Service) TransferLink(token, lang string) string {
	link := s.publicURL + "/transfers/" + url.PathEscape(token)
	if lang == "ko" {
		link += "?lang=ko"
	}
	return link
}

func (s *Service) transferMail(ctx context.Context, t Transfer, token, lang string) (lottery.Mail, error) {
	ev, err := s.events.CachedEvent(ctx, t.EventSlug)
	if err != nil {
		return lottery.Mail{}, err
	}
	m, err := mails.Render(mails.TransferOffered, lang, mails.TransferOfferData{Event: ev.Name, SubQueue: ev.SubQueueName(t.SubQueue),
		Amount: lottery.Money{Amount: t.PriceMinor, Currency: t.Currency}.String(), Link: s.TransferLink(token, lang),
		ExpiresAt: t.ExpiresAt.In(ev.Location())})
	if err != nil {
		return lottery.Mail{}, err
	}
	return lottery.Mail{To: t.ToEmail, Subject: m.Subject, Body: m.Body, HTML: m.HTML, Kind: "transfer", Intent: mails.TransferOffered}, nil
}

func (s *Service) mailQueued(ctx context.Context, ids ...int64) {
	if s.notify == nil {
		return
	}
	for _, id := range ids {
		if err := s.notify.MailQueued(ctx, id); err != nil {
			s.log.WarnContext(ctx, "mail enqueue failed; the outbox sweeper will send it", "outbox_id", id, "err", err)
			return
		}
	}
}

// OpenTransfer returns the transfer a recipient's token names, with its
// event; ErrNotFound for an unknown token. A closed transfer (cancelled,
// expired, done) is returned as it stands, for the page to say so.
func (s *Service) OpenTransfer(ctx context.Context, token string) (Transfer, lottery.Event, error) {
	ts, err := s.transfers()
	if err != nil {
		return Transfer{}, lottery.Event{}, err
	}
	if token == "" || len(token) > 128 {
		return Transfer{}, lottery.Event{}, lottery.ErrNotFound
	}
	t, err := ts.TransferByToken(ctx, HashTransferToken(token), s.clock.Now())
	if err != nil {
		return Transfer{}, lottery.Event{}, err
	}
	ev, err := s.events.CachedEvent(ctx, t.EventSlug)
	if err != nil {
		return Transfer{}, lottery.Event{}, fmt.Errorf("transfer %s: %w", t.ID, err)
	}
	return t, ev, nil
}

// errTransferClosed answers a step on a transfer that can no longer go on.
func errTransferClosed(t Transfer) error {
	return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this transfer is " + t.State}
}

// openFor is OpenTransfer for a step that needs it open in want's state.
func (s *Service) openFor(ctx context.Context, token, want string) (Transfer, lottery.Event, error) {
	t, ev, err := s.OpenTransfer(ctx, token)
	if err != nil {
		return Transfer{}, lottery.Event{}, err
	}
	if !t.Open(s.clock.Now()) || t.State != want {
		return Transfer{}, lottery.Event{}, errTransferClosed(t)
	}
	return t, ev, nil
}

// TransferOTP mails the recipient (the address the giver named, never
// another) a code for the transfer's event.
func (s *Service) TransferOTP(ctx context.Context, token, lang string, client lottery.ClientInfo) error {
	if s.applicant == nil {
		return &lottery.Error{Code: lottery.CodeUnavailable, Message: "transfers are not configured"}
	}
	t, ev, err := s.openFor(ctx, token, TransferPending)
	if err != nil {
		return err
	}
	return s.applicant.TransferOTP(ctx, ev, t.ToEmail, lang, client)
}

// AcceptTransfer takes the recipient's form with their code: the same
// fields, questions and scoring as an application, in the giver's
// sub-queue, under the address the giver named; someone who already has an
// entry in the event is refused (duplicate_entry). The recipient then pays.
func (s *Service) AcceptTransfer(ctx context.Context, token string, req registration.ApplyRequest, client lottery.ClientInfo) (Transfer, error) {
	if s.applicant == nil {
		return Transfer{}, &lottery.Error{Code: lottery.CodeUnavailable, Message: "transfers are not configured"}
	}
	ts, err := s.transfers()
	if err != nil {
		return Transfer{}, err
	}
	t, ev, err := s.openFor(ctx, token, TransferPending)
	if err != nil {
		return Transfer{}, err
	}
	req.Course, req.PaceGroup, _ = strings.Cut(t.SubQueue, ":")
	req.Email = t.ToEmail
	e, otpHash, err := s.applicant.TransferEntry(ctx, ev, req, client)
	if err != nil {
		return Transfer{}, err
	}
	out, err := ts.AcceptTransfer(ctx, AcceptTx{TokenHash: HashTransferToken(token), Entry: e, OfferID: uuid.NewString(),
		OTPHash: otpHash, MaxOTPAttempts: lottery.OTPMaxAttempts, Now: s.clock.Now()})
	if err != nil {
		return Transfer{}, fmt.Errorf("accept transfer %s: %w", t.ID, err)
	}
	s.log.InfoContext(ctx, "transfer verified", "transfer_id", t.ID, "entry_id", out.ToEntry)
	return out, nil
}

// PayTransfer starts the recipient's payment of a verified transfer: the
// sub-queue's price as stored (face value; nothing else can be charged),
// by the same provider flow as an offer. A free place moves at once.
func (s *Service) PayTransfer(ctx context.Context, token, returnURL string) (lottery.Payment, Transfer, error) {
	t, _, err := s.openFor(ctx, token, TransferVerified)
	if err != nil {
		return lottery.Payment{}, Transfer{}, err
	}
	if s.payments == nil {
		return lottery.Payment{}, Transfer{}, &lottery.Error{Code: lottery.CodeUnavailable, Message: "payments are not configured"}
	}
	price, err := s.store.OfferPrice(ctx, t.ToOffer)
	if err != nil {
		return lottery.Payment{}, Transfer{}, fmt.Errorf("pay transfer %s: %w", t.ID, err)
	}
	if price.Amount == 0 {
		done, err := s.completeTransfer(ctx, t.ToOffer, "free")
		return lottery.Payment{OfferID: t.ToOffer, Status: lottery.PaymentCaptured, Currency: price.Currency}, done.Transfer, err
	}
	p, err := s.payments.CreatePayment(ctx, lottery.PaymentRequest{OfferID: t.ToOffer, AmountMinor: price.Amount, Currency: price.Currency,
		Description: "Startline slot transfer " + t.SubQueue, ReturnURL: returnURL, IdempotencyKey: "pay:" + t.ToOffer})
	if err != nil {
		return lottery.Payment{}, Transfer{}, fmt.Errorf("pay transfer %s: %w", t.ID, err)
	}
	p.OfferID = t.ToOffer
	stored, err := s.store.SavePayment(ctx, s.payments.Name(), p)
	if err != nil {
		return lottery.Payment{}, Transfer{}, fmt.Errorf("pay transfer %s: %w", t.ID, err)
	}
	stored.CheckoutURL = p.CheckoutURL
	return stored, t, nil
}

// transferPayable is Payable for a recipient's hold offer: its transfer
// is verified and open.
func (s *Service) transferPayable(ctx context.Context, offerID string) error {
	ts, err := s.transfers()
	if err != nil {
		return err
	}
	t, err := ts.TransferOfOffer(ctx, offerID)
	if err != nil {
		return err
	}
	if t.State != TransferVerified || !t.Open(s.clock.Now()) {
		return errTransferClosed(t)
	}
	return nil
}

// captureTransfer captures a recipient's authorization while the transfer
// is open and releases it otherwise.
func (s *Service) captureTransfer(ctx context.Context, provider string, p lottery.Payment) error {
	if err := s.transferPayable(ctx, p.OfferID); err != nil {
		if lottery.CodeOf(err) == lottery.CodeInternal {
			return err
		}
		return s.release(ctx, provider, p, "the transfer ended before payment")
	}
	return s.captureThen(ctx, provider, p, s.settleTransfer)
}

// settleTransfer moves the slot for a captured recipient payment; a
// capture the transfer can no longer take (cancelled, expired, the giver's
// place gone) is refunded.
func (s *Service) settleTransfer(ctx context.Context, provider string, p lottery.Payment) error {
	_, err := s.completeTransfer(ctx, p.OfferID, p.ID)
	if err != nil && lottery.CodeOf(err) != lottery.CodeInternal {
		return s.release(ctx, provider, p, "the transfer ended before payment")
	}
	return err
}

// completeTransfer moves the slot and then refunds the giver (the refund
// stays owed when the provider fails, and RetryRefunds makes it later).
func (s *Service) completeTransfer(ctx context.Context, offerID, paymentID string) (TransferDone, error) {
	ts, err := s.transfers()
	if err != nil {
		return TransferDone{}, err
	}
	done, err := ts.CompleteTransfer(ctx, offerID, paymentID, s.clock.Now())
	if err != nil {
		return TransferDone{}, fmt.Errorf("complete transfer: %w", err)
	}
	s.mailQueued(ctx, done.Mails...)
	s.log.InfoContext(ctx, "transfer completed", "transfer_id", done.Transfer.ID, "refund_minor", done.Refund.Amount.Amount)
	if done.Refund.Owed() {
		done.Refund = s.refund(ctx, done.Refund)
	}
	return done, nil
}

// RecipientReceipt is the receipt token of a verified transfer's new
// entry, for the holder of the transfer's link.
func (s *Service) RecipientReceipt(t Transfer) string {
	if t.ToEntry == "" {
		return ""
	}
	return s.keys.ReceiptToken(t.ToEntry)
}

// TransferOf returns the open transfer of an entry whose receipt the
// caller checked (the status page); ErrNotFound when it has none.
func (s *Service) TransferOf(ctx context.Context, entryID string) (Transfer, error) {
	ts, err := s.transfers()
	if err != nil {
		return Transfer{}, err
	}
	return ts.EntryTransfer(ctx, entryID, s.clock.Now())
}

// SetTransferPolicy lets an organizer of the event (the caller checked
// it: lottery.Service.ManagedEvent) set its transfer deadline, count and
// fee; audited.
func (s *Service) SetTransferPolicy(ctx context.Context, acct lottery.StaffAccount, slug string, p TransferPolicy) error {
	if err := CheckTransferPolicy(p); err != nil {
		return err
	}
	ts, err := s.transfers()
	if err != nil {
		return err
	}
	if err := ts.SetTransferPolicy(ctx, slug, p, acct.ID); err != nil {
		return fmt.Errorf("transfer policy %s: %w", slug, err)
	}
	return nil
}
