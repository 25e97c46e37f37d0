package lottery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/identity"
)

// The waiting room of ordered sub-queues: runners join a line, a worker
// admits them in line order at the sub-queue's rate while slots are free,
// and an admitted runner has AdmissionWindow to apply with the admission
// token. An accepted entry is offered a slot at once if one is free, else
// it waits, in line order, for the next released slot.
const (
	AdmissionWindow       = 10 * time.Minute
	DefaultAdmitPerMinute = 600
	MaxPrequeueMinutes    = 7 * 24 * 60
)

// TicketStatus is where a waiting-room ticket stands.
type TicketStatus string

// Ticket statuses: waiting → admitted → used (applied) or lapsed (the
// admission window ended unused); refused tickets never had a place.
const (
	TicketWaiting  TicketStatus = "waiting"
	TicketAdmitted TicketStatus = "admitted"
	TicketUsed     TicketStatus = "used"
	TicketLapsed   TicketStatus = "lapsed"
	TicketRefused  TicketStatus = "refused"
)

// CodeQueueRefused is the API code of a join that bot scoring refused.
const CodeQueueRefused = "queue_refused"

// ErrQueueRefused refuses a join that scored as automated.
var ErrQueueRefused = &Error{Code: CodeQueueRefused,
	Message: "this request looks automated and was not given a place; join from your own browser"}

// QueueTicket is one place in an ordered sub-queue's line.
type QueueTicket struct {
	ID                 string
	EventID            int64
	SubQueueID         int64
	Place              int64 // 1-based; 0 when refused or in the pre-queue
	EmailKey           string
	Status             TicketStatus
	Risk               antibot.Assessment
	ClientIP           string
	UserAgent          string
	DeviceID           string
	JoinedAt           time.Time
	AdmittedAt         *time.Time
	AdmissionExpiresAt *time.Time
	UsedAt             *time.Time
	EntryID            string
}

// QueueLine is the state of one ordered sub-queue's line.
type QueueLine struct {
	SubQueueID      int64
	EventSlug       string
	SubQueueKey     string
	AdmittedThrough int64 // the highest place admitted
	AdmitPerMinute  int
	SoldOut         bool // every slot is held by a live offer
	OpensAt         time.Time
	Opened          bool // the pre-queue has been placed; joins now take places
}

// AdmitTx is one admission pass over one line.
type AdmitTx struct {
	SubQueueID int64
	Now        time.Time
	Window     time.Duration // how long an admitted runner has to apply
	Offers     OfferTx       // for slots offered to waiting entries
}

// AdmitResult is what one admission pass did.
type AdmitResult struct {
	Lapsed          int
	Prequeued       int // tickets placed by opening the line in this pass
	Admitted        int
	AdmittedThrough int64
	SoldOut         bool
}

// QueueRef names a line an admission pass should visit.
type QueueRef struct {
	EventID    int64
	SubQueueID int64
}

// QueueStore keeps the waiting room's lines and tickets.
type QueueStore interface {
	// JoinQueue stores a ticket. Unless it is refused it takes the line's
	// next place in the same transaction once the line is open, or waits
	// in the pre-queue without a place (Place 0) before the opening, if the
	// sub-queue has one; ErrClosed (or ErrNotOpen) otherwise. lineOpen
	// says the caller knows the line is open (it never closes again),
	// which saves the pre-queue's lock.
	JoinQueue(ctx context.Context, t QueueTicket, lineOpen bool) (QueueTicket, error)
	// QueueLine returns a sub-queue's line (zero counters before the first join).
	QueueLine(ctx context.Context, subqueueID int64) (QueueLine, error)
	// QueueTicket returns a ticket; ErrNotFound.
	QueueTicket(ctx context.Context, id string) (QueueTicket, error)
	// EntryTicket returns the ticket an entry was admitted with; ErrNotFound.
	EntryTicket(ctx context.Context, entryID string) (QueueTicket, error)
	// AdmitQueue runs one admission pass in one transaction: lapse unused
	// admissions, open the line once the window has opened (placing the
	// pre-queue in random order), offer free slots to waiting entries in
	// line order, then admit the next places at the line's rate, at most
	// as many as there are free slots.
	AdmitQueue(ctx context.Context, a AdmitTx) (AdmitResult, []OfferIssue, error)
	// ActiveQueues lists the lines of events still published or closed.
	ActiveQueues(ctx context.Context) ([]QueueRef, error)
}

// JoinRequest is a runner's request for a place in a waiting room.
type JoinRequest struct {
	Course    string
	PaceGroup string
	Email     string
}

// JoinResult is a place in line and the ticket that proves it. A ticket in
// the pre-queue has no place yet (Place 0, Prequeue set): it gets one at
// OpensAt.
type JoinResult struct {
	Ticket   string
	Place    int64
	Ahead    int64
	Prequeue bool
	OpensAt  time.Time
	Risk     antibot.Assessment
}

// QueueView is what a ticket's holder sees of their place in line.
type QueueView struct {
	EventSlug          string
	SubQueue           SubQueue
	Place              int64
	Ahead              int64
	ETASeconds         int
	Admitted           bool
	AdmissionToken     string
	AdmissionExpiresAt *time.Time
	Used               bool // the admission was used to apply
	Lapsed             bool // the admission window ended unused
	SoldOut            bool
	// Prequeue: the ticket waits for the opening at OpensAt, when it gets a
	// place in random order among everyone who joined before.
	Prequeue bool
	OpensAt  time.Time
	// Ticket is the ticket re-issued with its place, once a pre-queue
	// ticket has one: polling it needs no database read.
	Ticket string
}

// PollAfter is how long a client should wait before polling again: every
// 5 s near the front (the admission pass runs every 5 s), up to 30 s far
// back, and 0 once the wait is over. The API and the page both use it.
func (v QueueView) PollAfter() int {
	if v.Admitted || v.Lapsed {
		return 0
	}
	return min(max(v.ETASeconds/4, 5), 30)
}

// JoinQueue gives a runner a place in an ordered sub-queue's line. The
// join is scored for bot behaviour: a rejected join gets no place
// (ErrQueueRefused, the decision kept for reviewers); a flagged one keeps
// its place, and the entry it leads to goes to review.
func (s *Service) JoinQueue(ctx context.Context, slug string, req JoinRequest, client ClientInfo) (JoinResult, error) {
	ev, err := s.PublicEvent(ctx, slug)
	if err != nil {
		return JoinResult{}, err
	}
	now := s.clock.Now()
	sq, err := ev.pick(req.Course, req.PaceGroup)
	if err != nil {
		return JoinResult{}, err
	}
	if sq.Mode != ModeOrdered {
		return JoinResult{}, Fieldf("pace_group", "this pace group is drawn by lottery: apply through the form, there is no line")
	}
	if err := ev.CheckJoin(now, sq); err != nil {
		return JoinResult{}, err
	}
	addr, err := identity.NormalizeEmail(req.Email)
	if err != nil {
		return JoinResult{}, Fieldf("email", "give a valid e-mail address")
	}
	risk := ev.Scorer(s.scorer).AssessQueueJoin(antibot.QueueJoinInput{UserAgent: client.UserAgent, AcceptLanguage: client.AcceptLanguage,
		DeviceCookie: client.DeviceID != "", DisposableMail: s.cfg.Disposable.IsDisposable(addr.Domain),
		Network: s.Network(client.IP)})
	id, err := uuid.NewRandomFromReader(s.random)
	if err != nil {
		return JoinResult{}, fmt.Errorf("ticket id: %w", err)
	}
	t := QueueTicket{ID: id.String(), EventID: ev.ID, SubQueueID: sq.ID, EmailKey: addr.Key, Status: TicketWaiting,
		Risk: risk, ClientIP: client.IP, UserAgent: truncate(client.UserAgent, 512), DeviceID: client.DeviceID, JoinedAt: now}
	if risk.Decision == antibot.Reject {
		t.Status = TicketRefused
	}
	line, err := s.queueLine(ctx, sq.ID)
	if err != nil {
		return JoinResult{}, err
	}
	out, err := s.store.JoinQueue(ctx, t, line.Opened)
	if err != nil {
		return JoinResult{}, fmt.Errorf("join queue %s: %w", slug, err)
	}
	if out.Status == TicketRefused {
		s.log.InfoContext(ctx, "queue join refused", "event", slug, "subqueue", sq.Key, "score", risk.Score,
			"reasons", reasonCodes(risk), "rules", risk.RulesVersion)
		return JoinResult{Risk: risk}, ErrQueueRefused
	}
	res := JoinResult{Ticket: s.ticketString(out.ID, sq.ID, out.Place), Place: out.Place, Risk: risk}
	if out.Place == 0 {
		res.Prequeue, res.OpensAt = true, ev.OpensAt
	} else {
		res.Ahead = max(0, out.Place-line.AdmittedThrough-1)
	}
	return res, nil
}

// QueueStatus answers a waiting-room poll. Polls of waiting tickets, by far
// the most, are answered from the signed ticket and a line state cached as
// briefly as events: no database read. An admitted ticket is read once to hand out
// its admission token. A forged or unknown ticket is ErrNotFound.
func (s *Service) QueueStatus(ctx context.Context, ticket string) (QueueView, error) {
	id, sqID, place, ok := s.parseTicket(ticket)
	if !ok {
		return QueueView{}, ErrNotFound
	}
	line, err := s.queueLine(ctx, sqID)
	if err != nil {
		return QueueView{}, err
	}
	v := QueueView{EventSlug: line.EventSlug, SubQueue: SubQueue{ID: sqID, Key: line.SubQueueKey}, Place: place,
		SoldOut: line.SoldOut}
	var t QueueTicket
	if place == 0 {
		// A pre-queue ticket: before the opening its answer needs nothing
		// but the line; after it, one read finds the place, and the
		// re-issued ticket spares the next polls that read.
		if !line.Opened {
			v.Prequeue, v.OpensAt = true, line.OpensAt
			v.ETASeconds = max(0, int(math.Ceil(line.OpensAt.Sub(s.clock.Now()).Seconds())))
			return v, nil
		}
		if t, err = s.store.QueueTicket(ctx, id); err != nil {
			return QueueView{}, fmt.Errorf("queue status: %w", err)
		}
		if t.Place == 0 { // refused: it never had a place
			return QueueView{}, ErrNotFound
		}
		place, v.Place, v.Ticket = t.Place, t.Place, s.ticketString(id, sqID, t.Place)
	}
	if place > line.AdmittedThrough {
		v.Ahead = place - line.AdmittedThrough - 1
		rate := max(line.AdmitPerMinute, 1)
		v.ETASeconds = int((v.Ahead+1)*60+int64(rate)-1) / rate
		return v, nil
	}
	if t.ID == "" {
		if t, err = s.store.QueueTicket(ctx, id); err != nil {
			return QueueView{}, fmt.Errorf("queue status: %w", err)
		}
	}
	switch t.Status {
	case TicketAdmitted:
		if t.AdmissionExpiresAt != nil && s.clock.Now().Before(*t.AdmissionExpiresAt) {
			v.Admitted, v.AdmissionExpiresAt = true, t.AdmissionExpiresAt
			v.AdmissionToken = s.admissionToken(t.ID, t.SubQueueID, t.EmailKey, t.Risk.Decision == antibot.Review)
		} else {
			v.Lapsed = true
		}
	case TicketUsed:
		v.Admitted, v.Used = true, true
	case TicketLapsed:
		v.Lapsed = true
	default: // a join that committed after the pass went by: the next pass admits it first
		v.Ahead = 0
		v.ETASeconds = 5
	}
	return v, nil
}

// queueLine reads a line through the same short-lived cache as events:
// every poller of a line shares one read per EventCacheTTL per process.
func (s *Service) queueLine(ctx context.Context, subqueueID int64) (QueueLine, error) {
	key := "line:" + strconv.FormatInt(subqueueID, 10)
	now := time.Now()
	s.cacheMu.RLock()
	c, ok := s.lines[key]
	s.cacheMu.RUnlock()
	if ok && now.Sub(c.at) < s.cfg.EventCacheTTL {
		return c.line, nil
	}
	v, err, _ := s.flight.Do(key, func() (any, error) {
		l, err := s.store.QueueLine(ctx, subqueueID)
		if err != nil {
			return QueueLine{}, fmt.Errorf("queue line %d: %w", subqueueID, err)
		}
		s.cacheMu.Lock()
		s.lines[key] = cachedLine{line: l, at: time.Now()}
		s.cacheMu.Unlock()
		return l, nil
	})
	return v.(QueueLine), err
}

type cachedLine struct {
	line QueueLine
	at   time.Time
}

// AdmitQueues runs one admission pass over every active line (the worker
// calls it every few seconds). A failing line does not stop the others.
func (s *Service) AdmitQueues(ctx context.Context) (int, error) {
	refs, err := s.store.ActiveQueues(ctx)
	if err != nil {
		return 0, fmt.Errorf("admit: %w", err)
	}
	total := 0
	var errs []error
	events := map[int64]Event{}
	for _, r := range refs {
		ev, ok := events[r.EventID]
		if !ok {
			if ev, err = s.store.EventByID(ctx, r.EventID); err != nil {
				errs = append(errs, err)
				continue
			}
			events[r.EventID] = ev
		}
		res, issued, err := s.store.AdmitQueue(ctx, AdmitTx{SubQueueID: r.SubQueueID, Now: s.clock.Now(),
			Window: AdmissionWindow, Offers: s.offerTx(ev, "", "")})
		s.notifyOffers(ctx, issued)
		if err != nil {
			errs = append(errs, fmt.Errorf("admit sub-queue %d: %w", r.SubQueueID, err))
			continue
		}
		total += res.Admitted
		if res.Prequeued > 0 {
			s.log.InfoContext(ctx, "waiting room opened", "subqueue_id", r.SubQueueID, "prequeued", res.Prequeued)
		}
	}
	return total, errors.Join(errs...)
}

// Tickets and admission tokens are MACed, so a poll needs no lookup to
// trust a ticket's place, and an admission token is bound to the ticket,
// the sub-queue and the e-mail address it was issued for.
const (
	ticketLen    = 16 + 8 + 8 + 16 // id, sub-queue, place, MAC
	admissionLen = 16 + 1 + 16     // id, flags, MAC
	flagReview   = 1               // the join was flagged: the entry goes to review
)

func (s *Service) ticketString(id string, subqueueID, place int64) string {
	u := uuid.MustParse(id)
	b := make([]byte, 0, ticketLen)
	b = append(b, u[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(subqueueID))
	b = binary.BigEndian.AppendUint64(b, uint64(place))
	b = append(b, s.mac(s.ticketKey, b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) parseTicket(t string) (id string, subqueueID, place int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) != ticketLen || !hmac.Equal(b[32:], s.mac(s.ticketKey, b[:32])) {
		return "", 0, 0, false
	}
	u, _ := uuid.FromBytes(b[:16])
	return u.String(), int64(binary.BigEndian.Uint64(b[16:24])), int64(binary.BigEndian.Uint64(b[24:32])), true
}

func (s *Service) admissionToken(ticketID string, subqueueID int64, emailKey string, review bool) string {
	u := uuid.MustParse(ticketID)
	b := append(make([]byte, 0, admissionLen), u[:]...)
	flags := byte(0)
	if review {
		flags |= flagReview
	}
	b = append(b, flags)
	b = append(b, s.admissionMAC(b, subqueueID, emailKey)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// checkAdmission verifies a token against the sub-queue and e-mail address
// of the application; single use and expiry are checked in the apply
// transaction.
func (s *Service) checkAdmission(token string, subqueueID int64, emailKey string) (ticketID string, review bool, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != admissionLen || !hmac.Equal(b[17:], s.admissionMAC(b[:17], subqueueID, emailKey)) {
		return "", false, false
	}
	u, _ := uuid.FromBytes(b[:16])
	return u.String(), b[16]&flagReview != 0, true
}

func (s *Service) admissionMAC(head []byte, subqueueID int64, emailKey string) []byte {
	msg := binary.BigEndian.AppendUint64(append([]byte(nil), head...), uint64(subqueueID))
	return s.mac(s.admitKey, append(msg, emailKey...))
}

func (s *Service) mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)[:16]
}

// SealAddress seals an e-mail address for a link (the waiting page's link
// to the form), so the address never appears in a URL in the clear.
func (s *Service) SealAddress(addr string) string {
	b, err := s.keys.Seal([]byte(addr), "queue/address")
	if err != nil {
		return "" // the form simply starts without the address
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// OpenAddress opens a SealAddress value; "" for anything else.
func (s *Service) OpenAddress(sealed string) string {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || sealed == "" {
		return ""
	}
	addr, err := s.keys.Open(b, "queue/address")
	if err != nil {
		return ""
	}
	return string(addr)
}
